#!/usr/bin/env python3
"""Campaign (c) of issue 17: a soak of connections that open, stream and close, on every API.

One daemon (the interop harness's: alice, bob served beside, macaroons on, `--sim.latency MS`), a
driver that keeps payments alice -> bob going (gRPC SendPaymentV2, and every 10th over mmrpc
`send_payment`), and --workers client threads that together open --connections connections over
--minutes, paced evenly, round-robin over four kinds, each a new TCP + TLS (or plain HTTP)
connection closed at the end:

- grpc:  a new grpcio channel; TrackPaymentV2 of a recent payment read to its end, then a
         TrackPayments stream read for --stream-seconds and cancelled; the channel closed;
- rest:  a new HTTPS connection; GET /v2/router/track/{hash} (NDJSON) read to its end, then
         GET /v2/router/payments (TrackPayments, NDJSON) read for --stream-seconds and dropped;
- ws:    a new WebSocket; /v2/router/track/{hash}?method=GET read until the server's close;
- mmrpc: a new HTTP/1.1 connection to the Komodo API; get_payment_details and
         list_payments_by_filter, then closed.

The daemon's VmRSS and open file descriptors are sampled every --sample seconds. Baseline: after
a warm-up (--warmup connections of every kind, then 10 s idle) so one-time allocations (malloc
arenas, the loops' buffers, caches of encoded snapshots) are in it. After: the load stops, every
payment finishes, then --settle seconds idle, and the figures are read again. The store grows
with every payment made (SQLite page caches; the tower's and the encoded-snapshot caches, bounded
at 16,384 and 8,192 payments), so a last phase makes --tail-connections connections and no
payment. Pass: no error; sockets back to the baseline count and no other new descriptor but the
stores' SQLite files (reader pools open on demand, bounded); RSS after the connection-only phase
within --rss-tolerance of before it. The whole run's RSS growth is printed beside.

One command: `Benchmarks/reliability/soak.py` (the debug daemon, or $PAYTRACKD: use a release build
for figures; `--minutes 1 --connections 1000` for a short version). Exits 1 on a failure.
"""
import argparse
import base64
import http.client
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

harness.generate_stubs()

import grpc  # noqa: E402
import requests  # noqa: E402
import websocket  # noqa: E402

import lnd  # noqa: E402
from daemon import loadavg, open_fds, rss_bytes  # noqa: E402
from lnd import ln, rt  # noqa: E402
from routerrpc import router_pb2_grpc  # noqa: E402

