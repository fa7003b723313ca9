"""Failover between paytrackd replicas on one PostgreSQL (issue 16, points 2 and 5): a payment's
lifecycle runs on one replica at a time under a lease held in the database
(--db.postgres.leasetimeout, 3 s here).

- kill -9 of the replica that drives a payment mid-flight: another replica takes it over and
  finishes it; trackers on the others see every change to the end; the attempt the dead replica
  had in flight is resolved (its HTLC died with it), exactly one attempt settles, the invoice is
  paid once.
- a replica cut off from the database (a TCP proxy that drops every byte: a partition, no reset)
  stops driving its payment when its lease lapses; another takes it over and finishes it; the cut
  off one changed nothing after its lease lapsed, and once reconnected it catches up (its own
  SendPaymentV2 stream ends with the other's result) and drives new payments again.
"""
import re
import time

import lnd
from lnd import ln, rt
from pgcluster import pg_cluster, pg_dsn  # noqa: F401 (fixtures)
from replicas import send_in_flight, start_replicas
from tcpproxy import TCPProxy

TERMINAL = (lnd.SUCCEEDED, lnd.FAILED)


def _check_paid_once(payment, invoice):
    ids = [h.attempt_id for h in payment.htlcs]
    assert len(ids) == len(set(ids)), "no attempt twice"
    assert [h.status for h in payment.htlcs].count(lnd.HTLC_SUCCEEDED) == 1, payment
    assert all(h.status != lnd.HTLC_IN_FLIGHT for h in payment.htlcs)
    assert invoice.state == ln.Invoice.SETTLED
    assert invoice.amt_paid_msat == invoice.value_msat, "paid once: no second HTLC reached the payee"
    assert [h.state for h in invoice.htlcs].count(ln.InvoiceHTLCState.SETTLED) == 1


def _alice_channels(replica):
    return {ch.chan_id: ch for ch in replica.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels}


def test_kill9_of_the_owner_mid_flight(tmp_path, pg_cluster, pg_dsn):
    a, b, c = start_replicas(tmp_path, [pg_dsn] * 3, lease_timeout="3s", latency="1500")
    try:
        inv = b.bob.add_invoice(value=5_000)
        before = _alice_channels(c)
        _, inflight, on_b = send_in_flight(a, inv, b)
        on_c = lnd.StreamReader(c.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=inv.r_hash), timeout=120))
        assert on_c.next().status == lnd.IN_FLIGHT
        a.kill9()
        final_b = on_b.wait_for(lambda p: p.status in TERMINAL, timeout=90)
        final_c = on_c.wait_for(lambda p: p.status in TERMINAL, timeout=30)
        assert final_b.status == lnd.SUCCEEDED and final_c == final_b, "both trackers saw it end, alike"
        assert on_b.done.wait(10) and on_b.error is None and on_c.done.wait(10) and on_c.error is None
        # Exactly one of B and C took it over (the lease decides) and resumed it.
        took = [r for r in (b, c) if re.search(r"took over 1 payment", r.log())]
        assert len(took) == 1, "one replica took the payment over"
        # The attempt A had in flight was resolved (its HTLC died with A), not left or sent again.
        stale = {h.attempt_id for h in inflight.htlcs if h.status == lnd.HTLC_IN_FLIGHT}
        by_id = {h.attempt_id: h for h in final_b.htlcs}
        assert stale and all(by_id[i].status != lnd.HTLC_IN_FLIGHT for i in stale)
        _check_paid_once(final_b, b.bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash), timeout=10))
        listed = c.alice.list_payments(include_incomplete=True, count_total_payments=True)
        assert listed.total_num_payments == 1 and listed.payments[0] == final_b
        assert final_b.payment_index == inflight.payment_index
        # The dead replica's HTLC holds were resolved at takeover, not left locking capacity: no
        # HTLC is live any more, so nothing is pending or locked, and alice's balances moved
        # exactly once, by the settled attempt's amount.
        settled = next(h for h in final_b.htlcs if h.status == lnd.HTLC_SUCCEEDED).route
        for replica in (b, c):
            after = _alice_channels(replica)
            assert not any(ch.pending_htlcs for ch in after.values()), "no hold of the dead replica left"
            moved = {cid: before[cid].local_balance - after[cid].local_balance for cid in before}
            assert abs(moved[settled.hops[0].chan_id] - settled.total_amt_msat / 1000) <= 1
            assert all(m == 0 for cid, m in moved.items() if cid != settled.hops[0].chan_id), moved
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_simnet.sim_htlcs") == "0"
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_simnet.sim_channels WHERE locked_msat <> 0") == "0"
        assert re.search(r"resolved \d+ HTLC hold\(s\) of the lapsed owner", took[0].log()), "the takeover released them"
        # It only moved forward on both trackers (a lagging replica may start from an older state):
        # attempts are only added and resolved, never lost or reopened.
        for reader in (on_b, on_c):
            progress = [(len(p.htlcs), sum(h.status != lnd.HTLC_IN_FLIGHT for h in p.htlcs)) for p in reader.messages]
            assert progress == sorted(progress), progress
    finally:
        for r in (a, b, c):
            r.stop()


