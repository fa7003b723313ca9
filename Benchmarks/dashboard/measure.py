"""Benchmarks/dashboard/run's measurement (see there). Reuses Tests/Interop's harness and the
dashboard driver; prints progress to stderr and writes Benchmarks/dashboard/RESULTS.md."""
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))
import harness  # noqa: E402

harness.generate_stubs()
import lnd  # noqa: E402
from dashboard_driver import Load, Page, store_payments  # noqa: E402

STORED = 10_000
RATE = 50           # payments/s, each >= 2 updates


def pct(a, p):
    return a[min(len(a) - 1, int(p * len(a)))] if a else None


def main(duration):
    tmp = Path(tempfile.mkdtemp(prefix="paytrack-dash-bench-"))
    bob_rest = harness.free_port()
    net = lnd.Net(tmp / "node", "--sim.latency", "0", "--debuglevel", "info",
                  "--serve-rest", f"bob=127.0.0.1:{bob_rest}").start()
    page = None
    try:
        bob = net.node("bob").pubkey
        t = time.time()
        made = store_payments(net.alice, bob, STORED)
        print(f"stored {made} payments in {time.time() - t:.1f}s", file=sys.stderr)
        page = Page(tmp / "profile", net.daemon.rest_url + "/", shots_dir=tmp / "shots")
        page.open()
        t = time.time()
        page.login(net.daemon.macaroon_hex(), observe=False)
        page.wait(f"document.getElementById('pay-count').textContent.startsWith('{STORED:,} payments')", timeout=120)
        load_s = time.time() - t
        page.js("window.paytrackDashboard.metrics.drain(), true")
        page.browser.call("HeapProfiler.enable")
        page.browser.call("HeapProfiler.collectGarbage")
        heap0 = page.heap()[0]
        dom0 = page.dom_nodes()
        samples, heaps, messages0 = [], [], page.metrics()["messages"]
        load = Load(net.alice, bob, per_second=RATE).start()
        t0 = time.time()
        while time.time() - t0 < duration:
            time.sleep(10)
            samples += page.js("window.paytrackDashboard.metrics.drain()")
            heaps.append((round(time.time() - t0), page.heap()[0]))
            print(f"{heaps[-1][0]:4d}s heap {heaps[-1][1] / 1e6:.1f} MB, {len(samples)} updates", file=sys.stderr)
        load.stop()
        elapsed = time.time() - t0
        time.sleep(2)
        samples += page.js("window.paytrackDashboard.metrics.drain()")
        m = page.metrics()
        page.browser.call("HeapProfiler.collectGarbage")
        heap_end = page.heap()[0]
        dom_end = page.dom_nodes()
        page.shot("end")
    finally:
        if page:
            page.close()
        net.stop()
    s = sorted(samples)
    updates_per_s = (m["messages"] - messages0) / elapsed
    rows = {
        "stored payments at start": f"{STORED:,}",
        "payments sent during the run": f"{load.sent:,} ({load.sent / elapsed:.1f}/s)",
        "TrackPayments updates received": f"{m['messages'] - messages0:,} ({updates_per_s:.1f}/s)",
        "updates measured": f"{len(s):,}",
        "update -> DOM p50 / p90 / p99 / max (ms)": " / ".join(f"{pct(s, q):.1f}" for q in (0.5, 0.9, 0.99)) + f" / {s[-1]:.1f}" if s else "n/a",
        "share within 250 ms": f"{100 * sum(1 for x in s if x <= 250) / max(1, len(s)):.2f} %",
        "page load with 10,000 payments (login -> table filled)": f"{load_s:.2f} s",
        "JS heap used after GC, start -> end": f"{heap0 / 1e6:.1f} MB -> {heap_end / 1e6:.1f} MB",
        "JS heap used, min / median / max over the run": " / ".join(f"{v / 1e6:.1f}" for v in (
            min(h for _, h in heaps), statistics.median(h for _, h in heaps), max(h for _, h in heaps))) + " MB",
        "payments held by the page at the end": f"{m['kept']:,} (cap 20,000 + 1,000 slack; older ones stay in the daemon)",
        "DOM elements, start -> end": f"{dom0} -> {dom_end}",
    }
    lines = [
        "# Dashboard under load (issue 18)",
        "",
        f"`Benchmarks/dashboard/run {duration:g}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.platform()}, {os.cpu_count()} cores shared with other builds; paytrackd "
        f"{'release' if 'release' in os.environ.get('PAYTRACKD', '') else 'debug'}, headless Chromium (Debian), "
        f"--sim.latency 0, alice paying bob by keysend.",
        "",
        "Latency is measured in the page: for every TrackPayments message, from the newest of the payment's",
        "`creation_time_ns`, `htlcs[].attempt_time_ns` and `htlcs[].resolve_time_ns` (the daemon's clock, the",
        "same machine) to the end of the render pass that wrote the change into the DOM (batched per animation",
        "frame). The daemon, Chromium and the load generator share the machine's cores.",
        "",
        "| figure | value |",
        "| --- | --- |",
    ] + [f"| {k} | {v} |" for k, v in rows.items()] + [
        "",
        "Heap over the run (seconds, MB used):",
        "",
        "    " + ", ".join(f"{t}s {h / 1e6:.1f}" for t, h in heaps),
        "",
    ]
    out = ROOT / "Benchmarks" / "dashboard" / "RESULTS.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    print(json.dumps({"p50": pct(s, 0.5), "p99": pct(s, 0.99)}), file=sys.stderr)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 600)
