#!/usr/bin/env python3
"""Campaign (b) of issue 17: streams whose clients stop reading, beside streams read normally.

Two runs of the same workload in one command, each on a fresh daemon (the interop harness's:
alice, bob served beside, macaroons on, `--sim.latency MS`):

- **baseline**: a driver keeps --concurrent multi-path payments alice -> bob in flight all the time
  (SendPaymentV2, `max_shard_size_msat` so each payment has several HTLC attempts and so about ten
  snapshot versions); each payment, once initiated, gets --normal-per-payment TrackPaymentV2 streams
  read by grpcio (asyncio), so about 1,000 normal streams are open at any moment;
- **stalled**: the same, plus --stalled-per-payment streams on each payment whose clients never
  read, kept as a sliding window of --stalled streams (the oldest is dropped when a new one opens):
  half are gRPC TrackPaymentV2 streams over HTTP/2 with a 256-octet stream receive window that is
  never replenished (our own HTTP/2 client on Python's `h2`: it answers PINGs and SETTINGS but
  never sends WINDOW_UPDATE), half are WebSocket TrackPaymentV2 streams
  (`/v2/router/track/{hash}?method=GET`) whose socket is never read after the 101.

Figures: delivery latency of every update to the normal streams after each stream's first
message (client CLOCK_REALTIME at receipt - the newest event time in the snapshot: creation,
attempt or resolve time, which the daemon takes with CLOCK_REALTIME), p50/p99 per run and the ratio;
the daemon's VmRSS sampled every second of the stalled run, from the moment the stalled window is
full to the end (flat = the last sample within --rss-tolerance of that moment's).

One command: `Benchmarks/reliability/slow_readers.py` (the debug daemon, or $PAYTRACKD: use a release
build for figures). Exits 1 when p99 exceeds 2x the baseline or RSS grows beyond the tolerance.
"""
import argparse
import asyncio
import base64
import os
import ssl
import statistics
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
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.errors  # noqa: E402
import h2.settings  # noqa: E402

import lnd  # noqa: E402
from daemon import loadavg, rss_bytes  # noqa: E402
from lnd import rt  # noqa: E402

TRACK_PATH = "/routerrpc.Router/TrackPaymentV2"
STALLED_WINDOW = 256


def newest_event_ns(p):
    return max([p.creation_time_ns] + [h.attempt_time_ns for h in p.htlcs] + [h.resolve_time_ns for h in p.htlcs])


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


class StalledGRPC:
    """One HTTP/2 connection of TrackPaymentV2 streams that are never read: SETTINGS_INITIAL_WINDOW_SIZE
    of 256 octets, no WINDOW_UPDATE ever (the connection window is opened wide once, so each stream
    is held by its own window)."""

    def __init__(self, daemon):
        self.d = daemon
        self.streams = []

    async def open(self):
        ctx = ssl.create_default_context(cafile=str(self.d.cert_path))
        ctx.check_hostname = False
        ctx.set_alpn_protocols(["h2"])
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.d.port, ssl=ctx)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STALLED_WINDOW,
            h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(2**30)
        self.flush()
        self.task = asyncio.create_task(self.pump())
        self.mac = self.d.macaroon_hex()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.writer.write(data)

    async def pump(self):
        """Reads frames (SETTINGS, PING, HEADERS, DATA up to the window) and answers what h2 must
        answer; DATA is never acknowledged, so no WINDOW_UPDATE goes out."""
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    return
                self.conn.receive_data(data)
                self.flush()
        except (OSError, asyncio.CancelledError, h2.exceptions.ProtocolError):
            return

    def track(self, r_hash):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "POST"), (":scheme", "https"), (":path", TRACK_PATH),
                                     (":authority", "localhost"), ("content-type", "application/grpc"),
                                     ("te", "trailers"), ("macaroon", self.mac)])
        body = rt.TrackPaymentRequest(payment_hash=r_hash).SerializeToString()
        self.conn.send_data(sid, b"\0" + len(body).to_bytes(4, "big") + body, end_stream=True)
        self.flush()
        return sid

    def drop(self, sid):
        try:
            self.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
            self.flush()
        except Exception:      # the server may have ended it already
            pass


async def stalled_websocket(d, r_hash):
    """A WebSocket TrackPaymentV2 whose socket is never read after the 101: returns the transport."""
    ctx = ssl.create_default_context(cafile=str(d.cert_path))
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["http/1.1"])
    reader, writer = await asyncio.open_connection("127.0.0.1", d.rest_port, ssl=ctx)
    h = base64.urlsafe_b64encode(r_hash).decode()
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /v2/router/track/{h}?method=GET HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Grpc-Metadata-Macaroon: {d.macaroon_hex()}\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"WebSocket upgrade refused: {head[:80]!r}")
    writer.transport.pause_reading()
    return writer


