"""Failover benchmark (issue 16, point 7): time from kill -9 of the replica driving a payment to
the payment moving again on another replica, over N kills.

Three paytrackd replicas (alice + bob each) on one private PostgreSQL cluster. Each round: send a
payment from the replica whose turn it is (--sim.latency keeps its HTLC in flight), track it on
another, kill -9 the sender once an HTLC is in flight, and time (monotonic clock of this script)
  - "moved": the first change on the tracker that the dead replica did not make: an attempt that
    was in flight in the database right after the kill resolved (the taking-over replica's first
    write), or an attempt the dead one never registered;
  - "new HTLC": the first new attempt in flight after the kill;
  - "done": the payment SUCCEEDED.
Then the killed replica is restarted (same datadir) for the next round. Prints each round with the
load average, then p50 and p99 (nearest rank; with 20 kills p99 is the slowest) of each, and the
lease timing the figures should be compared with (leasetimeout T: lease 0.8 T, takeover scan
every 0.1 T, so moved <= 0.9 T + a round trip after the last heartbeat).

Usage: Benchmarks/pg/failover [kills] [leasetimeout]   (defaults 20, 3s; PAYTRACKD picks the binary)
"""
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))

import harness  # noqa: E402

harness.generate_stubs()

import lnd  # noqa: E402
from pgcluster import Cluster  # noqa: E402
from replicas import send_in_flight, start_replicas  # noqa: E402


def nearest_rank(values, q):
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    timeout = sys.argv[2] if len(sys.argv) > 2 else "3s"
    print(f"paytrackd {harness.PAYTRACKD}; {kills} kills; --db.postgres.leasetimeout {timeout}; {load()}", flush=True)
    cluster = Cluster().init()
    root = Path(tempfile.mkdtemp(prefix="paytrack-failover-"))
    replicas = []
    moved, new_htlc, done = [], [], []
    try:
        dsn = cluster.create_database()
        replicas = start_replicas(root, [dsn] * 3, lease_timeout=timeout, latency="1000")
        for k in range(kills):
            sender = replicas[k % 3]
            tracker = replicas[(k + 1) % 3]
            inv = tracker.bob.add_invoice(value=1_000 + k)
            _, _, track = send_in_flight(sender, inv, tracker)
            t0 = time.monotonic()
            sender.kill9()
            # What the dead replica left in the database (nothing can change it until a takeover).
            rows = cluster.psql(dsn, "SELECT a.attempt_id, (a.settle_ns IS NULL AND a.fail_ns IS NULL) FROM "
                                "paytrack_alice.htlc_attempts a JOIN paytrack_alice.payments p ON p.id = a.payment_id "
                                f"WHERE p.hash = '\\x{inv.r_hash.hex()}'")
            seen, stale = set(), set()
            for line in rows.splitlines():
                aid, open_ = line.split("|")
                seen.add(int(aid) & (2**64 - 1))
                if open_ == "t":
                    stale.add(int(aid) & (2**64 - 1))
            final = track.wait_for(lambda p: p.status in (lnd.SUCCEEDED, lnd.FAILED), timeout=120)
            t_moved = t_new = None
            for at, p in track.items:
                if at < t0:
                    continue
                resolved = any(h.attempt_id in stale and h.status != lnd.HTLC_IN_FLIGHT for h in p.htlcs)
                new = any(h.attempt_id not in seen for h in p.htlcs)
                if t_moved is None and (resolved or new):
                    t_moved = at
                if t_new is None and any(h.attempt_id not in seen and h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs):
                    t_new = at
            t_done = track.items[-1][0]
            if final.status != lnd.SUCCEEDED or t_moved is None:
                raise RuntimeError(f"round {k}: payment ended {final.status}, moved={t_moved}")
            moved.append(t_moved - t0)
            done.append(t_done - t0)
            if t_new is not None:
                new_htlc.append(t_new - t0)
            print(f"kill {k + 1:2d}: moved {moved[-1]:6.3f} s  new HTLC {(t_new - t0) if t_new else float('nan'):6.3f} s"
                  f"  done {done[-1]:6.3f} s  ({load()})", flush=True)
            track.cancel()
            sender.start()
        print(f"\n{kills} kills, --db.postgres.leasetimeout {timeout} (lease {0.8 * float(timeout.rstrip('s')):.1f} s), {load()}")
        for name, v in (("kill -9 -> payment moved", moved), ("kill -9 -> new HTLC in flight", new_htlc),
                        ("kill -9 -> SUCCEEDED", done)):
            if v:
                print(f"  {name:32s} p50 {nearest_rank(v, 0.5):6.3f} s  p99 {nearest_rank(v, 0.99):6.3f} s  "
                      f"min {min(v):6.3f}  max {max(v):6.3f}  (n={len(v)})")
    finally:
        for r in replicas:
            r.stop()
        cluster.destroy()


if __name__ == "__main__":
    main()
