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


def rss_bytes(pid):
    """The process's resident set (VmRSS of /proc/PID/status), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for {pid}")


def open_fds(pid):
    """How many file descriptors the process has open (entries of /proc/PID/fd)."""
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def loadavg():
    """The 1, 5 and 15 minute load averages as text."""
    import os
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
