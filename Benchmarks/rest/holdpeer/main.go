// The gRPC backend of the peer pair in Benchmarks/rest (b): routerrpc.Router/TrackPaymentV2 on
// grpc-go (Debian's 1.33.3, the bench peers' generated routerrpc/lnrpc packages, copied at build
// time) for ONE payment that stays in flight: every call gets the IN_FLIGHT snapshot (one HTLC in
// flight) at once, then, when the payment settles (-settle-after from start), the SUCCEEDED snapshot,
// and the stream ends OK — as lnd's TrackPaymentV2 does. Each stream marshals its own copy of each
// update (grpc-go's Send), as lnd does per subscriber. The settle is logged like paytrackd's CRTR
// debug line: `published payment <hex> status=2 ... published_at_ns=<CLOCK_REALTIME ns>`.
// Written for this benchmark; it is not the bench peers' server (that one serves finished payments only).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"lndpeer/lnrpc"
	"lndpeer/routerrpc"
)

type server struct {
	routerrpc.UnimplementedRouterServer
	hash        [32]byte
	inflight    *lnrpc.Payment
	succeeded   *lnrpc.Payment
	settled     chan struct{}
	streams     int64
	noMacaroons bool
}

func payment(preimage, hash [32]byte, settled bool) *lnrpc.Payment {
	const valueSat, feeMsat = 10000, 1005
	creation := time.Now().UnixNano()
	htlc := &lnrpc.HTLCAttempt{
		AttemptId: 1,
		Status:    lnrpc.HTLCAttempt_IN_FLIGHT,
		Route: &lnrpc.Route{
			TotalTimeLock: 800144, TotalFees: 1, TotalAmt: valueSat + 1,
			TotalFeesMsat: feeMsat, TotalAmtMsat: valueSat*1000 + feeMsat,
			Hops: []*lnrpc.Hop{
				{ChanId: 868614185943040000, ChanCapacity: 5000000, AmtToForward: valueSat, Fee: 1, Expiry: 800104,
					AmtToForwardMsat: valueSat * 1000, FeeMsat: feeMsat, PubKey: "02" + hex.EncodeToString(hash[:]), TlvPayload: true},
				{ChanId: 869713697570816001, ChanCapacity: 5000000, AmtToForward: valueSat, Fee: 0, Expiry: 800064,
					AmtToForwardMsat: valueSat * 1000, FeeMsat: 0, PubKey: "03" + hex.EncodeToString(preimage[:]), TlvPayload: true},
			},
		},
		AttemptTimeNs: creation,
	}
	p := &lnrpc.Payment{
		PaymentHash: hex.EncodeToString(hash[:]), Value: valueSat, CreationDate: creation / 1e9,
		ValueSat: valueSat, ValueMsat: valueSat * 1000, Status: lnrpc.Payment_IN_FLIGHT,
		PaymentRequest: "lntb100u1holdpeer" + hex.EncodeToString(hash[:]) + hex.EncodeToString(preimage[:]),
		CreationTimeNs: creation, Htlcs: []*lnrpc.HTLCAttempt{htlc}, PaymentIndex: 1,
	}
	if settled {
		p.Status = lnrpc.Payment_SUCCEEDED
		p.Fee, p.FeeSat, p.FeeMsat = 1, 1, feeMsat
		p.PaymentPreimage = hex.EncodeToString(preimage[:])
		htlc.Status = lnrpc.HTLCAttempt_SUCCEEDED
		htlc.ResolveTimeNs = time.Now().UnixNano()
		htlc.Preimage = preimage[:]
	}
	return p
}

func (s *server) TrackPaymentV2(req *routerrpc.TrackPaymentRequest, stream routerrpc.Router_TrackPaymentV2Server) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	if !s.noMacaroons && len(md.Get("macaroon")) == 0 {
		return status.Error(codes.Unauthenticated, "expected 1 macaroon, got 0")
	}
	if len(req.PaymentHash) != 32 || *(*[32]byte)(req.PaymentHash) != s.hash {
		return status.Error(codes.NotFound, "payment isn't initiated")
	}
	atomic.AddInt64(&s.streams, 1)
	defer atomic.AddInt64(&s.streams, -1)
	select {
	case <-s.settled:
	default:
		if err := stream.Send(s.inflight); err != nil {
			return err
		}
		select {
		case <-s.settled:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
	return stream.Send(s.succeeded)
}

func main() {
	port := flag.Int("port", 10009, "port on 127.0.0.1")
	certPath := flag.String("cert", "tls.cert", "TLS certificate (PEM)")
	keyPath := flag.String("key", "tls.key", "TLS private key (PEM)")
	settleAfter := flag.Duration("settle-after", 60*time.Second, "the payment settles this long after start")
	settleAt := flag.Int64("settle-at", 0, "if > 0: the payment settles at this CLOCK_REALTIME (Unix ns) instead, so that several peers settle together")
	noMacaroons := flag.Bool("nomacaroons", false, "accept calls without a macaroon (as paytrackd --no-macaroons)")
	flag.Parse()
	if *settleAt > 0 {
		*settleAfter = time.Until(time.Unix(0, *settleAt))
	}
	preimage := sha256.Sum256([]byte("holdpeer-preimage"))
	s := &server{hash: sha256.Sum256(preimage[:]), settled: make(chan struct{}), noMacaroons: *noMacaroons}
	s.inflight = payment(preimage, s.hash, false)
	s.succeeded = payment(preimage, s.hash, true)
	creds, err := credentials.NewServerTLSFromFile(*certPath, *keyPath)
	if err != nil {
		log.Fatalf("tls: %v", err)
	}
	gs := grpc.NewServer(grpc.Creds(creds))
	routerrpc.RegisterRouterServer(gs, s)
	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	log.Printf("holdpeer on %s hash=%x settles in %v pid=%d", lis.Addr(), s.hash, *settleAfter, os.Getpid())
	time.AfterFunc(*settleAfter, func() {
		s.succeeded = payment(preimage, s.hash, true)
		at := time.Now().UnixNano()
		close(s.settled)
		log.Printf("published payment %x status=2 htlcs=1 inflight=0 settled=1 failed=0 subscribers=%d published_at_ns=%d",
			s.hash, atomic.LoadInt64(&s.streams), at)
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; gs.Stop() }()
	if err := gs.Serve(lis); err != nil {
		log.Fatalf("serve: %v", err)
	}
}
