"""Fixtures and helpers for the transport/gRPC interop tests (test_transport_*.py).

They start Tests/Support/GRPCTestServer (the real Transport+GRPC stack, built at
.build/debug/GRPCTestServer) on loopback with throwaway certificates from certs/make-test-certs.sh,
and talk to it with real clients: Python grpcio over TLS, nghttp, h2load, raw sockets.
This module holds no tests; other files import it.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_BIN = Path(os.environ.get("GRPC_TEST_SERVER", ROOT / ".build/debug/GRPCTestServer"))
SUPPORT = ROOT / "Tests/Support/GRPCTestServer"
os.environ.setdefault("GRPC_SSL_CIPHER_SUITES", "HIGH+ECDSA")

_GEN = Path(tempfile.mkdtemp(prefix="paytrack-transport-gen-"))


def _gen_stubs():
    from grpc_tools import protoc
    rc = protoc.main(["protoc", f"-I{SUPPORT}", f"--python_out={_GEN}", f"--grpc_python_out={_GEN}",
                      str(SUPPORT / "test_service.proto")])
    if rc != 0:
        raise RuntimeError("protoc failed on test_service.proto")
    sys.path.insert(0, str(_GEN))


_gen_stubs()
import test_service_pb2 as pb  # noqa: E402
import test_service_pb2_grpc as pb_grpc  # noqa: E402


def make_certs(directory):
    subprocess.run([str(ROOT / "certs/make-test-certs.sh"), str(directory)], check=True, capture_output=True)
    return Path(directory) / "tls.cert", Path(directory) / "tls.key"


class TestServer:
    """One GRPCTestServer process."""

    __test__ = False  # not a pytest test class

    def __init__(self, certdir, *extra):
        self.cert, self.key = make_certs(certdir)
        self.args = [str(SERVER_BIN), "--cert", str(self.cert), "--key", str(self.key), "--port", "0",
                     "--descriptor-set", str(SUPPORT / "test_service.pb"), *extra]
        self.proc = None
        self.port = None
        self.log = Path(certdir) / "server.log"

    def start(self):
        if not SERVER_BIN.exists():
            raise RuntimeError(f"{SERVER_BIN} missing: run `swift build --product GRPCTestServer`")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("LISTENING"):
            raise RuntimeError(f"server did not start: {line!r} {self.log.read_text()}")
        self.port = int(line.split()[1])
        return self

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    def channel(self, **options):
        import grpc
        creds = grpc.ssl_channel_credentials(self.cert.read_bytes())
        opts = [("grpc.ssl_target_name_override", "localhost")] + list(options.items())
        return grpc.secure_channel(self.target, creds, options=opts)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc


@pytest.fixture
def grpc_server(tmp_path):
    """A running GRPCTestServer (max receive 64 KiB, bench Router service, macaroon required on it)."""
    s = TestServer(tmp_path, "--max-recv", "65536", "--require-macaroon",
                   "--bench-payment", str(ROOT / "Benchmarks/transport/payment0.grpc")).start()
    yield s
    s.stop()
    assert s.proc.returncode == 0, s.log.read_text()


@pytest.fixture
def stub(grpc_server):
    ch = grpc_server.channel()
    yield pb_grpc.TestServiceStub(ch)
    ch.close()


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()
