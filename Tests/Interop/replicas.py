"""Several paytrackd replicas on one PostgreSQL database (issue 16), each serving alice (the
primary node) and bob, with copies of the first replica's datadir (TLS, macaroons, node keys:
nothing mutable lives there). Used by test_postgres_failover.py and Benchmarks/pg/failover.py."""
import shutil

import harness
import lnd
from lnd import rt


def pg_flags(dsn, lease_timeout="3s", latency="1000"):
    # --nokdf: the Komodo API's records are not in PostgreSQL yet (README, "Replicas").
    return ["--db.backend", "postgres", "--db.postgres.dsn", dsn, "--db.postgres.timeout", "10s",
            "--db.postgres.maxconnections", "8", "--db.postgres.leasetimeout", lease_timeout,
            "--sim.latency", latency, "--nokdf"]


class Replica:
    """One paytrackd serving alice on its --rpclisten and bob on a port of its own."""

    def __init__(self, datadir, dsn, **flags):
        self.datadir = datadir
        self.bob_port = harness.free_port()
        self.daemon = harness.Daemon(datadir, *pg_flags(dsn, **flags), "--serve", f"bob=127.0.0.1:{self.bob_port}")
        self.alice = self.bob = None

    def start(self):
        self.daemon.start()
        bob = harness.Daemon(self.datadir / "nodes" / "bob")
        bob.port = self.bob_port
        lnd.wait_until(lambda: bob.cert_path.exists() and bob._tls_ready(), timeout=20, what="bob listening")
        self.alice = lnd.Node(self.daemon, lnd.NO_BDP_PROBE)
        self.bob = lnd.Node(bob, lnd.NO_BDP_PROBE)
        return self

    def _close(self):
        for n in (self.alice, self.bob):
            if n:
                n.close()
        self.alice = self.bob = None

    def kill9(self):
        self._close()
        self.daemon.kill9()

    def stop(self):
        self._close()
        if self.daemon.proc and self.daemon.proc.poll() is None:
            self.daemon.stop()

    def log(self):
        return self.daemon.log_path.read_text(errors="replace")


def send_in_flight(sender, invoice, tracker):
    """SendPaymentV2 of `invoice` on replica `sender` until an HTLC is in flight; then a
    TrackPaymentV2 stream on `tracker`, its first update read. Returns (send stream, the in-flight
    snapshot, track stream)."""
    send = lnd.StreamReader(sender.alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=invoice.payment_request, timeout_seconds=300, fee_limit_sat=1000), timeout=300))
    inflight = send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs), timeout=60)
    track = lnd.StreamReader(tracker.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=invoice.r_hash), timeout=300))
    first = track.next(timeout=30)
    assert first.status == lnd.IN_FLIGHT
    return send, inflight, track


def start_replicas(root, dsns, **flags):
    """Replicas named a, b, c, ... under `root`, one per DSN (all to one database, possibly by
    different routes); the first makes the datadir the others copy."""
    names = "abcdefgh"[:len(dsns)]
    first = Replica(root / names[0], dsns[0], **flags).start()
    out = [first]
    for name, dsn in zip(names[1:], dsns[1:]):
        shutil.copytree(root / names[0], root / name, ignore=shutil.ignore_patterns("*.log"))
        out.append(Replica(root / name, dsn, **flags).start())
    return out
