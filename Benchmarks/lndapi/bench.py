"""Benchmarks of issue 15 point 9 through the real RPC (paytrackd over TLS with macaroons):

  routes   QueryRoutes and EstimateRouteFee (by destination) on a 15,000-node scale-free graph:
           client-observed latency p50 / p99 (goal: p50 <= 2 ms, p99 <= 10 ms)
  streams  10,000 concurrent SubscribeSingleInvoice streams: server RSS per stream (goal <= 2 KiB)

usage: bench.py PAYTRACKD [routes] [streams] [--calls N] [--streams N] [--no-macaroons]
Not part of the test suite; timing goals live here, never in tests.
"""
import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))
import harness  # noqa: E402

harness.generate_stubs()
import lightning_pb2 as ln  # noqa: E402
import lightning_pb2_grpc as lnstub  # noqa: E402
from routerrpc import router_pb2 as rt, router_pb2_grpc as rtstub  # noqa: E402
from invoicesrpc import invoices_pb2 as inv, invoices_pb2_grpc as invstub  # noqa: E402


def pub(i):
    return "02" + hashlib.sha256(f"bench-node-{i}".encode()).hexdigest()


def topology(nodes, per_node, seed=7):
    """A Barabási–Albert graph (each new node opens `per_node` channels to degree-weighted
    peers), node 0 = alice (derived key: served), the others with fixed public keys."""
    rng = random.Random(seed)
    ns = [{"alias": "alice"}] + [{"alias": f"n{i}", "pub_key": pub(i)} for i in range(1, nodes)]
    alias = [n["alias"] for n in ns]
    chans, ends, scid = [], [], 0

    def policy():
        return {"fee_base_msat": rng.choice([0, 100, 1000, 1000, 2000]), "fee_rate_ppm": rng.randint(1, 2000),
                "time_lock_delta": rng.choice([18, 40, 40, 80, 144]), "min_htlc_msat": 1000}

    def connect(a, b):
        nonlocal scid
        scid += 1
        cap = rng.choice([1_000_000, 2_000_000, 5_000_000, 16_000_000])
        chans.append({"short_channel_id": f"{500000 + scid // 1000}x{scid % 1000}x0", "node1": alias[a], "node2": alias[b],
                      "capacity_sat": cap, "node1_balance_msat": cap * 500, "node1_policy": policy(), "node2_policy": policy()})
        ends.extend([a, b])

    for a in range(per_node + 1):
        for b in range(a):
            connect(a, b)
    for v in range(per_node + 1, nodes):
        chosen = set()
        while len(chosen) < per_node:
            chosen.add(rng.choice(ends))
        for u in sorted(chosen):
            connect(v, u)
    return {"version": 1, "start_height": 800000, "nodes": ns, "channels": chans}


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """utime + stime of a process (all threads), seconds: CPU it used, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_routes(paytrackd, work, calls):
    topo = work / "graph15k.json"
    topo.write_text(json.dumps(topology(15_000, 3)))
    harness.PAYTRACKD = paytrackd
    d = harness.Daemon(work / "routes", "--topology", str(topo), "--sim.latency", "0", debuglevel="info")
    d.start(timeout=300)
    try:
        ch = d.channel()
        lnd_ = lnstub.LightningStub(ch)
        router = rtstub.RouterStub(ch)
        rng = random.Random(1)
        dests = [pub(rng.randint(1, 14_999)) for _ in range(calls)]
        for q in dests[:50]:  # warm-up
            try:
                lnd_.QueryRoutes(ln.QueryRoutesRequest(pub_key=q, amt=10_000), timeout=10)
            except grpc.RpcError:
                pass
        for name, call in (("QueryRoutes", lambda q: lnd_.QueryRoutes(ln.QueryRoutesRequest(pub_key=q, amt=10_000), timeout=10)),
                           ("EstimateRouteFee", lambda q: router.EstimateRouteFee(
                               rt.RouteFeeRequest(dest=bytes.fromhex(q), amt_sat=10_000), timeout=10))):
            lat, errors = [], 0
            cpu0 = cpu_seconds(d.proc.pid)
            for q in dests:
                t = time.perf_counter()
                try:
                    call(q)
                except grpc.RpcError:
                    errors += 1
                lat.append((time.perf_counter() - t) * 1000)
            cpu = (cpu_seconds(d.proc.pid) - cpu0) / calls * 1e6
            print(f"{name}: {calls} calls on 15,000 nodes: server CPU {cpu:.0f} us/call, p50 {statistics.median(lat):.2f} ms, "
                  f"p99 {percentile(lat, 0.99):.2f} ms, max {max(lat):.2f} ms ({errors} errors: no route; "
                  f"load average {os.getloadavg()[0]:.1f})")
    finally:
        d.stop()


def bench_streams(paytrackd, work, count, macaroons):
    harness.PAYTRACKD = paytrackd
    d = harness.Daemon(work / "streams", "--sim.latency", "0", debuglevel="info", no_macaroons=not macaroons).start()
    try:
        mac = "admin" if macaroons else None
        chans = [d.channel(macaroon=mac, options=[("grpc.max_concurrent_streams", 100_000)]) for _ in range(10)]
        for c in chans:  # connections up before the first reading: the figure is per stream only
            grpc.channel_ready_future(c).result(timeout=30)
        stubs = [invstub.InvoicesStub(c) for c in chans]
        time.sleep(1)
        before = rss_kib(d.proc.pid)
        calls = []
        for i in range(count):
            h = hashlib.sha256(f"never-added-{i}".encode()).digest()
            calls.append(stubs[i % len(stubs)].SubscribeSingleInvoice(inv.SubscribeSingleInvoiceRequest(r_hash=h)))
        # The streams are open once the server has registered them; wait for the RSS to settle.
        time.sleep(5)
        after = rss_kib(d.proc.pid)
        per = (after - before) * 1024 / count
        ended = [c for c in calls if c.done()]
        print(f"SubscribeSingleInvoice: {count} open streams over {len(chans)} connections: "
              f"server RSS {before} -> {after} KiB, {per:.0f} bytes per stream "
              f"({'macaroon' if macaroons else 'no macaroon'} per call; load average {os.getloadavg()[0]:.1f}; "
              f"{len(ended)} streams ended early)")
        # The streams are live: a hold invoice added for a sample of the hashes reaches its stream.
        lnd_inv = invstub.InvoicesStub(d.channel(macaroon=mac))
        sample = random.Random(3).sample(range(count), min(count, 200))
        for i in sample:
            h = hashlib.sha256(f"never-added-{i}".encode()).digest()
            lnd_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=1000), timeout=30)
        for i in sample:
            first = next(calls[i])
            assert first.state == ln.Invoice.OPEN, first
        print(f"  checked: {len(sample)} sampled streams each got OPEN once their hold invoice was added")
        for c in calls:
            c.cancel()
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paytrackd")
    ap.add_argument("which", nargs="*", default=["routes", "streams"])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--streams", type=int, default=10_000)
    ap.add_argument("--no-macaroons", action="store_true", help="streams: daemon and calls without macaroons")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="paytrack-lndapi-bench-") as tmp:
        work = Path(tmp)
        if "routes" in a.which:
            bench_routes(a.paytrackd, work, a.calls)
        if "streams" in a.which:
            bench_streams(a.paytrackd, work, a.streams, not a.no_macaroons)


if __name__ == "__main__":
    main()
