"""One simulated network shared by every replica on one PostgreSQL (--db.backend postgres): the
channels' balances, locks and HTLCs in flight are rows of the database (schema paytrack_simnet),
reserved with conditional updates, so two replicas paying over the same channel at once can never
overdraw it; and a hold invoice whose HTLC is held on one replica can be settled through another
(the settle is a database change every replica hears through LISTEN/NOTIFY; the replica holding
the payer's HTLC acts on it). The Komodo API's records are rows of the database as well, so
every replica serves mmrpc.
"""
import json
import shutil
import threading

import requests

import harness
import lnd
from lnd import ln, rt
from invoicesrpc import invoices_pb2 as inv
from invoicesrpc import invoices_pb2_grpc as invstub
from pgcluster import pg_cluster, pg_dsn  # noqa: F401 (fixtures)

COIN = "tBTC-lightning"


def _pg_flags(dsn):
    return ("--db.backend", "postgres", "--db.postgres.dsn", dsn, "--db.postgres.timeout", "10s",
            "--db.postgres.maxconnections", "8")


def _replicas(tmp_path, dsn, count, *flags):
    """`count` replicas serving alice and bob from one database; the others get copies of the
    first one's datadir (TLS, macaroons, node keys: nothing mutable)."""
    first = lnd.Net(tmp_path / "r0", *_pg_flags(dsn), *flags, channel_options=lnd.NO_BDP_PROBE).start()
    nets = [first]
    try:
        for i in range(1, count):
            shutil.copytree(tmp_path / "r0", tmp_path / f"r{i}", ignore=shutil.ignore_patterns("*.log"))
            nets.append(lnd.Net(tmp_path / f"r{i}", *_pg_flags(dsn), *flags, channel_options=lnd.NO_BDP_PROBE).start())
    except BaseException:
        for n in nets:
            n.stop()
        raise
    return nets


ALICE_CAROL, CAROL_GRACE, FRANK_CAROL = lnd.scid(1), lnd.scid(8), lnd.scid(13)


def _channel(node, scid):
    return next(c for c in node.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels if c.chan_id == scid)


