"""A PostgreSQL restart while a payment is in flight and replicas are streaming it: the sending
replica's writer and every replica's change feed reconnect; B's TrackPaymentV2 stream, opened before
the restart, carries on and ends with A's final payment, field for field; nothing is lost
(ListPayments on B after).
3 s per hop keeps the HTLCs in flight while the server restarts. (A lifecycle step that meets the
database down fails its payment today: the lifecycle does not retry storage errors yet.) The
replicas hold payment leases (10 s by default): the payment is paid at most once whatever happens
to them across the restart.
"""
import shutil

import harness
import lnd
from lnd import rt
from pgcluster import pg_cluster, pg_dsn  # noqa: F401 (fixtures)
from test_postgres_backend import _pg_flags


def test_database_restart_mid_stream(tmp_path, pg_cluster, pg_dsn):
    net = lnd.Net(tmp_path / "a", *_pg_flags(pg_dsn), "--sim.latency", "3000", channel_options=lnd.NO_BDP_PROBE).start()
    replica = None
    try:
        shutil.copytree(tmp_path / "a", tmp_path / "b", ignore=shutil.ignore_patterns("*.log"))
        replica = harness.Daemon(tmp_path / "b", *_pg_flags(pg_dsn)).start()
        b = lnd.Node(replica)
        inv = net.node("bob").add_invoice(value=4_000)
        send = lnd.StreamReader(net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=inv.payment_request, timeout_seconds=120, fee_limit_sat=1000), timeout=120))
        # Every shard in flight (their sum covers the amount): no write is due for 3 s per hop, so the
        # restart below cuts sessions without failing a lifecycle step.
        send.wait_for(lambda p: sum(h.route.total_amt_msat for h in p.htlcs if h.status == lnd.HTLC_IN_FLIGHT) >= p.value_msat > 0)
        on_b = lnd.StreamReader(b.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=inv.r_hash), timeout=120))
        first = on_b.next()
        assert first.status == lnd.IN_FLIGHT
        pg_cluster.stop("fast")          # every session of every replica is cut
        pg_cluster.start()
        terminal = (lnd.SUCCEEDED, lnd.FAILED)
        sent = send.wait_for(lambda p: p.status in terminal, timeout=90)
        final = on_b.wait_for(lambda p: p.status in terminal, timeout=30)
        assert final == sent, "B's stream survived the restart and ended with A's final payment"
        assert on_b.done.wait(10) and on_b.error is None, "and then ended normally"
        listed = b.list_payments(include_incomplete=True, count_total_payments=True)
        assert listed.total_num_payments == 1 and listed.payments[0] == sent
        ids = [h.attempt_id for h in sent.htlcs]
        assert len(ids) == len(set(ids)), "no attempt twice"
        settled = sum(h.route.total_amt_msat - h.route.total_fees_msat for h in sent.htlcs if h.status == lnd.HTLC_SUCCEEDED)
        assert settled in (0, sent.value_msat), "paid at most once"
    finally:
        if replica:
            replica.stop()
        net.stop()