def test_a_replica_cut_off_from_the_database_stops_driving(tmp_path, pg_cluster, pg_dsn):
    proxy = TCPProxy("127.0.0.1", pg_cluster.port)
    dbname = pg_dsn.split("dbname=")[1]
    via_proxy = f"host=127.0.0.1 port={proxy.port} user=postgres dbname={dbname}"
    a, b = start_replicas(tmp_path, [via_proxy, pg_dsn], lease_timeout="3s", latency="1500")
    try:
        inv = b.bob.add_invoice(value=6_000)
        send, inflight, on_b = send_in_flight(a, inv, b)
        proxy.blackhole()
        cut_at = time.time()
        final = on_b.wait_for(lambda p: p.status in TERMINAL, timeout=90)
        assert final.status == lnd.SUCCEEDED
        assert re.search(r"took over 1 payment", b.log())
        # A noticed on its own, with no database to tell it: lease lost, run abandoned.
        lnd.wait_until(lambda: "stops driving its payments" in a.log(), timeout=20, what="A stops")
        assert re.search(r"abandoned", a.log())
        # The database shows only A's attempts from before the cut and B's: A wrote nothing after
        # its lease lapsed (fencing), and sent no HTLC that reached the payee (paid once).
        stale = {h.attempt_id for h in inflight.htlcs}
        before_cut = {h.attempt_id for h in final.htlcs if h.attempt_time_ns < cut_at * 1e9}
        assert stale <= before_cut
        _check_paid_once(final, b.bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash), timeout=10))
        proxy.heal()
        # Reconnected, A catches up: its SendPaymentV2 stream ends with B's result, field for field.
        assert send.wait_for(lambda p: p.status in TERMINAL, timeout=60) == final
        # A holds a new lease (a new token) and drives new payments again.
        lnd.wait_until(lambda: len(re.findall(r"payment lease \d+ acquired", a.log())) >= 2, timeout=30, what="A's new lease")
        again = a.alice.send(payment_request=a.bob.add_invoice(value=1_000).payment_request, timeout=90)[-1]
        assert again.status == lnd.SUCCEEDED
        listed = b.alice.list_payments(include_incomplete=True)
        assert [p.payment_hash for p in listed.payments] == [inv.r_hash.hex(), again.payment_hash]
        assert listed.payments[0] == final
    finally:
        proxy.close()
        for r in (a, b):
            r.stop()


def test_the_same_payment_sent_through_two_replicas_at_once(tmp_path, pg_cluster, pg_dsn):
    """Creation is idempotent across replicas: the same invoice sent through A and B at the same
    moment is created once (one payment index, one lifecycle); the other SendPaymentV2 gets LND's
    refusal (AlreadyExists, `payment is in transition` or `payment already exists`)."""
    import threading

    import grpc
    a, b = start_replicas(tmp_path, [pg_dsn] * 2, lease_timeout="3s", latency="300")
    try:
        for round_ in range(3):
            inv = a.bob.add_invoice(value=2_000 + round_)
            outcomes = {}
            start = threading.Barrier(2)

            def pay(name, replica):
                start.wait()
                try:
                    outcomes[name] = list(replica.alice.router.SendPaymentV2(rt.SendPaymentRequest(
                        payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000), timeout=60))[-1]
                except grpc.RpcError as e:
                    outcomes[name] = e
            threads = [threading.Thread(target=pay, args=(n, r)) for n, r in (("a", a), ("b", b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(90)
            done = [o for o in outcomes.values() if not isinstance(o, grpc.RpcError)]
            refused = [o for o in outcomes.values() if isinstance(o, grpc.RpcError)]
            assert len(done) == 1 and done[0].status == lnd.SUCCEEDED, outcomes
            assert len(refused) == 1 and refused[0].code() == grpc.StatusCode.ALREADY_EXISTS, outcomes
            assert refused[0].details() in ("payment is in transition", "payment already exists", "invoice is already paid")
            _check_paid_once(done[0], a.bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash), timeout=10))
        listed = b.alice.list_payments(include_incomplete=True, count_total_payments=True)
        assert listed.total_num_payments == 3
        indexes = [p.payment_index for p in listed.payments]
        assert indexes == sorted(set(indexes)), "one index per payment, none twice"
    finally:
        for r in (a, b):
            r.stop()