def test_two_replicas_paying_over_one_channel_never_overdraw_it(tmp_path, pg_cluster, pg_dsn):
    """Replica A (alice) and replica B (frank) each send three 40,000-sat keysends to grace at once,
    all forced through carol's channel to grace (150,000 sat on carol's side, lnd.TOPOLOGY), with
    hop latency so all six are in flight together. Each replica alone would see room for all three
    of its own; together at most three fit. The sum forwarded never exceeds the balance, the
    channel's balance as both replicas and the database see it is the opening balance minus exactly
    what succeeded, nothing stays locked, and every failure is LND's: carol refused the HTLC with
    TEMPORARY_CHANNEL_FAILURE (failure source 1), the payment ends without a route.
    (The payers are two nodes because two replicas of one node cannot yet send at the same time:
    payment indexes are still allocated per process.)"""
    assert lnd.TOPOLOGY[7][:4] == ("carol", "grace", 200_000, 150_000)
    a = lnd.Net(tmp_path / "a", *_pg_flags(pg_dsn), "--sim.latency", "300", channel_options=lnd.NO_BDP_PROBE).start()
    try:
        b = lnd.Net(tmp_path / "b", *_pg_flags(pg_dsn), "--node", "frank", "--sim.latency", "300", serve=(),
                    channel_options=lnd.NO_BDP_PROBE).start()
    except BaseException:
        a.stop()
        raise
    try:
        alice, frank = a.alice, b.alice
        carol = _channel(alice, ALICE_CAROL).remote_pubkey
        grace = _channel(a.node("bob"), lnd.scid(9)).remote_pubkey
        assert _channel(frank, FRANK_CAROL).remote_pubkey == carol
        results, lock = [], threading.Lock()

        def pay(node, first_hop):
            pre, h = lnd.preimage_and_hash()
            updates = node.send(dest=bytes.fromhex(grace), amt=40_000, payment_hash=h, outgoing_chan_ids=[first_hop],
                                last_hop_pubkey=bytes.fromhex(carol), dest_custom_records={lnd.KEYSEND_TYPE: pre},
                                timeout_seconds=60, fee_limit_sat=1_000, max_parts=1, timeout=90)
            with lock:
                results.append(updates[-1])

        threads = [threading.Thread(target=pay, args=args) for args in [(alice, ALICE_CAROL), (frank, FRANK_CAROL)] * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results) == 6
        ok = [p for p in results if p.status == lnd.SUCCEEDED]
        failed = [p for p in results if p.status == lnd.FAILED]
        assert len(ok) + len(failed) == 6
        sent = sum(p.value_sat for p in ok)
        assert 0 < len(ok) <= 3 and sent <= 150_000, f"{len(ok)} payments of 40,000 sat over a 150,000 sat balance"
        for p in failed:
            assert p.failure_reason in (ln.PaymentFailureReason.Value("FAILURE_REASON_NO_ROUTE"),
                                        ln.PaymentFailureReason.Value("FAILURE_REASON_INSUFFICIENT_BALANCE")), p
            assert p.htlcs, "carol refused at least one attempt"
            for h in p.htlcs:
                assert h.status == lnd.HTLC_FAILED
                assert h.failure.code == ln.Failure.TEMPORARY_CHANNEL_FAILURE and h.failure.failure_source_index == 1, h
        # carol's channel to grace, in the database (neither payer is an endpoint of it).
        rows = pg_cluster.psql(pg_dsn, "SELECT balance_msat || ':' || locked_msat FROM paytrack_simnet.sim_channels "
                                       f"WHERE scid = {CAROL_GRACE} ORDER BY balance_msat").split()
        assert sorted(int(r.split(":")[0]) for r in rows) == sorted([(150_000 - sent) * 1000, (50_000 + sent) * 1000])
        assert all(r.endswith(":0") for r in rows), "nothing left locked"
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_simnet.sim_htlcs") == "0"
        # Each payer's own channel paid exactly what succeeded (amounts and fees), nothing in flight.
        spent = 0
        for payer, scid, opening in ((alice, ALICE_CAROL, 4_000_000), (frank, FRANK_CAROL, 500_000)):
            ch = _channel(payer, scid)
            assert not ch.pending_htlcs
            spent += opening - ch.local_balance
        assert abs(spent * 1000 - sum(p.value_msat + p.fee_msat for p in ok)) < 2000
    finally:
        for n in (a, b):
            n.stop()


def test_hold_invoice_made_on_a_paid_from_b_settled_through_c(tmp_path, pg_cluster, pg_dsn):
    """bob's hold invoice is added on replica A; alice pays it from replica B, whose bob holds the
    HTLC (B's network carried it); C settles it with the preimage. B hears the settle (LISTEN/
    NOTIFY), releases the preimage to its payer, and the payment is SUCCEEDED on every replica;
    the channel balances moved once, on every replica."""
    a, b, c = _replicas(tmp_path, pg_dsn, 3, "--sim.latency", "50")
    try:
        pre, h = lnd.preimage_and_hash()
        added = invstub.InvoicesStub(a.node("bob").channel).AddHoldInvoice(
            inv.AddHoldInvoiceRequest(hash=h, value=20_000, memo="hold across replicas"), timeout=10)
        before = {ch.chan_id: ch.local_balance for ch in c.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels}
        pay = lnd.StreamReader(b.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=added.payment_request, timeout_seconds=60, fee_limit_sat=1000), timeout=90))
        lnd.wait_until(lambda: c.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=h), timeout=10).state == ln.Invoice.ACCEPTED,
                       what="ACCEPTED as C reads it")
        inflight = pay.wait_for(lambda p: p.status == lnd.IN_FLIGHT and p.htlcs)
        assert [x.status for x in inflight.htlcs] == [lnd.HTLC_IN_FLIGHT]
        # The HTLC is held: locked on alice's channel, as A sees it.
        assert any(ch.pending_htlcs for ch in a.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels)

        invstub.InvoicesStub(c.node("bob").channel).SettleInvoice(inv.SettleInvoiceMsg(preimage=pre), timeout=10)
        done = pay.wait_for(lambda p: p.status == lnd.SUCCEEDED)
        assert done.payment_preimage == pre.hex()
        for n in (a, b, c):
            final = n.alice.track(h)[-1]
            assert final.status == lnd.SUCCEEDED and final.payment_preimage == pre.hex()
            got = n.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=h), timeout=10)
            assert got.state == ln.Invoice.SETTLED and got.amt_paid_sat == 20_000
        route = done.htlcs[-1].route
        first = route.hops[0]
        after = {ch.chan_id: ch for ch in a.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels}
        moved = before[first.chan_id] - after[first.chan_id].local_balance
        assert abs(moved - route.total_amt_msat / 1000) <= 1, (moved, route.total_amt_msat)
        assert not any(ch.pending_htlcs for ch in after.values())
    finally:
        for n in (a, b, c):
            n.stop()