class Run:
    def __init__(self, args, stalled):
        self.args, self.with_stalled = args, stalled
        self.work = Path(tempfile.mkdtemp(prefix="slow-readers-"))
        self.net = lnd.Net(self.work / "node", "--sim.latency", str(args.latency),
                           channel_options=lnd.NO_BDP_PROBE)
        self.net.daemon.debuglevel = "warn,LTND=info"   # harness waits for "LTND: ready"
        self.latencies_ms = []
        self.normal_streams = self.normal_open = self.normal_errors = 0
        self.payments = self.payment_failures = 0
        self.stalled_open = []          # (kind, handle, sid)
        self.stalled_total = 0
        self.stalled_errors = 0
        self.rss = []                   # (seconds, bytes, stalled open)
        self.stop = threading.Event()

    # -- the payment driver (threads, grpcio sync) -----------------------------------------------
    def driver(self, loop, queue):
        bob = self.net.node("bob")
        while not self.stop.is_set():
            inv = bob.add_invoice(value=self.args.amount_sat)
            call = self.net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
                payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=10_000,
                max_shard_size_msat=self.args.shard_sat * 1000, max_parts=64), timeout=120)
            first, last = True, None
            try:
                for m in call:
                    if first:
                        loop.call_soon_threadsafe(queue.put_nowait, inv.r_hash)
                        first = False
                    last = m
            except grpc.RpcError:
                pass
            self.payments += 1
            if last is None or last.status != lnd.SUCCEEDED:
                self.payment_failures += 1

    # -- normal readers (grpc.aio) ---------------------------------------------------------------
    async def normal(self, channel, r_hash, mac):
        self.normal_streams += 1
        self.normal_open += 1
        stub = rt_stub(channel)
        first = True
        try:
            async for m in stub.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=r_hash),
                                               metadata=[("macaroon", mac)], timeout=120):
                now = time.time_ns()
                if first:
                    first = False
                elif self.measuring:
                    self.latencies_ms.append((now - newest_event_ns(m)) / 1e6)
        except grpc.RpcError:
            self.normal_errors += 1
        finally:
            self.normal_open -= 1

    async def stalled(self, conns, r_hash):
        for i in range(self.args.stalled_per_payment):
            if i % 2 == 0:
                c = conns[self.stalled_total % len(conns)]
                self.stalled_open.append(("grpc", c, c.track(r_hash)))
            else:
                try:
                    self.stalled_open.append(("ws", await stalled_websocket(self.net.daemon, r_hash), None))
                except (OSError, RuntimeError, asyncio.IncompleteReadError) as e:
                    self.stalled_errors += 1
                    print("stalled WebSocket:", e, flush=True)
                    continue
            self.stalled_total += 1
            while len(self.stalled_open) > self.args.stalled:
                kind, handle, sid = self.stalled_open.pop(0)
                if kind == "grpc":
                    handle.drop(sid)
                else:
                    handle.transport.abort()

    async def main(self):
        d = self.net.daemon
        pid = d.proc.pid
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()
        creds = grpc.ssl_channel_credentials(d.cert_path.read_bytes())
        opts = [("grpc.ssl_target_name_override", "localhost"), ("grpc.http2.bdp_probe", 0)]
        channels = [grpc.aio.secure_channel(d.target, creds, options=opts) for _ in range(self.args.connections)]
        mac = d.macaroon_hex()
        conns = []
        if self.with_stalled:
            for _ in range(self.args.stalled_connections):
                c = StalledGRPC(d)
                await c.open()
                conns.append(c)
        self.measuring = False
        drivers = [threading.Thread(target=self.driver, args=(loop, queue), daemon=True)
                   for _ in range(self.args.concurrent)]
        for t in drivers:
            t.start()
        t0 = time.monotonic()
        full_at = None
        tasks = set()
        next_sample = 0.0
        n = 0
        while time.monotonic() - t0 < self.args.seconds:
            try:
                r_hash = await asyncio.wait_for(queue.get(), timeout=0.2)
            except asyncio.TimeoutError:
                r_hash = None
            if r_hash is not None:
                for _ in range(self.args.normal_per_payment):
                    t = asyncio.create_task(self.normal(channels[n % len(channels)], r_hash, mac))
                    n += 1
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                if self.with_stalled:      # beside the normal streams, not before them
                    t = asyncio.create_task(self.stalled(conns, r_hash))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
            elapsed = time.monotonic() - t0
            if not self.measuring and elapsed >= self.args.warmup and (
                    not self.with_stalled or len(self.stalled_open) >= self.args.stalled):
                self.measuring = True
                full_at = elapsed
            if elapsed >= next_sample:
                self.rss.append((elapsed, rss_bytes(pid), len(self.stalled_open), self.normal_open))
                next_sample += 1.0
        self.full_at = full_at
        self.stop.set()
        self.end_rss = rss_bytes(pid)
        for t in drivers:
            t.join(timeout=130)
        await asyncio.gather(*tasks, return_exceptions=True)
        for kind, handle, sid in self.stalled_open:
            if kind == "ws":
                handle.transport.abort()
        for c in conns:
            c.task.cancel()
            c.writer.transport.abort()
        for ch in channels:
            await ch.close()

    def run(self):
        self.net.start()
        try:
            asyncio.run(self.main())
            self.load = loadavg()
        finally:
            self.net.stop()
        return self


