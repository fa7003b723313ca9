"""Starts a throwaway paytrackd for the reliability campaigns: a temporary datadir, a free port,
--no-macaroons, regtest, no simulated latency; stdout and stderr to DATADIR/paytrackd.log."""
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def start_daemon(binary, ready, extra=()):
    """Returns (process, port, datadir) once `ready(port)` stops raising OSError (30 s at most)."""
    work = Path(tempfile.mkdtemp(prefix="reliability-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(work / "paytrackd.log", "wb")
    proc = subprocess.Popen([binary, "--datadir", str(work), "--rpclisten", f"127.0.0.1:{port}", "--no-macaroons",
                             "--network", "regtest", "--sim.latency", "0", "--debuglevel", "warn", *extra],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            ready(port)
            return proc, port, work
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((work / "paytrackd.log").read_text())
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("paytrackd did not start")
