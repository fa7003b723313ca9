"""Transport-level behaviour against real peers: health, reflection, nghttp, h2load, hostile
bytes, keepalive enforcement, graceful shutdown (GRPCTestServer; see test_transport_fixtures)."""
import os
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time

import grpc
import pytest

from test_transport_fixtures import ROOT, TestServer, grpc_server, stub, pb, pb_grpc, wait_for  # noqa: F401

BENCH = ROOT / "Benchmarks/transport"


# MARK: health and reflection

def test_health_check_and_watch(grpc_server):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    ch = grpc_server.channel()
    h = health_pb2_grpc.HealthStub(ch)
    assert h.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    assert h.Check(health_pb2.HealthCheckRequest(service="paytrack.test.TestService")).status == 1
    with pytest.raises(grpc.RpcError) as e:
        h.Check(health_pb2.HealthCheckRequest(service="nope"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    watch = h.Watch(health_pb2.HealthCheckRequest(service=""))
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    unknown = h.Watch(health_pb2.HealthCheckRequest(service="nope"))
    assert next(unknown).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
    watch.cancel(); unknown.cancel()
    ch.close()


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_lists_services_and_files(grpc_server, version):
    from google.protobuf import descriptor_pb2
    # v1 and v1alpha share the wire format; the installed grpcio-reflection only ships v1alpha
    # classes, so v1 is called by path with the same messages.
    from grpc_reflection.v1alpha import reflection_pb2 as r
    ch = grpc_server.channel()
    info = ch.stream_stream(f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                            request_serializer=r.ServerReflectionRequest.SerializeToString,
                            response_deserializer=r.ServerReflectionResponse.FromString)
    reqs = [r.ServerReflectionRequest(list_services=""),
            r.ServerReflectionRequest(file_containing_symbol="paytrack.test.TestService"),
            r.ServerReflectionRequest(file_containing_symbol="paytrack.test.EchoRequest"),
            r.ServerReflectionRequest(file_by_filename="test_service.proto"),
            r.ServerReflectionRequest(file_containing_symbol="no.such.Symbol")]
    resps = list(info(iter(reqs)))
    assert len(resps) == 5
    names = {s.name for s in resps[0].list_services_response.service}
    assert {"paytrack.test.TestService", "grpc.health.v1.Health", "routerrpc.Router",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} <= names
    for resp in resps[1:4]:
        fd = descriptor_pb2.FileDescriptorProto.FromString(resp.file_descriptor_response.file_descriptor_proto[0])
        assert fd.name == "test_service.proto" and fd.package == "paytrack.test"
        assert [m.name for m in fd.service[0].method] == ["UnaryEcho", "StreamEcho", "SlowStream", "Stats"]
    assert resps[4].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    ch.close()


def test_grpcio_reflection_client_lists_services(grpc_server):
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    ch = grpc_server.channel()
    db = ProtoReflectionDescriptorDatabase(ch)
    services = db.get_services()
    assert "paytrack.test.TestService" in services
    fd = db.FindFileContainingSymbol("paytrack.test.TestService")
    assert fd.name == "test_service.proto"
    ch.close()


# MARK: nghttp / h2load

def _nghttp(server, path, *headers):
    args = ["nghttp", "-v", "-H", ":method: POST", "-d", str(BENCH / "track0.bin")]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [f"https://127.0.0.1:{server.port}{path}"], capture_output=True,
                         timeout=20).stdout
    return out.decode("utf-8", "replace")


def test_nghttp_track_payment_shape(grpc_server):
    out = _nghttp(grpc_server, "/routerrpc.Router/TrackPaymentV2", "content-type: application/grpc",
                  "te: trailers", "macaroon: 0201")
    assert "recv (stream_id=13) :status: 200" in out
    assert "recv DATA frame <length=820" in out
    assert "grpc-status: 0" in out


def test_nghttp_bad_content_type_is_415(grpc_server):
    out = _nghttp(grpc_server, "/paytrack.test.TestService/UnaryEcho", "content-type: text/plain")
    assert ":status: 415" in out
    assert "grpc-status: 3" in out
    out = _nghttp(grpc_server, "/paytrack.test.TestService/UnaryEcho")   # no content-type at all
    assert ":status: 415" in out


def test_h2load_many_connections_and_streams(grpc_server):
    mac = (BENCH / "macaroon.hex").read_text().strip()
    out = subprocess.run(["h2load", "-n", "20000", "-c", "8", "-m", "32", "-d", str(BENCH / "track0.bin"),
                          "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", f"macaroon: {mac}",
                          f"https://127.0.0.1:{grpc_server.port}/routerrpc.Router/TrackPaymentV2"],
                         capture_output=True, text=True, timeout=120).stdout
    assert "20000 succeeded, 0 failed, 0 errored" in out, out
    assert "Application protocol: h2" in out
    # every call returned exactly one 820-byte message
    data = [l for l in out.splitlines() if l.startswith("traffic:")][0]
    assert f"({20000 * 820}) data" in data, data


# MARK: hostile peers never crash the server

def _tls_client():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    return ctx


def test_garbage_plaintext_and_aborted_handshakes(grpc_server, stub):
    port = grpc_server.port
    for payload in [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(4096), b"\x16\x03\x01\x00\x05hello",
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b""]:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(payload)
            s.settimeout(5)
            try:
                s.recv(100)    # the server answers with an alert or closes; it must not hang or die
            except (ConnectionResetError, socket.timeout):
                pass
    # A handshake aborted halfway: send a real ClientHello, then close.
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = _tls_client().wrap_bio(incoming, outgoing)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = outgoing.read()
    assert hello[0] == 0x16  # a TLS handshake record
    for cut in (len(hello) // 2, len(hello)):
        raw = socket.create_connection(("127.0.0.1", port))
        raw.sendall(hello[:cut])
        if cut == len(hello):
            raw.settimeout(5)
            assert raw.recv(5)[0] == 0x16   # ServerHello arrives; then we vanish mid-handshake
        raw.close()
    # TLS fine but garbage instead of the HTTP/2 preface.
    with _tls_client().wrap_socket(socket.create_connection(("127.0.0.1", port))) as t:
        assert t.selected_alpn_protocol() == "h2"
        t.sendall(b"this is not http/2 at all" * 10)
        t.settimeout(5)
        try:
            while t.recv(4096):
                pass
        except (ConnectionResetError, ssl.SSLError, socket.timeout):
            pass
    # TLS without ALPN h2 is refused (gRPC requires h2).
    ctx = _tls_client(); ctx.set_alpn_protocols(["http/1.1"])
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) as t:
            t.sendall(b"GET / HTTP/1.1\r\n\r\n"); t.recv(10)
    assert grpc_server.alive()
    assert stub.UnaryEcho(pb.EchoRequest(message="still here")).message == "still here"


def test_tls12_ecdhe_ecdsa_only(grpc_server):
    ctx = _tls_client()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", grpc_server.port))) as t:
        assert t.version() == "TLSv1.2"
        assert t.cipher()[0].startswith("ECDHE-ECDSA-")
    ctx = _tls_client()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        ctx.wrap_socket(socket.create_connection(("127.0.0.1", grpc_server.port))).close()


def test_tls13_prefers_aes128_gcm_like_go(grpc_server):
    # Python's OpenSSL offers TLS_AES_256_GCM_SHA384 first; the server's order decides, as Go's
    # crypto/tls (LND) does on AES-NI hardware: AES-128-GCM. A client offering only another
    # TLS 1.3 suite still gets it.
    with _tls_client().wrap_socket(socket.create_connection(("127.0.0.1", grpc_server.port))) as t:
        assert t.version() == "TLSv1.3"
        assert t.cipher()[0] == "TLS_AES_128_GCM_SHA256"
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{grpc_server.port}", "-tls1_3",
                          "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "-alpn", "h2"],
                         input=b"", capture_output=True, timeout=20)
    assert b"TLS_CHACHA20_POLY1305_SHA256" in out.stdout, out.stdout[-2000:]


