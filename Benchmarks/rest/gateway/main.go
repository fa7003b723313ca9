// LND's REST architecture for Benchmarks/rest: a grpc-gateway (v1, Debian's golang-grpc-gateway
// 1.6.4) reverse proxy that dials a gRPC server over TLS and serves LND's REST path
// GET /v2/router/track/{payment_hash} over TLS (HTTP/1.1 keep-alive or h2 by ALPN), as lnd's
// startRestProxy does: JSONPb marshaler with OrigName + EmitDefaults (lnd's settings with the v1
// gateway), the macaroon forwarded from the Grpc-Metadata-macaroon header as gRPC metadata.
// Built by Benchmarks/rest/build-gateway in a temp GOPATH together with the bench peers' generated
// routerrpc package and the gateway code protoc-gen-grpc-gateway generates from it; never vendored here.
// With -ws the mux is wrapped, as lnd wraps it, in a WebSocket proxy: Debian's tmc/grpc-websocket-proxy
// (the package lnd's lnrpc/websocket_proxy.go derives from), `?method=` override, Grpc-Metadata-*
// headers forwarded; each NDJSON line of a stream is one text message. No pings: tmc's ping loop
// closes the socket when the call ends, racing the last message (lost on 12 of 200 streams in a trial).
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/grpc-ecosystem/grpc-gateway/runtime"
	"github.com/tmc/grpc-websocket-proxy/wsproxy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"lndpeer/routerrpc"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "REST host:port")
	backend := flag.String("grpc", "127.0.0.1:10009", "gRPC server host:port (TLS)")
	certPath := flag.String("cert", "tls.cert", "TLS certificate (PEM): served, and trusted for the gRPC dial")
	keyPath := flag.String("key", "tls.key", "TLS private key (PEM)")
	ws := flag.Bool("ws", false, "wrap the mux in the WebSocket proxy (lnd always does; (a) runs without it)")
	flag.Parse()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// lnd: restDialOpts = TLS credentials from its own cert + max receive size.
	creds, err := credentials.NewClientTLSFromFile(*certPath, "")
	if err != nil {
		log.Fatalf("client tls: %v", err)
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1 * 1024 * 1024 * 200)),
	}
	mux := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard,
		&runtime.JSONPb{OrigName: true, EmitDefaults: true}))
	if err := routerrpc.RegisterRouterHandlerFromEndpoint(ctx, mux, *backend, dialOpts); err != nil {
		log.Fatalf("register: %v", err)
	}

	cert, err := tls.LoadX509KeyPair(*certPath, *keyPath)
	if err != nil {
		log.Fatalf("server tls: %v", err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	lis, err := tls.Listen("tcp", *listen, tlsConf)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	var handler http.Handler = mux
	if *ws {
		handler = wsproxy.WebsocketProxy(mux,
			wsproxy.WithForwardedHeaders(func(h string) bool {
				l := strings.ToLower(h)
				return strings.HasPrefix(l, "grpc-metadata-") || l == "origin" || l == "referer"
			}),
			wsproxy.WithMaxRespBodyBufferSize(4*1024*1024))
	}
	srv := &http.Server{Handler: handler}
	log.Printf("grpc-gateway listening on %s -> %s pid=%d", lis.Addr(), *backend, os.Getpid())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; srv.Close() }()
	if err := srv.Serve(lis); err != nil && err != http.ErrServerClosed {
		log.Fatalf("serve: %v", err)
	}
}
