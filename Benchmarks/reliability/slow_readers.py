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
import multiprocessing
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


class Endpoint:
    """What the stalled clients need of the daemon (picklable: they run in a process of their own)."""

    def __init__(self, d):
        self.port, self.rest_port, self.cert_path, self.mac = d.port, d.rest_port, d.cert_path, d.macaroon_hex()

    def macaroon_hex(self):
        return self.mac


class StalledClients:
    """--stalled streams that are never read, as a sliding window over the payments the driver
    reports: --stalled-per-payment each, half gRPC (StalledGRPC), half WebSocket. Runs in a process of
    its own so the normal readers' process does the same work in both runs."""

    def __init__(self, endpoint, args, hashes, counters):
        self.d, self.args, self.hashes, self.counters = endpoint, args, hashes, counters
        self.window = []          # (kind, handle, sid)

    async def main(self):
        conns = []
        for _ in range(self.args.stalled_connections):
            c = StalledGRPC(self.d)
            await c.open()
            conns.append(c)
        loop = asyncio.get_running_loop()
        tasks = set()
        while True:
            r_hash = await loop.run_in_executor(None, self.hashes.get)
            if r_hash is None:
                break
            t = asyncio.create_task(self.payment(conns, r_hash))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks, return_exceptions=True)
        for kind, handle, sid in self.window:
            if kind == "ws":
                handle.transport.abort()
        for c in conns:
            c.task.cancel()
            c.writer.transport.abort()

    async def payment(self, conns, r_hash):
        total, errors, open_ = self.counters
        for i in range(self.args.stalled_per_payment):
            if i % 2 == 0:
                c = conns[total.value % len(conns)]
                self.window.append(("grpc", c, c.track(r_hash)))
            else:
                try:
                    self.window.append(("ws", await stalled_websocket(self.d, r_hash), None))
                except (OSError, RuntimeError, asyncio.IncompleteReadError) as e:
                    errors.value += 1
                    print("stalled WebSocket:", e, flush=True)
                    continue
            total.value += 1
            while len(self.window) > self.args.stalled:
                kind, handle, sid = self.window.pop(0)
                if kind == "grpc":
                    handle.drop(sid)
                else:
                    handle.transport.abort()
            open_.value = len(self.window)


def stalled_process(endpoint, args, hashes, counters):
    asyncio.run(StalledClients(endpoint, args, hashes, counters).main())


class NormalReaders:
    """About --normal TrackPaymentV2 streams read as fast as they come (grpc.aio, --connections
    HTTP/2 connections): each payment the driver reports gets what the finished streams freed, up to
    --normal-per-payment. A process of its own: grpcio's sync driver threads and this asyncio loop
    in one process stalled the loop for seconds (measured with the lag monitor below), which put the
    client's pauses, not the daemon's, into the tail of the figure."""

    def __init__(self, endpoint, args, hashes, measuring, open_now, results):
        self.d, self.args, self.hashes, self.measuring_event = endpoint, args, hashes, measuring
        self.open_now, self.results = open_now, results
        self.latencies_ms, self.receipts, self.slow, self.loop_stalls = [], [], [], []
        self.normal_streams = self.normal_errors = 0
        self.done = False

    @property
    def measuring(self):
        return self.measuring_event.is_set()

    async def normal(self, channel, r_hash, mac):
        self.normal_streams += 1
        self.open_now.value += 1
        stub = rt_stub(channel)
        first = True
        opened, prev, index = time.time_ns(), None, 0
        try:
            async for m in stub.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=r_hash),
                                               metadata=[("macaroon", mac)], timeout=120):
                now = time.time_ns()
                index += 1
                summary = (rt_status(m.status), [h.status for h in m.htlcs])
                if first:
                    first = False
                elif self.measuring:
                    ms = (now - newest_event_ns(m)) / 1e6
                    self.latencies_ms.append(ms)
                    self.receipts.append((m.payment_hash, shape(m), now))
                    if ms > 1000 and len(self.slow) < self.args.explain:
                        self.slow.append((round(ms), index, round((now - opened) / 1e6), prev, summary,
                                          round((now - m.creation_time_ns) / 1e6),
                                          [(h.status, round((now - h.attempt_time_ns) / 1e6),
                                            round((now - h.resolve_time_ns) / 1e6) if h.resolve_time_ns else None)
                                           for h in m.htlcs]))
                prev = summary
        except grpc.RpcError:
            self.normal_errors += 1
        finally:
            self.open_now.value -= 1

    async def lag_monitor(self):
        """This loop's own lag: a 5 ms sleep that wakes late means the loop (the client, not the
        daemon) was busy or blocked, and every delivery due meanwhile waited in the client."""
        while not self.done:
            t = time.monotonic()
            await asyncio.sleep(0.005)
            late = (time.monotonic() - t - 0.005) * 1000
            if late > 100 and self.measuring:
                self.loop_stalls.append((time.time_ns(), late))

    async def main(self):
        loop = asyncio.get_running_loop()
        creds = grpc.ssl_channel_credentials(Path(self.d.cert_path).read_bytes())
        opts = [("grpc.ssl_target_name_override", "localhost")] + list(lnd.NO_BDP_PROBE)
        channels = [grpc.aio.secure_channel(f"127.0.0.1:{self.d.port}", creds, options=opts)
                    for _ in range(self.args.connections)]
        monitor = asyncio.create_task(self.lag_monitor())
        tasks, n = set(), 0
        while True:
            r_hash = await loop.run_in_executor(None, self.hashes.get)
            if r_hash is None:
                break
            for _ in range(min(self.args.normal_per_payment, self.args.normal - self.open_now.value)):
                t = asyncio.create_task(self.normal(channels[n % len(channels)], r_hash, self.d.mac))
                n += 1
                tasks.add(t)
                t.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks, return_exceptions=True)
        self.done = True
        await monitor
        for ch in channels:
            await ch.close()
        self.results.put({k: getattr(self, k) for k in (
            "latencies_ms", "receipts", "slow", "loop_stalls", "normal_streams", "normal_errors")})