# MARK: keepalive enforcement (raw HTTP/2 over TLS)

def _frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def _read_frames(t, until_type, timeout=5):
    t.settimeout(timeout)
    buf = b""
    frames = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            chunk = t.recv(65536)
        except (socket.timeout, ssl.SSLError, ConnectionResetError):
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            frames.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]))
            buf = buf[9 + n:]
        if any(f[0] == until_type for f in frames):
            break
    return frames


def test_ping_flood_without_streams_gets_goaway_enhance_your_calm(grpc_server, stub):
    with _tls_client().wrap_socket(socket.create_connection(("127.0.0.1", grpc_server.port))) as t:
        t.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0))
        for i in range(5):
            t.sendall(_frame(6, 0, 0, struct.pack(">Q", i)))
        frames = _read_frames(t, 7)
        goaway = [f for f in frames if f[0] == 7]
        assert goaway, frames
        code = struct.unpack(">I", goaway[0][3][4:8])[0]
        assert code == 0xB  # ENHANCE_YOUR_CALM
        assert goaway[0][3][8:] == b"too_many_pings"
    assert stub.UnaryEcho(pb.EchoRequest(message="ok")).message == "ok"


def test_server_keepalive_ping(tmp_path):
    s = TestServer(tmp_path, "--keepalive-ms", "300").start()
    try:
        with _tls_client().wrap_socket(socket.create_connection(("127.0.0.1", s.port))) as t:
            t.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0))
            frames = _read_frames(t, 6, timeout=3)
            pings = [f for f in frames if f[0] == 6 and f[1] == 0]
            assert pings, "server sent no keepalive PING"
            # Do not answer: the server closes the connection after the timeout.
            t.settimeout(3)
            closed = False
            try:
                while True:
                    d = t.recv(4096)
                    if not d:
                        closed = True
                        break
            except (ConnectionResetError, ssl.SSLError):
                closed = True
            except socket.timeout:
                pass
            assert closed, "unanswered keepalive ping did not close the connection"
    finally:
        assert s.stop() == 0


