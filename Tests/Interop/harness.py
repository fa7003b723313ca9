"""Shared harness for the interop tests: starts the real paytrackd on loopback with a temporary
datadir and gives real clients (Python grpcio over TLS, with macaroon metadata) to the tests.

Environment: PAYTRACKD (path to the daemon binary; Scripts/test sets it), PAYTRACK_CLI.
Stubs are generated from the project's own Protos/ with grpcio-tools into Tests/Interop/gen/.
"""
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GEN = Path(__file__).resolve().parent / "gen"
PAYTRACKD = os.environ.get("PAYTRACKD", str(ROOT / ".build/debug/paytrackd"))
PAYTRACK_CLI = os.environ.get("PAYTRACK_CLI", str(ROOT / ".build/debug/paytrack"))

os.environ.setdefault("GRPC_SSL_CIPHER_SUITES", "HIGH+ECDSA")  # as LND's Python docs do


def generate_stubs():
    """Compiles Protos/ into Python modules once per session; returns nothing, extends sys.path."""
    from grpc_tools import protoc  # noqa: import here so collection works without the venv
    import grpc_tools
    GEN.mkdir(exist_ok=True)
    protos = [str(p.relative_to(ROOT / "Protos")) for p in (ROOT / "Protos").rglob("*.proto")]
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    args = ["protoc", f"-I{ROOT / 'Protos'}", f"-I{include}", f"--python_out={GEN}",
            f"--grpc_python_out={GEN}"] + protos
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on Protos/")
    if str(GEN) not in sys.path:
        sys.path.insert(0, str(GEN))


# Every daemon started in this session: (datadir, flags). conftest.py greps all their logs for all
# their secrets when the session ends (log_secrets.py).
STARTED = []


# Ports handed out by free_port in this session: a port is given once, so two listeners of one
# test never collide even when the first has not bound yet.
_ISSUED = set()
# Below Linux's ephemeral range (ip_local_port_range, 32768-60999 by default), so an outgoing
# connection's local port (a client's, or a daemon's to PostgreSQL) cannot take a port between
# free_port returning it and the daemon binding it. Where a run starts is spread by pid so that
# two test runs on one machine rarely try the same ports.
_PORT_LOW, _PORT_HIGH = 20000, 32767
_next_port = _PORT_LOW + (os.getpid() * 7919) % (_PORT_HIGH - _PORT_LOW)


def free_port():
    """A loopback TCP port nobody listens on now and that this session has not handed out before."""
    global _next_port
    for _ in range(_PORT_HIGH - _PORT_LOW):
        port = _next_port
        _next_port = _PORT_LOW if _next_port >= _PORT_HIGH else _next_port + 1
        if port in _ISSUED:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ISSUED.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {_PORT_LOW}-{_PORT_HIGH}")


class Daemon:
    """One paytrackd process. `args` are extra flags; the datadir and --rpclisten are set here."""

    def __init__(self, datadir, *args, no_macaroons=False, network="testnet", debuglevel="debug"):
        self.datadir = Path(datadir)
        self.debuglevel = debuglevel
        self.port = free_port()
        self.rest_port = free_port()
        self.kdf_port = free_port()
        self.network = network
        self.args = list(args)
        if no_macaroons:
            self.args.append("--no-macaroons")
        self.proc = None
        self.log_path = self.datadir / "paytrackd.test.log"
        self.debuglevel = "debug"     # the campaigns under Benchmarks/reliability lower it

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    @property
    def rest_target(self):
        return f"127.0.0.1:{self.rest_port}"

    @property
    def rest_url(self):
        return f"https://127.0.0.1:{self.rest_port}"

    @property
    def kdf_url(self):
        """The Komodo API (mmrpc 2.0) of this daemon's primary node."""
        return f"http://127.0.0.1:{self.kdf_port}/"

    @property
    def kdf_password(self):
        return (self.datadir / "kdf" / "rpc_password").read_text().strip()

    @property
    def cert_path(self):
        return self.datadir / "tls.cert"

    def macaroon_path(self, name="admin"):
        return self.datadir / "data" / "chain" / "bitcoin" / self.network / f"{name}.macaroon"

    def macaroon_hex(self, name="admin"):
        return self.macaroon_path(name).read_bytes().hex()

    def start(self, timeout=30):
        self.datadir.mkdir(parents=True, exist_ok=True)
        cmd = [PAYTRACKD, "--datadir", str(self.datadir), "--rpclisten", self.target,
               "--restlisten", self.rest_target,
               "--kdf.rpclisten", f"127.0.0.1:{self.kdf_port}",
               "--network", self.network, "--debuglevel", self.debuglevel] + self.args
        start_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        if (self.datadir, self.args) not in STARTED:
            STARTED.append((self.datadir, list(self.args)))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"paytrackd exited with {self.proc.returncode}:\n{self.read_log()}")
            if self.cert_path.exists() and self._tls_ready() and b"LTND: ready" in self.log_path.read_bytes()[start_offset:]:
                return self
            time.sleep(0.05)
        raise TimeoutError(f"paytrackd did not listen on {self.target}:\n{self.read_log()}")

    def _tls_ready(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                with ctx.wrap_socket(s) as t:
                    return t.selected_alpn_protocol() == "h2"
        except OSError:
            return False

    def read_log(self):
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def channel(self, macaroon="admin", options=None):
        """A grpcio secure channel pinned to the daemon's cert, sending ('macaroon', hex) metadata
        exactly as LND's Python sample does. macaroon=None sends none; bytes/str are sent as given."""
        import grpc
        creds = grpc.ssl_channel_credentials(self.cert_path.read_bytes())
        if macaroon is not None:
            mac = macaroon if isinstance(macaroon, str) and not macaroon.isidentifier() else None
            if mac is None:
                mac = self.macaroon_hex(macaroon) if isinstance(macaroon, str) else macaroon.hex()

            def plugin(context, callback):
                callback([("macaroon", mac)], None)
            creds = grpc.composite_channel_credentials(creds, grpc.metadata_call_credentials(plugin))
        opts = [("grpc.ssl_target_name_override", "localhost")] + list(options or [])
        return grpc.secure_channel(self.target, creds, options=opts)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