def _mmrpc(url, password, method, params):
    body = {"userpass": password, "mmrpc": "2.0", "method": method, "params": params, "id": 1}
    r = requests.post(url, data=json.dumps(body).encode(), timeout=30)
    return r.status_code, r.json()


def test_komodo_api_on_every_replica(tmp_path, pg_cluster, pg_dsn):
    """The Komodo API's records live in the database too, so replicas serve mmrpc: bob's invoice
    made over mmrpc on replica A, paid over mmrpc from alice on replica B; A's alice reports the
    outbound payment B made (get_payment_details, list_payments_by_filter), B's bob the inbound one
    settled through A's invoice, and no records file is in either datadir."""
    flags = ("--db.backend", "postgres", "--db.postgres.dsn", pg_dsn, "--db.postgres.timeout", "10s", "--sim.latency", "0")
    ports = {"a": harness.free_port(), "b": harness.free_port()}
    a = lnd.Net(tmp_path / "a", *flags, "--serve-kdf", f"bob=127.0.0.1:{ports['a']}", channel_options=lnd.NO_BDP_PROBE).start()
    try:
        shutil.copytree(tmp_path / "a", tmp_path / "b", ignore=shutil.ignore_patterns("*.log"))
        b = lnd.Net(tmp_path / "b", *flags, "--serve-kdf", f"bob=127.0.0.1:{ports['b']}", channel_options=lnd.NO_BDP_PROBE).start()
    except BaseException:
        a.stop()
        raise
    try:
        alice_pw = a.daemon.kdf_password
        bob_pw = (tmp_path / "a" / "nodes" / "bob" / "kdf" / "rpc_password").read_text().strip()
        assert b.daemon.kdf_password == alice_pw
        bob_a, bob_b = f"http://127.0.0.1:{ports['a']}/", f"http://127.0.0.1:{ports['b']}/"
        s, v = _mmrpc(bob_a, bob_pw, "lightning::payments::generate_invoice",
                      {"coin": COIN, "description": "replica coffee", "amount_in_msat": 2_000_000})
        assert s == 200, v
        invoice, h = v["result"]["invoice"], v["result"]["payment_hash"]
        s, v = _mmrpc(b.daemon.kdf_url, alice_pw, "lightning::payments::send_payment",
                      {"coin": COIN, "payment": {"type": "invoice", "invoice": invoice}})
        assert s == 200 and v["result"] == {"payment_hash": h}, v

        def details(url, pw):
            return _mmrpc(url, pw, "lightning::payments::get_payment_details", {"coin": COIN, "payment_hash": h})[1]

        lnd.wait_until(lambda: details(a.daemon.kdf_url, alice_pw).get("result", {}).get("payment_details", {}).get("status")
                       == "succeeded", what="A's alice sees the outbound record B made, succeeded")
        out = details(a.daemon.kdf_url, alice_pw)["result"]["payment_details"]
        assert out["payment_type"] == {"type": "Outbound Payment", "destination": a.node("bob").pubkey}
        assert out["description"] == "replica coffee" and out["amount_in_msat"] == 2_000_000
        lnd.wait_until(lambda: details(bob_b, bob_pw).get("result", {}).get("payment_details", {}).get("status") == "succeeded",
                       what="B's bob sees the inbound record A made, succeeded")
        s, v = _mmrpc(a.daemon.kdf_url, alice_pw, "lightning::payments::list_payments_by_filter",
                      {"coin": COIN, "filter": {"description": "REPLICA"}, "limit": 10})
        assert s == 200 and [p["payment_hash"] for p in v["result"]["payments"]] == [h], v
        assert pg_cluster.psql(pg_dsn, "SELECT count(*) FROM paytrack_alice.kdf_payments") == "1"
        assert not list(tmp_path.rglob("payments.sqlite"))
    finally:
        for n in (a, b):
            n.stop()