def rt_stub(channel):
    from routerrpc import router_pb2_grpc
    return router_pb2_grpc.RouterStub(channel)


def report(name, r):
    lat = r.latencies_ms
    print(f"{name:<9} normal deliveries measured {len(lat):>7}  p50 {pct(lat, .5):7.2f} ms  p99 {pct(lat, .99):7.2f} ms"
          f"  max {max(lat) if lat else float('nan'):8.2f} ms  payments {r.payments} ({r.payment_failures} not"
          f" SUCCEEDED)  normal streams {r.normal_streams} ({r.normal_errors} errors)  stalled opened {r.stalled_total} ({r.stalled_errors} refused)"
          f"  load {r.load}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--warmup", type=float, default=10)
    ap.add_argument("--latency", type=int, default=100)
    ap.add_argument("--concurrent", type=int, default=10, help="payments kept in flight")
    ap.add_argument("--amount-sat", type=int, default=2_000)
    ap.add_argument("--shard-sat", type=int, default=500)
    ap.add_argument("--normal-per-payment", type=int, default=100)
    ap.add_argument("--stalled-per-payment", type=int, default=10)
    ap.add_argument("--stalled", type=int, default=1000, help="stalled streams kept open (sliding window)")
    ap.add_argument("--stalled-connections", type=int, default=5, help="HTTP/2 connections of the stalled gRPC streams")
    ap.add_argument("--connections", type=int, default=4, help="HTTP/2 connections of the normal streams")
    ap.add_argument("--rss-tolerance", type=float, default=0.10)
    ap.add_argument("--only", choices=["baseline", "stalled"])
    args = ap.parse_args()

    runs = {}
    for name in ("baseline", "stalled"):
        if args.only and args.only != name:
            continue
        print(f"run '{name}' ({args.seconds:.0f} s) ...", flush=True)
        runs[name] = Run(args, stalled=name == "stalled").run()
        report(name, runs[name])
    ok = True
    if "stalled" in runs:
        r = runs["stalled"]
        after = [(t, b, s) for t, b, s, _ in r.rss if r.full_at is not None and t >= r.full_at]
        if after:
            start, peak, end = after[0][1], max(b for _, b, _ in after), after[-1][1]
            flat = end <= start * (1 + args.rss_tolerance)
            ok &= flat
            print(f"stalled run RSS: {r.rss[0][1] / 2**20:.1f} MiB at start; {start / 2**20:.1f} MiB when "
                  f"{args.stalled} stalled streams were open ({r.full_at:.0f} s); peak {peak / 2**20:.1f} MiB; "
                  f"{end / 2**20:.1f} MiB at the end ({after[-1][0]:.0f} s, {after[-1][2]} stalled open): "
                  f"{(end - start) / 2**20:+.1f} MiB, {'flat' if flat else 'GROWING'} "
                  f"(tolerance {args.rss_tolerance:.0%})")
            print("RSS samples (s, MiB, stalled open, normal open): " + ", ".join(
                f"{t:.0f}:{b / 2**20:.0f}/{s}/{n}" for t, b, s, n in r.rss[::5]))
        else:
            ok = False
            print("the stalled window never filled")
    if "baseline" in runs:
        b = runs["baseline"]
        print(f"baseline RSS: {b.rss[0][1] / 2**20:.1f} MiB at start, {b.end_rss / 2**20:.1f} MiB at the end")
    if len(runs) == 2:
        ratio = pct(runs["stalled"].latencies_ms, .99) / pct(runs["baseline"].latencies_ms, .99)
        ok &= ratio <= 2
        print(f"p99 with stalled streams / without: {ratio:.2f} (goal <= 2)")
    print(f"load average at the end {loadavg()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
