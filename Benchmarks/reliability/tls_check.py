#!/usr/bin/env python3
"""Campaign (f) of issue 17: paytrackd's TLS against LND's server configuration.

LND's tls.Config (lnd's cert package): MinVersion TLS 1.2; TLS 1.2 suites limited to
ECDHE-ECDSA with AES128-CBC-SHA256, AES128-GCM-SHA256, AES256-GCM-SHA384 and CHACHA20-POLY1305;
TLS 1.3 with Go's three suites (AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305; Go offers no CCM);
ALPN h2; no renegotiation (Go's server never renegotiates).

Checks, each a row of the table: every protocol version (SSLv3 ... TLS 1.3) offered alone; every
TLS 1.2 cipher suite this OpenSSL knows, offered alone (the accepted set must be exactly LND's
four); every TLS 1.3 suite offered alone; ALPN; TLS compression; a client-initiated renegotiation
(openssl s_client's `R`); a handshake that never finishes (a TCP connection that sends nothing, and
one that sends half a ClientHello) must be dropped by the server, and the time it takes is
measured; while 200 such stalled handshakes are open, a normal handshake still completes.

One command: `Benchmarks/reliability/tls_check.py` (starts the debug or $PAYTRACKD daemon like
h2_conformance.py; `--target HOST:PORT` for a running one). Exits 1 if any check fails.
"""
import argparse
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from daemon import start_daemon

ROOT = Path(__file__).resolve().parents[2]
LND_TLS12 = {"ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
             "ECDHE-ECDSA-CHACHA20-POLY1305"}
