"""paytrackd on --db.backend postgres against a private PostgreSQL cluster: payments, invoices,
payment intents and macaroon root keys live in the database (not in the datadir), survive a kill -9 mid-flight and finish after the restart; a bad
DSN or a missing one is a clear startup error.
"""
import os

import grpc
import pytest

import harness
import lnd
from lnd import rt
from pgcluster import pg_cluster, pg_dsn  # noqa: F401 (fixtures)


def _pg_flags(dsn):
    return ("--db.backend", "postgres", "--db.postgres.dsn", dsn, "--db.postgres.timeout", "10s",
            "--db.postgres.maxconnections", "8")


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