def normal_process(endpoint, args, hashes, measuring, open_now, results):
    asyncio.run(NormalReaders(endpoint, args, hashes, measuring, open_now, results).main())


class Run:
    def __init__(self, args, stalled):
        self.args, self.with_stalled = args, stalled
        self.work = Path(tempfile.mkdtemp(prefix="slow-readers-"))
        self.net = lnd.Net(self.work / "node", "--sim.latency", str(args.latency),
                           channel_options=lnd.NO_BDP_PROBE)
        # LTND=info: the harness waits for "LTND: ready"; CRTR=debug: the tower logs each publish with
        # its CLOCK_REALTIME (after the commit), for the publish -> receipt figure.
        self.net.daemon.debuglevel = "warn,LTND=info,CRTR=debug"
        self.latencies_ms = []
        self.driver_ms = []             # the driver's own SendPaymentV2 streams (grpcio, one thread each)
        self.receipts = []              # (hash hex, shape, receipt ns) of every measured delivery
        self.delivery_ms = []           # publish -> receipt, from the tower's CRTR lines
        self.slow = []                  # details of the first --explain deliveries slower than 1 s
        self.normal_streams = self.normal_errors = 0
        self.payments = self.payment_failures = 0
        self.rss = []                   # (seconds, bytes, stalled open)
        self.loop_stalls = []           # (CLOCK_REALTIME ns at the end, ms) of event-loop stalls > 100 ms
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
                    elif self.measuring:
                        self.driver_ms.append((time.time_ns() - newest_event_ns(m)) / 1e6)
                    last = m
            except grpc.RpcError:
                pass
            self.payments += 1
            if last is None or last.status != lnd.SUCCEEDED:
                self.payment_failures += 1

    # -- the run: driver here, normal readers and stalled clients in processes of their own -------
    async def main(self):
        d = self.net.daemon
        pid = d.proc.pid
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()
        ctx = multiprocessing.get_context("spawn")     # grpcio does not survive fork
        counters = (ctx.Value("i", 0), ctx.Value("i", 0), ctx.Value("i", 0))   # opened, refused, open now
        hashes = ctx.Queue()
        normal_hashes, normal_results = ctx.Queue(), ctx.Queue()
        measuring, normal_open = ctx.Event(), ctx.Value("i", 0)
        readers = ctx.Process(target=normal_process, args=(Endpoint(d), self.args, normal_hashes, measuring,
                                                           normal_open, normal_results))
        readers.start()
        child = None
        if self.with_stalled:
            child = ctx.Process(target=stalled_process, args=(Endpoint(d), self.args, hashes, counters))
            child.start()
        self.measuring = False
        drivers = [threading.Thread(target=self.driver, args=(loop, queue), daemon=True)
                   for _ in range(self.args.concurrent)]
        for t in drivers:
            t.start()
        t0 = time.monotonic()
        full_at = None
        next_sample = 0.0
        while time.monotonic() - t0 < self.args.seconds:
            try:
                r_hash = await asyncio.wait_for(queue.get(), timeout=0.2)
            except asyncio.TimeoutError:
                r_hash = None
            if r_hash is not None:
                normal_hashes.put(r_hash)
                if child:
                    hashes.put(r_hash)
            elapsed = time.monotonic() - t0
            if not self.measuring and elapsed >= self.args.warmup and (
                    not self.with_stalled or counters[2].value >= self.args.stalled):
                self.measuring = True
                measuring.set()
                full_at = elapsed
            if elapsed >= next_sample:
                self.rss.append((elapsed, rss_bytes(pid), counters[2].value, normal_open.value))
                next_sample += 1.0
        self.full_at = full_at
        self.stop.set()
        self.end_rss = rss_bytes(pid)
        for t in drivers:
            t.join(timeout=130)
        normal_hashes.put(None)
        got = await loop.run_in_executor(None, normal_results.get, True, 200)
        readers.join(timeout=30)
        for k, v in got.items():
            setattr(self, k, v)
        if child:
            hashes.put(None)
            child.join(timeout=60)
        self.stalled_total, self.stalled_errors = counters[0].value, counters[1].value

    def run(self):
        self.net.start()
        try:
            asyncio.run(self.main())
            self.load = loadavg()
        finally:
            self.net.stop()
        published = read_publish_log(self.net.daemon.log_path)
        self.delivery_ms = [(now - published[(h, sh)]) / 1e6 for h, sh, now in self.receipts if (h, sh) in published]
        self.unmatched = len(self.receipts) - len(self.delivery_ms)
        return self