KINDS = ("grpc", "rest", "ws", "mmrpc")
COIN = "tBTC-lightning"


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="soak-"))
        self.net = lnd.Net(self.work / "node", "--sim.latency", str(args.latency),
                           channel_options=lnd.NO_BDP_PROBE)
        self.net.daemon.debuglevel = "warn,LTND=info"   # harness waits for "LTND: ready"
        self.recent = []             # recent payment hashes (bytes)
        self.recent_kdf = []         # ... of those sent over mmrpc (Komodo records exist only for them)
        self.lock = threading.Lock()
        self.done = {k: 0 for k in KINDS}
        self.errors = {k: 0 for k in KINDS}
        self.error_samples = []
        self.counter = itertools.count()
        self.stop_driver = threading.Event()
        self.payments = 0

    @property
    def d(self):
        return self.net.daemon

    def kdf(self, conn, method, params):
        body = json.dumps({"userpass": self.d.kdf_password, "mmrpc": "2.0", "method": method, "params": params, "id": 1})
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read())

    # -- payments ---------------------------------------------------------------------------------
    def driver(self):
        bob = self.net.node("bob")
        # Opened now and kept to the end, so the baseline and the final figures see the same
        # client connections (this one and the harness's gRPC channels to alice and bob).
        kdf = self.driver_kdf = http.client.HTTPConnection("127.0.0.1", self.d.kdf_port, timeout=60)
        for i in itertools.count():
            if self.stop_driver.is_set():
                return
            inv = bob.add_invoice(value=1_000)
            try:
                if i % 10 == 9:
                    self.kdf(kdf, "lightning::payments::send_payment",
                             {"coin": COIN, "payment": {"type": "invoice", "invoice": inv.payment_request}})
                    with self.lock:
                        self.recent = (self.recent + [inv.r_hash])[-50:]
                        self.recent_kdf = (self.recent_kdf + [inv.r_hash])[-50:]
                    time.sleep(0.5)
                else:
                    call = self.net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
                        payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1_000), timeout=120)
                    for j, _ in enumerate(call):
                        if j == 0:
                            with self.lock:
                                self.recent = (self.recent + [inv.r_hash])[-50:]
                self.payments += 1
            except (grpc.RpcError, OSError, ValueError) as e:
                self.note("driver", e)

    def pick(self, kdf=False):
        with self.lock:
            hashes = self.recent_kdf if kdf else self.recent
            return hashes[next(self.counter) % len(hashes)]

    def note(self, kind, e):
        with self.lock:
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{kind}: {type(e).__name__}: {str(e)[:200]}")

    # -- one connection of each kind --------------------------------------------------------------
    def one(self, kind):
        try:
            getattr(self, "conn_" + kind)()
            with self.lock:
                self.done[kind] += 1
        except Exception as e:     # counted and shown: the campaign must not stop on one error
            with self.lock:
                self.done[kind] += 1
                self.errors[kind] += 1
            self.note(kind, e)

    def conn_grpc(self):
        channel = self.d.channel()
        try:
            stub = router_pb2_grpc.RouterStub(channel)
            for _ in stub.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=self.pick()), timeout=60):
                pass
            call = stub.TrackPayments(rt.TrackPaymentsRequest(), timeout=self.args.stream_seconds)
            try:
                for _ in call:
                    pass
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise
        finally:
            channel.close()

    def rest_kw(self):
        return {"verify": str(self.d.cert_path), "headers": {"Grpc-Metadata-macaroon": self.d.macaroon_hex()}}

    def conn_rest(self):
        with requests.Session() as s:
            h = base64.urlsafe_b64encode(self.pick()).decode()
            r = s.get(f"{self.d.rest_url}/v2/router/track/{h}", stream=True, timeout=60, **self.rest_kw())
            if r.status_code != 200:
                raise RuntimeError(f"track {r.status_code} {r.text[:200]}")
            for _ in r.iter_lines():
                pass
            # TrackPayments for --stream-seconds: the read timeout ends it when no payment changes
            # (the gateway sends the response head with the first message, as grpc-gateway does).
            end = time.monotonic() + self.args.stream_seconds
            try:
                r = s.get(f"{self.d.rest_url}/v2/router/payments", stream=True,
                          timeout=(60, self.args.stream_seconds), **self.rest_kw())
                if r.status_code != 200:
                    raise RuntimeError(f"payments {r.status_code} {r.text[:200]}")
                for _ in r.iter_content(chunk_size=None):
                    if time.monotonic() > end:
                        break
                r.close()
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
                pass                  # the read timeout: nothing came for --stream-seconds

    def conn_ws(self):
        h = base64.urlsafe_b64encode(self.pick()).decode()
        ws = websocket.create_connection(
            f"wss://127.0.0.1:{self.d.rest_port}/v2/router/track/{h}?method=GET",
            header=[f"Grpc-Metadata-Macaroon: {self.d.macaroon_hex()}"],
            sslopt={"ca_certs": str(self.d.cert_path), "check_hostname": False}, timeout=60)
        try:
            while True:
                op, data = ws.recv_data(control_frame=True)
                if op == websocket.ABNF.OPCODE_CLOSE:
                    break
                if op == websocket.ABNF.OPCODE_PING:
                    ws.pong(data)
        finally:
            ws.close()

    def conn_mmrpc(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.kdf_port, timeout=60)
        try:
            s, v = self.kdf(conn, "lightning::payments::get_payment_details", {"coin": COIN, "payment_hash": self.pick(kdf=True).hex()})
            if s != 200:
                raise RuntimeError(f"get_payment_details {s} {v}")
            s, v = self.kdf(conn, "lightning::payments::list_payments_by_filter", {"coin": COIN, "limit": 10})
            if s != 200:
                raise RuntimeError(f"list_payments_by_filter {s} {v}")
        finally:
            conn.close()

    # -- the run ----------------------------------------------------------------------------------
    def worker(self, jobs):
        while True:
            with self.lock:
                if not jobs:
                    return
                at, kind = jobs.pop(0)
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.one(kind)

    def load(self, count, seconds, sample=None):
        t0 = time.monotonic()
        jobs = [(t0 + seconds * i / count, KINDS[i % len(KINDS)]) for i in range(count)]
        threads = [threading.Thread(target=self.worker, args=(jobs,), daemon=True) for _ in range(self.args.workers)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            if sample:
                sample()
            time.sleep(self.args.sample if sample else 0.5)
        for t in threads:
            t.join()

    def run(self):
        a = self.args
        self.net.start()
        pid = self.d.proc.pid
        samples = []

        def sample():
            samples.append((time.monotonic() - t0, rss_bytes(pid), open_fds(pid), sum(self.done.values())))

        t0 = time.monotonic()
        start_rss, start_fds = rss_bytes(pid), open_fds(pid)
        base_fd_set = None
        driver = threading.Thread(target=self.driver, daemon=True)
        driver.start()
        lnd.wait_until(lambda: len(self.recent_kdf) >= 2, timeout=120, what="the first payments")
        self.load(a.warmup, a.warmup / 20)
        time.sleep(10)
        base_rss, base_fds, base_fd_set = rss_bytes(pid), open_fds(pid), fd_targets(pid)
        warm_errors = dict(self.errors)
        print(f"baseline after {a.warmup} warm-up connections: RSS {base_rss / 2**20:.1f} MiB, {base_fds} fds "
              f"(at start {start_rss / 2**20:.1f} MiB, {start_fds} fds); load {loadavg()}", flush=True)
        for k in KINDS:
            self.done[k] = 0
        t_load = time.monotonic()
        self.load(a.connections, a.minutes * 60, sample)
        load_seconds = time.monotonic() - t_load
        self.stop_driver.set()
        driver.join(timeout=130)          # its last SendPaymentV2 has ended; mmrpc sends end within 1 s
        time.sleep(a.settle)
        end_rss, end_fds, end_fd_set = rss_bytes(pid), open_fds(pid), fd_targets(pid)
        # The store grew by every payment made (SQLite page caches, the tower's caches), so a
        # last phase makes connections only, no payment: growth there would be the connections'.
        main_done, main_errors = dict(self.done), dict(self.errors)
        for k in KINDS:
            self.done[k] = 0
        self.load(a.tail_connections, a.tail_connections / (a.connections / (a.minutes * 60)))
        tail_errors = dict(self.errors)
        time.sleep(a.settle)
        tail_rss, tail_fds, tail_fd_set = rss_bytes(pid), open_fds(pid), fd_targets(pid)
        peak_rss = max(s[1] for s in samples)
        peak_fds = max(s[2] for s in samples)
        load = loadavg()
        self.net.stop()

        total = sum(main_done.values())
        errors = {k: main_errors[k] - warm_errors.get(k, 0) for k in KINDS}
        tail_new = {k: tail_errors[k] - main_errors[k] for k in KINDS}
        print(f"connections: {total} in {load_seconds:.0f} s (" + ", ".join(f"{k} {main_done[k]}" for k in KINDS)
              + "); errors: " + ", ".join(f"{k} {errors[k]}" for k in KINDS)
              + f"; payments sent {self.payments}")
        print("samples (s: RSS MiB / fds / connections done): " + ", ".join(
            f"{t:.0f}: {r / 2**20:.0f}/{f}/{n}" for t, r, f, n in samples[::max(1, len(samples) // 20)]))
        print(f"RSS  baseline {base_rss / 2**20:.1f} MiB, peak {peak_rss / 2**20:.1f} MiB, after {end_rss / 2**20:.1f} MiB"
              f" ({(end_rss - base_rss) / 2**20:+.1f} MiB, {(end_rss / base_rss - 1):+.1%}; tolerance {a.rss_tolerance:.0%})")
        print(f"fds  baseline {base_fds}, peak {peak_fds}, after {end_fds}; new since the baseline: "
              f"{sorted(fd_diff(base_fd_set, end_fd_set))}")
        print(f"connections only ({a.tail_connections} more, no payment): RSS {end_rss / 2**20:.1f} -> "
              f"{tail_rss / 2**20:.1f} MiB ({(tail_rss - end_rss) / 2**20:+.1f} MiB), fds {end_fds} -> {tail_fds} "
              f"(new: {sorted(fd_diff(end_fd_set, tail_fd_set))}); errors {tail_new}")
        print(f"load average {load}")
        for e in self.error_samples:
            print("  error:", e)
        # Pass: no error; descriptors back to the baseline; the connection-only phase leaves RSS
        # within the tolerance (the whole run's growth is shown above, with the payments' share).
        # Descriptors: every socket closed again (no connection left behind); the only other new
        # ones allowed are the stores' SQLite files, whose reader pools open connections on demand
        # up to their bound (payments: 4 readers).
        def leftover(before, after):
            return [t for t in fd_diff(before, after) if not t.endswith((".sqlite", ".sqlite-wal", ".sqlite-shm"))]
        sockets = lambda fds: sum(t.startswith("socket:") for t in fds.values())  # noqa: E731
        print(f"sockets: baseline {sockets(base_fd_set)}, after {sockets(end_fd_set)}, after the connection-only "
              f"phase {sockets(tail_fd_set)}")
        ok = (not any(errors.values()) and not any(tail_new.values())
              and sockets(end_fd_set) <= sockets(base_fd_set) and sockets(tail_fd_set) <= sockets(base_fd_set)
              and not leftover(base_fd_set, end_fd_set) and not leftover(base_fd_set, tail_fd_set)
              and tail_rss <= end_rss * (1 + a.rss_tolerance))
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


def fd_targets(pid):
    """What each open descriptor of the process points at (socket:[inode], a path, ...)."""
    out = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out[fd.name] = os.readlink(fd)
        except OSError:
            pass
    return out


def fd_diff(before, after):
    """Descriptors open now that were not (or pointed elsewhere) before, by target kind."""
    return [t if not t.startswith("socket:") else "socket" for n, t in after.items() if before.get(n) != t]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--connections", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=24)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--latency", type=int, default=50)
    ap.add_argument("--stream-seconds", type=float, default=1.0)
    ap.add_argument("--sample", type=float, default=5)
    ap.add_argument("--settle", type=float, default=15)
    ap.add_argument("--tail-connections", type=int, default=2000, help="the connection-only phase")
    ap.add_argument("--rss-tolerance", type=float, default=0.10)
    sys.exit(Soak(ap.parse_args()).run())


if __name__ == "__main__":
    main()