# MARK: graceful shutdown

def test_sigterm_drains_unary_and_ends_streams_unavailable(tmp_path):
    s = TestServer(tmp_path, "--grace-ms", "5000").start()
    ch = s.channel()
    st = pb_grpc.TestServiceStub(ch)
    assert st.UnaryEcho(pb.EchoRequest(message="warm")).message == "warm"
    stream = st.SlowStream(pb.EchoRequest(message="s", delay_ms=50))
    assert next(stream).index == 0
    slow_unary = st.UnaryEcho.future(pb.EchoRequest(message="in flight", delay_ms=700))
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    assert slow_unary.result(timeout=10).message == "in flight"
    with pytest.raises(grpc.RpcError) as e:
        for _ in stream:
            pass
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert s.proc.wait(timeout=10) == 0
    ch.close()


def _lit(name, value):
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def test_lost_connection_cancels_streaming_handler(grpc_server, stub):
    before = stub.Stats(pb.StatsRequest()).cancelled
    block = (_lit(":method", "POST") + _lit(":scheme", "https") + _lit(":path", "/paytrack.test.TestService/SlowStream")
             + _lit(":authority", "x") + _lit("content-type", "application/grpc") + _lit("te", "trailers"))
    req = pb.EchoRequest(message="gone", delay_ms=10).SerializeToString()
    body = b"\x00" + struct.pack(">I", len(req)) + req
    t = _tls_client().wrap_socket(socket.create_connection(("127.0.0.1", grpc_server.port)))
    t.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0) + _frame(1, 4, 1, block) + _frame(0, 1, 1, body))
    frames = _read_frames(t, 0)
    assert any(f[0] == 0 and f[2] == 1 for f in frames), frames   # the stream is producing DATA
    t.close()                                                      # vanish without RST_STREAM or GOAWAY
    assert wait_for(lambda: stub.Stats(pb.StatsRequest()).cancelled > before)
    assert grpc_server.alive()