def rt_stub(channel):
    from routerrpc import router_pb2_grpc
    return router_pb2_grpc.RouterStub(channel)


def shape(p):
    """A snapshot's status and HTLC counts, as the tower's publish line gives them."""
    st = [h.status for h in p.htlcs]
    return p.status, len(st), st.count(0), st.count(1), st.count(2)


def read_publish_log(path):
    """(hash, shape) -> CLOCK_REALTIME ns of the first publish of that shape, from lines
    `published payment HASH status=S htlcs=N inflight=I settled=K failed=F subscribers=M published_at_ns=T`."""
    out = {}
    for line in Path(path).read_text(errors="replace").splitlines():
        i = line.find("published payment ")
        if i < 0:
            continue
        words = line[i + len("published payment "):].split()
        kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        try:
            key = (words[0], (int(kv["status"]), int(kv["htlcs"]), int(kv["inflight"]), int(kv["settled"]),
                              int(kv["failed"])))
            out.setdefault(key, int(kv["published_at_ns"]))
        except (KeyError, ValueError, IndexError):
            continue
    return out


def rt_status(s):
    from lightning_pb2 import Payment
    return Payment.PaymentStatus.Name(s)


def report(name, r):
    lat, d = r.latencies_ms, r.delivery_ms
    print(f"{name:<9} normal deliveries measured {len(lat):>7}  publish -> receipt p50 {pct(d, .5):7.2f} ms  p99 "
          f"{pct(d, .99):7.2f} ms  max {max(d) if d else float('nan'):8.2f} ms ({r.unmatched} without a publish line);  "
          f"event -> receipt p50 {pct(lat, .5):7.2f} ms  p99 {pct(lat, .99):7.2f} ms;  the driver's SendPaymentV2 "
          f"streams: event -> receipt p50 {pct(r.driver_ms, .5):.2f} ms p99 {pct(r.driver_ms, .99):.2f} ms;  payments {r.payments} ({r.payment_failures} not"
          f" SUCCEEDED)  normal streams {r.normal_streams} ({r.normal_errors} errors)  stalled opened {r.stalled_total} ({r.stalled_errors} refused)"
          f"  load {r.load}")
    stalls = r.loop_stalls   # the normal readers' process
    slow = [(now, ms) for (h, sh, now), ms in zip(r.receipts, r.latencies_ms) if ms > 1000]
    # A slow delivery is the client's when its receipt came right after a stall of the readers'
    # event loop that covered most of its delay.
    explained = sum(1 for now, ms in slow
                    if any(0 <= now - end <= 50e6 and lag >= 0.5 * ms for end, lag in stalls))
    print(f"  readers' event loop: {len(stalls)} stalls > 100 ms while measuring, longest "
          f"{max((l for _, l in stalls), default=0):.0f} ms; deliveries slower than 1 s: {len(slow)}, "
          f"of which {explained} arrived within 50 ms after a loop stall that covered at least half of their delay")
    for ms, index, since_open, prev, summary, age, htlcs in r.slow:
        print(f"  slow delivery {ms} ms: message {index} of its stream, {since_open} ms after the stream opened; "
              f"previous {prev}, this {summary}; payment created {age} ms before receipt; HTLCs (status, ms since "
              f"attempt, ms since resolve): {htlcs}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--concurrent", type=int, default=10, help="payments kept in flight")
    ap.add_argument("--amount-sat", type=int, default=2_000)
    ap.add_argument("--shard-sat", type=int, default=500)
    ap.add_argument("--normal", type=int, default=1000, help="normal streams kept open")
    ap.add_argument("--normal-per-payment", type=int, default=100)
    ap.add_argument("--stalled-per-payment", type=int, default=40)
    ap.add_argument("--stalled", type=int, default=1000, help="stalled streams kept open (sliding window)")
    ap.add_argument("--stalled-connections", type=int, default=5, help="HTTP/2 connections of the stalled gRPC streams")
    ap.add_argument("--connections", type=int, default=4, help="HTTP/2 connections of the normal streams")
    ap.add_argument("--rss-tolerance", type=float, default=0.10)
    ap.add_argument("--only", choices=["baseline", "stalled"])
    ap.add_argument("--pairs", type=int, default=2, help="baseline/stalled pairs, run alternately")
    ap.add_argument("--explain", type=int, default=0, help="show this many deliveries slower than 1 s")
    args = ap.parse_args()

    runs = {}
    order = [n for _ in range(args.pairs) for n in ("baseline", "stalled") if not args.only or args.only == n]
    for k, name in enumerate(order):
        print(f"run {k + 1}/{len(order)} '{name}' ({args.seconds:.0f} s) ...", flush=True)
        r = Run(args, stalled=name == "stalled").run()
        report(name, r)
        if name in runs:      # pooled over the pairs (the machine's load drifts between runs)
            runs[name].latencies_ms += r.latencies_ms
            runs[name].delivery_ms += r.delivery_ms
            runs[name].driver_ms += r.driver_ms
            runs[name].later.append(r)
        else:
            r.later = []
            runs[name] = r
    if args.pairs > 1:
        for name, r in runs.items():
            d = r.delivery_ms
            print(f"{name:<9} pooled over {args.pairs} runs: publish -> receipt p50 {pct(d, .5):.2f} ms p99 "
                  f"{pct(d, .99):.2f} ms ({len(d)} deliveries); driver p99 {pct(r.driver_ms, .99):.2f} ms")
    ok = True
    if "stalled" in runs:
        r = runs["stalled"]
        after = [(t, b, s) for t, b, s, _ in r.rss if r.full_at is not None and t >= r.full_at]
        if after:
            start, peak, end = after[0][1], max(b for _, b, _ in after), after[-1][1]
            # The store and its caches grow with the payments made; the baseline run makes as many,
            # so its growth over the same seconds is subtracted.
            base = runs.get("baseline")
            base_growth = 0
            if base:
                def at(t):
                    return min(base.rss, key=lambda x: abs(x[0] - t))[1]
                base_growth = at(after[-1][0]) - at(after[0][0])
            extra = (end - start) - base_growth
            flat = extra <= start * args.rss_tolerance
            ok &= flat
            print(f"stalled run RSS: {r.rss[0][1] / 2**20:.1f} MiB at start; {start / 2**20:.1f} MiB when "
                  f"{args.stalled} stalled streams were open ({r.full_at:.0f} s); peak {peak / 2**20:.1f} MiB; "
                  f"{end / 2**20:.1f} MiB at the end ({after[-1][0]:.0f} s, {after[-1][2]} stalled open): "
                  f"{(end - start) / 2**20:+.1f} MiB; the baseline run grew {base_growth / 2**20:+.1f} MiB over the same "
                  f"seconds; difference {extra / 2**20:+.1f} MiB: {'flat' if flat else 'GROWING'} "
                  f"(tolerance {args.rss_tolerance:.0%} of {start / 2**20:.1f} MiB)")
            print("stalled RSS samples (s: MiB/stalled open/normal open): " + ", ".join(
                f"{t:.0f}:{b / 2**20:.0f}/{s}/{n}" for t, b, s, n in r.rss[::5]))
        else:
            ok = False
            print("the stalled window never filled")
    if "baseline" in runs:
        b = runs["baseline"]
        print(f"baseline RSS: {b.rss[0][1] / 2**20:.1f} MiB at start, {b.end_rss / 2**20:.1f} MiB at the end")
        print("baseline RSS samples (s: MiB/stalled open/normal open): " + ", ".join(
            f"{t:.0f}:{m / 2**20:.0f}/{s}/{n}" for t, m, s, n in b.rss[::5]))
    if len(runs) == 2:
        ratio = pct(runs["stalled"].delivery_ms, .99) / pct(runs["baseline"].delivery_ms, .99)
        ratio_event = pct(runs["stalled"].latencies_ms, .99) / pct(runs["baseline"].latencies_ms, .99)
        ok &= ratio <= 2
        print(f"p99 publish -> receipt with stalled streams / without: {ratio:.2f} (goal <= 2); "
              f"event -> receipt: {ratio_event:.2f}")
    print(f"load average at the end {loadavg()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
