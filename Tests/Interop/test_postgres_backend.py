"""paytrackd on --db.backend postgres against a private PostgreSQL cluster: payments, invoices,
payment intents and macaroon root keys live in the database (not in the datadir), survive a kill -9 mid-flight and finish after the restart; a bad
DSN or a missing one is a clear startup error.
"""
import os

import grpc
import pytest

import harness
import lnd
from lnd import ln, rt
from pgcluster import pg_cluster, pg_dsn  # noqa: F401 (fixtures)


def _pg_flags(dsn):
    # --nokdf: the Komodo API's records still live in a SQLite file of the datadir (not yet behind
    # the PostgreSQL backend), so these replicas serve no Komodo API (README, "Replicas").
    return ("--db.backend", "postgres", "--db.postgres.dsn", dsn, "--db.postgres.timeout", "10s",
            "--db.postgres.maxconnections", "8", "--nokdf")


def test_payments_live_in_postgres_and_survive_kill9(tmp_path, pg_cluster, pg_dsn):
    net = lnd.Net(tmp_path / "node", *_pg_flags(pg_dsn), "--sim.latency", "800",
                  channel_options=lnd.NO_BDP_PROBE).start()
    try:
        bob = net.node("bob")
        done = net.alice.send(payment_request=bob.add_invoice(value=1_000).payment_request)[-1]
        assert done.status == lnd.SUCCEEDED
        # The payment is a row of alice's schema; no payments file in the datadir.
        rows = pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_alice.payments")
        assert rows == "1"
        assert not list((tmp_path / "node").rglob("payments.sqlite"))
        assert not list((tmp_path / "node").rglob("invoices.sqlite"))
        assert not list((tmp_path / "node").rglob("intents.sqlite"))
        assert not list((tmp_path / "node").rglob("macaroons.rootkeys"))
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_alice.macaroon_root_keys") == "1"
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_bob.invoices WHERE state = 1") == "1"

        inv = bob.add_invoice(value=2_000)
        send = lnd.StreamReader(net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000), timeout=60))
        inflight = send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
        # The intent that lets the restart resume the payment is a row too.
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_alice.payment_intents") == "1"
        net.daemon.kill9()
        assert send.done.wait(10)
        assert send.error is not None and send.error.code() == grpc.StatusCode.UNAVAILABLE

        net.close_channels()
        net.start()
        listed = net.alice.list_payments(include_incomplete=True, count_total_payments=True)
        assert listed.total_num_payments == 2
        assert listed.payments[0] == done
        again = listed.payments[1]
        assert again.payment_hash == inv.r_hash.hex() and again.payment_index == inflight.payment_index
        final = net.alice.track(inv.r_hash)[-1]
        assert final.status == lnd.SUCCEEDED
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_alice.htlc_attempts WHERE settle_preimage IS NOT NULL") == "2"
    finally:
        net.stop()


def test_postgres_backend_needs_a_reachable_dsn(tmp_path):
    missing = harness.Daemon(tmp_path / "a", "--db.backend", "postgres")
    with pytest.raises(RuntimeError) as e:
        missing.start(timeout=20)
    assert "--db.backend postgres needs --db.postgres.dsn" in str(e.value)
    unreachable = harness.Daemon(tmp_path / "b", "--db.backend", "postgres", "--db.postgres.dsn",
                                 "host=/nonexistent port=1 user=postgres", "--db.postgres.timeout", "2s")
    with pytest.raises(RuntimeError) as e:
        unreachable.start(timeout=20)
    assert "postgres" in str(e.value) and "password" not in str(e.value)
    bad = harness.Daemon(tmp_path / "c", "--db.backend", "mysql")
    with pytest.raises(RuntimeError) as e:
        bad.start(timeout=20)
    assert "--db.backend wants sqlite or postgres" in str(e.value)


