"""OUR gRPC client (GRPCTestServer `client` mode) against a Python grpcio server over TLS."""
import subprocess
import time
from concurrent import futures

import grpc
import pytest

from test_transport_fixtures import SERVER_BIN, make_certs, pb, pb_grpc


class PyTestService(pb_grpc.TestServiceServicer):
    def __init__(self):
        self.cancelled = 0

    def UnaryEcho(self, request, context):
        if request.fail_code:
            context.abort(grpc.StatusCode(
                [c for c in grpc.StatusCode if c.value[0] == request.fail_code][0]), request.message)
        if request.delay_ms:
            time.sleep(request.delay_ms / 1000)
        md = [f"{k}={v.hex() if isinstance(v, bytes) else v}" for k, v in context.invocation_metadata()]
        return pb.EchoResponse(message=request.message, payload=b"\xab" * request.size, metadata=md)

    def StreamEcho(self, request, context):
        for i in range(request.count):
            yield pb.EchoResponse(message=request.message, index=i, payload=b"\xab" * request.size)

    def SlowStream(self, request, context):
        # grpcio may close this generator at its `yield` when the RPC is cancelled (GeneratorExit)
        # instead of letting the loop see is_active() turn false: count in `finally`.
        i = 0
        try:
            while context.is_active():
                yield pb.EchoResponse(message=request.message, index=i)
                i += 1
                time.sleep(max(request.delay_ms, 1) / 1000)
        finally:
            if not context.is_active():
                self.cancelled += 1


@pytest.fixture
def py_server(tmp_path):
    cert, key = make_certs(tmp_path)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    svc = PyTestService()
    pb_grpc.add_TestServiceServicer_to_server(svc, server)
    creds = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    yield port, cert, tmp_path, svc
    server.stop(0)


def run_client(port, cert, *args, timeout=20):
    p = subprocess.run([str(SERVER_BIN), "client", "--target", f"127.0.0.1:{port}", "--cacert", str(cert), *args],
                       capture_output=True, text=True, timeout=timeout)
    lines = p.stdout.splitlines()
    status = [l for l in lines if l.startswith("STATUS")]
    assert status, (p.stdout, p.stderr)
    code = int(status[-1].split()[1])
    msg = status[-1].split(" ", 2)[2] if len(status[-1].split(" ", 2)) > 2 else ""
    return code, msg, [l for l in lines if l.startswith("MSG")]


def test_client_unary(py_server):
    port, cert, _, _ = py_server
    code, _, msgs = run_client(port, cert, "unary", "hi", "0", "100")
    assert code == 0
    assert msgs == ["MSG 0 hi 100"]


def test_client_error_status_and_message(py_server):
    port, cert, _, _ = py_server
    code, msg, msgs = run_client(port, cert, "--fail-code", "5", "unary", "payment isn't initiated: é 100%")
    assert code == 5 and msgs == []
    assert msg == "payment isn't initiated: é 100%"


def test_client_server_streaming(py_server):
    port, cert, _, _ = py_server
    code, _, msgs = run_client(port, cert, "stream", "s", "500", "2000")
    assert code == 0
    assert len(msgs) == 500
    assert msgs[0] == "MSG 0 s 2000" and msgs[-1] == "MSG 499 s 2000"


def test_client_deadline(py_server):
    port, cert, _, _ = py_server
    t0 = time.time()
    code, _, _ = run_client(port, cert, "--timeout-ms", "200", "unary", "x", "0", "0", "2000")
    assert code == 4  # DEADLINE_EXCEEDED
    assert time.time() - t0 < 2.0


def test_client_cancel_mid_stream(py_server):
    port, cert, _, svc = py_server
    code, _, msgs = run_client(port, cert, "--cancel-after", "3", "slow", "x", "0", "0", "20")
    assert code == 1  # CANCELLED
    assert len(msgs) >= 3
    deadline = time.time() + 5
    while svc.cancelled == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert svc.cancelled == 1, "grpcio server did not see the cancellation"


def test_client_metadata_reaches_server(py_server):
    port, cert, _, _ = py_server
    p = subprocess.run([str(SERVER_BIN), "client", "--target", f"127.0.0.1:{port}", "--cacert", str(cert),
                        "--meta", "x-one=1", "--meta", "blob-bin=abc", "unary", "m"],
                       capture_output=True, text=True, timeout=20)
    lines = p.stdout.splitlines()
    assert "MD x-one=1" in lines
    assert "MD blob-bin=" + b"abc".hex() in lines  # -bin sent base64, decoded by grpcio to bytes
    assert any(l.startswith("MD user-agent=") and "paytrack-grpc" in l for l in lines)
    assert lines[-1] == "STATUS 0 "


def test_client_rejects_unpinned_certificate(py_server):
    port, _, tmp, _ = py_server
    other = tmp / "other.cert"   # a different self-signed cert: pinning must fail the handshake
    code, msg, _ = run_client(port, other, "unary", "hi")
    assert code == 14, msg