GO_TLS13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
ALL_TLS13 = GO_TLS13 | {"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}


def s_client(host, port, *args, stdin=b"", timeout=10):
    """openssl s_client's exit status and output (stdout and stderr together)."""
    cmd = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", "localhost", *args]
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace")


def negotiated(out):
    """(protocol, cipher) from s_client's "New, TLSv1.3, Cipher is X" line, or None when no
    handshake completed ("New, (NONE), Cipher is (NONE)")."""
    m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
    if not m or m.group(2) == "(NONE)":
        return None
    return m.group(1), m.group(2)


def handshake(host, port, **kw):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    for k, v in kw.items():
        setattr(ctx, k, v)
    with socket.create_connection((host, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            return t.version(), t.cipher()[0], t.selected_alpn_protocol(), t.compression()


def tls12_suite_accepted(host, port, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.set_ciphers(name + ":@SECLEVEL=0")
    except ssl.SSLError:
        return None  # this client cannot offer it
    try:
        with socket.create_connection((host, port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                return t.cipher()[0] == name
    except (ssl.SSLError, ConnectionError, OSError):
        return False


def stalled(host, port, payload, limit):
    """Seconds until the server closes a connection that sent `payload` and then nothing."""
    s = socket.create_connection((host, port), timeout=limit)
    t0 = time.monotonic()
    try:
        if payload:
            s.sendall(payload)
        while True:
            if not s.recv(4096):
                return time.monotonic() - t0
    except ConnectionResetError:
        return time.monotonic() - t0
    except socket.timeout:
        return None
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", help="HOST:PORT of a running paytrackd (default: start one)")
    ap.add_argument("--paytrackd", default=os.environ.get("PAYTRACKD", str(ROOT / ".build/debug/paytrackd")))
    ap.add_argument("--stall-limit", type=float, default=60, help="seconds to wait for a stalled handshake to be dropped")
    args = ap.parse_args()
    proc = work = None
    if args.target:
        host, port = args.target.rsplit(":", 1)
        port = int(port)
    else:
        host = "127.0.0.1"
        proc, port, work = start_daemon(args.paytrackd, ready=lambda p: handshake("127.0.0.1", p))
    rows = []

    def row(check, expected, seen, ok):
        rows.append((check, expected, seen, ok))

    try:
        # Protocol versions, each offered alone.
        for flag, name, want in [("-ssl3", "SSLv3", False), ("-tls1", "TLS 1.0", False), ("-tls1_1", "TLS 1.1", False),
                                 ("-tls1_2", "TLS 1.2", True), ("-tls1_3", "TLS 1.3", True)]:
            extra = ["-cipher", "ALL:@SECLEVEL=0"] if not want else []
            rc, out = s_client(host, port, flag, *extra)
            if "unknown option" in out or "Option unknown" in out:
                row(f"protocol {name} only", "refused", "client cannot offer it", True)
                continue
            got = negotiated(out)
            row(f"protocol {name} only", "accepted" if want else "refused",
                f"{got[0]} {got[1]}" if got else "handshake failed", bool(got) == want)
        # TLS 1.2 suites, each offered alone.
        names = sorted({line.split()[0] for line in subprocess.run(
            ["openssl", "ciphers", "-v", "ALL:@SECLEVEL=0"], capture_output=True, text=True).stdout.splitlines()
            if line.split()[1] in ("TLSv1.2", "TLSv1", "SSLv3")})
        accepted, offered = set(), 0
        for n in names:
            r = tls12_suite_accepted(host, port, n)
            if r is None:
                continue
            offered += 1
            if r:
                accepted.add(n)
        row(f"TLS 1.2 suites accepted (of {offered} offered one at a time)", ", ".join(sorted(LND_TLS12)),
            ", ".join(sorted(accepted)) or "none", accepted == LND_TLS12)
        # TLS 1.3 suites, each offered alone.
        got13 = set()
        for suite in sorted(ALL_TLS13):
            rc, out = s_client(host, port, "-tls1_3", "-ciphersuites", suite)
            g = negotiated(out)
            if g and g[1] == suite:
                got13.add(suite)
        row("TLS 1.3 suites accepted (of 5 offered one at a time)", ", ".join(sorted(GO_TLS13)),
            ", ".join(sorted(got13)) or "none", got13 == GO_TLS13)
        # Default handshake: TLS 1.3, ALPN h2, no compression.
        version, cipher, alpn, compression = handshake(host, port)
        row("default handshake", "TLSv1.3, ALPN h2, no compression", f"{version} {cipher}, ALPN {alpn}, compression {compression}",
            version == "TLSv1.3" and alpn == "h2" and compression is None)
        # TLS 1.2 with no ALPN offered still works (LND's REST clients); ALPN h2 when offered.
        v12 = handshake(host, port, maximum_version=ssl.TLSVersion.TLSv1_2)
        row("TLS 1.2 handshake with ALPN", "TLSv1.2 ECDHE-ECDSA, ALPN h2", f"{v12[0]} {v12[1]}, ALPN {v12[2]}",
            v12[0] == "TLSv1.2" and v12[1] in LND_TLS12 and v12[2] == "h2")
        # Client-initiated renegotiation (TLS 1.2): s_client's R command.
        # s_client reads `R` only after its handshake: send it a second later, keep stdin open 3 s.
        # ALPN h2 as gRPC clients offer it (paytrackd closes connections that negotiate no ALPN).
        p = subprocess.run(f"(sleep 1; printf 'R\\n'; sleep 3) | openssl s_client -alpn h2 -connect {host}:{port} "
                           "-servername localhost -tls1_2", shell=True, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        rc, out = p.returncode, p.stdout.decode(errors="replace")
        after = out.split("RENEGOTIATING", 1)[1] if "RENEGOTIATING" in out else ""
        # A second handshake would print the certificate chain again ("depth=0 ...").
        renegotiated = "depth=0" in after
        m = re.search(r"routines:([^:]+:[^:]+):", after)
        evidence = m.group(1) if m else (" ".join(after.split()) or "no RENEGOTIATING line")
        refused = "no renegotiation" in after and not renegotiated
        row("client-initiated renegotiation (TLS 1.2)", "refused", f"{'refused' if refused else 'NOT refused'}: "
            f"s_client exit {rc}, after R: {evidence[:60]}", refused)
        # Handshakes that never finish.
        t = stalled(host, port, b"", args.stall_limit)
        row("TCP connection that sends nothing", "dropped", f"dropped after {t:.2f} s" if t is not None
            else f"still open after {args.stall_limit:.0f} s", t is not None)
        partial = bytes.fromhex("16030100c8010000c40303") + os.urandom(16)  # half a ClientHello
        t2 = stalled(host, port, partial, args.stall_limit)
        row("connection that sends half a ClientHello", "dropped", f"dropped after {t2:.2f} s" if t2 is not None
            else f"still open after {args.stall_limit:.0f} s", t2 is not None)
        # 200 stalled handshakes do not keep a normal client out.
        hold = [socket.create_connection((host, port), timeout=5) for _ in range(200)]
        t0 = time.monotonic()
        try:
            ok = handshake(host, port)[2] == "h2"
        except OSError as e:
            ok = False
        took = time.monotonic() - t0
        for s in hold:
            s.close()
        row("handshake while 200 stalled handshakes are open", "completes", f"completed in {took * 1000:.1f} ms" if ok
            else "failed", ok)
        alive = proc is None or proc.poll() is None
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=15)
    w = max(len(r[0]) for r in rows)
    for check, expected, seen, ok in rows:
        print(f"{check:<{w}}  {'PASS' if ok else 'FAIL'}\n{'':<{w}}  expected: {expected}\n{'':<{w}}  seen:     {seen}")
    passed = sum(1 for r in rows if r[3])
    print(f"\n{passed}/{len(rows)} checks passed; daemon {'still running at the end' if alive else 'DIED'}")
    if work:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if passed == len(rows) and alive else 1)


if __name__ == "__main__":
    main()