def test_three_replicas_send_on_a_track_on_b_list_on_c(tmp_path, pg_cluster, pg_dsn):
    """Three paytrackd processes serve alice from one database, with the same TLS, macaroon and
    node-key files (copies of A's datadir: nothing mutable lives there). A sends; B's TrackPaymentV2
    and C's TrackPayments see every change to the end, in order (LISTEN/NOTIFY and the change
    index); C lists it; a macaroon minted on A verifies on B and C (root keys in the database)."""
    import shutil
    net = lnd.Net(tmp_path / "a", *_pg_flags(pg_dsn), "--sim.latency", "300", channel_options=lnd.NO_BDP_PROBE).start()
    replicas = []
    try:
        for name in ("b", "c"):
            shutil.copytree(tmp_path / "a", tmp_path / name, ignore=shutil.ignore_patterns("*.log"))
            replicas.append(harness.Daemon(tmp_path / name, *_pg_flags(pg_dsn)).start())
        b, c = (lnd.Node(r) for r in replicas)
        assert b.pubkey == c.pubkey == net.alice.pubkey
        all_on_c = lnd.StreamReader(c.router.TrackPayments(rt.TrackPaymentsRequest(), timeout=60))
        inv = net.node("bob").add_invoice(value=3_000)
        send = lnd.StreamReader(net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000), timeout=60))
        send.wait_for(lambda p: True)
        on_b = b.track(inv.r_hash)
        assert on_b[-1].status == lnd.SUCCEEDED
        assert [p.status for p in on_b] == sorted(p.status for p in on_b), "statuses only move forward"
        versions = [(len(p.htlcs), p.status) for p in on_b]
        assert len(set(versions)) == len(versions), "no update twice"
        sent = send.wait_for(lambda p: p.status == lnd.SUCCEEDED)
        assert on_b[-1] == sent, "B's last update is A's final payment, field for field"
        final_on_c = all_on_c.wait_for(lambda p: p.payment_hash == inv.r_hash.hex() and p.status == lnd.SUCCEEDED)
        assert final_on_c == sent
        listed = c.list_payments(include_incomplete=True)
        assert [p.payment_hash for p in listed.payments] == [inv.r_hash.hex()]
        assert listed.payments[0] == sent
        all_on_c.cancel()
    finally:
        for r in replicas:
            r.stop()
        net.stop()


def _alice_channels(node):
    return {ch.chan_id: ch for ch in node.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels}


def test_database_restart_keeps_a_live_replicas_holds(tmp_path, pg_cluster, pg_dsn):
    """A hold in the shared simulated network belongs to the replica lease that reserved it, not to
    a database session: alice on replica A pays bob's hold invoice (A holds the HTLC), PostgreSQL
    restarts (every session and server process of A changes), then replica B starts and opens the
    ledger. The HTLC's holds survive (B shows the HTLC pending on alice's channel, the database
    still has them); settled through B, the payment succeeds and the balances move exactly once."""
    import shutil
    from invoicesrpc import invoices_pb2 as inv
    from invoicesrpc import invoices_pb2_grpc as invstub
    a = lnd.Net(tmp_path / "a", *_pg_flags(pg_dsn), "--sim.latency", "50", channel_options=lnd.NO_BDP_PROBE).start()
    b = None
    try:
        pre, h = lnd.preimage_and_hash()
        added = invstub.InvoicesStub(a.node("bob").channel).AddHoldInvoice(
            inv.AddHoldInvoiceRequest(hash=h, value=20_000, memo="held across a restart"), timeout=10)
        before = _alice_channels(a)
        pay = lnd.StreamReader(a.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=added.payment_request, timeout_seconds=120, fee_limit_sat=1000), timeout=120))
        lnd.wait_until(lambda: a.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=h), timeout=10).state == ln.Invoice.ACCEPTED,
                       what="the HTLC held by bob on A")
        holds = "SELECT string_agg(htlc_id || ':' || hop || ':' || amount_msat, ',' ORDER BY htlc_id, hop) FROM paytrack_simnet.sim_htlcs"
        held = pg_cluster.psql(pg_dsn, holds)
        assert held, "the HTLC's hops are held in the ledger"

        pg_cluster.stop("fast")
        pg_cluster.start()
        shutil.copytree(tmp_path / "a", tmp_path / "b", ignore=shutil.ignore_patterns("*.log"))
        b = lnd.Net(tmp_path / "b", *_pg_flags(pg_dsn), "--sim.latency", "50", channel_options=lnd.NO_BDP_PROBE).start()
        assert pg_cluster.psql(pg_dsn, holds) == held, "B opened the ledger after the restart and released nothing"
        pending = [x for ch in _alice_channels(b).values() for x in ch.pending_htlcs]
        assert len(pending) == 1 and not pending[0].incoming, pending

        invstub.InvoicesStub(b.node("bob").channel).SettleInvoice(inv.SettleInvoiceMsg(preimage=pre), timeout=10)
        done = pay.wait_for(lambda p: p.status in (lnd.SUCCEEDED, lnd.FAILED), timeout=60)
        assert done.status == lnd.SUCCEEDED and done.payment_preimage == pre.hex()
        assert [x.status for x in done.htlcs] == [lnd.HTLC_SUCCEEDED]
        route = done.htlcs[0].route
        for node in (a, b):
            after = _alice_channels(node)
            assert not any(ch.pending_htlcs for ch in after.values())
            moved = {cid: before[cid].local_balance - after[cid].local_balance for cid in before}
            assert abs(moved[route.hops[0].chan_id] - route.total_amt_msat / 1000) <= 1, "moved once, by the HTLC's amount"
            assert all(m == 0 for cid, m in moved.items() if cid != route.hops[0].chan_id)
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_simnet.sim_htlcs") == "0"
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_simnet.sim_channels WHERE locked_msat <> 0") == "0"
    finally:
        if b:
            b.stop()
        a.stop()
