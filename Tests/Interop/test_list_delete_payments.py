"""ListPayments / DeletePayment / DeleteAllPayments (spec §2, §6) against the real daemon.

The module's daemon holds 4 succeeded and 2 failed payments made by the fixture (plus what the
tests add, in file order); tests derive expected pages from the full listing.
"""
import os
import time

import grpc
import pytest

import lnd
from lnd import ln, rt

UNKNOWN = grpc.StatusCode.UNKNOWN


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("list") / "node", "--sim.latency", "150",
                channel_options=lnd.NO_BDP_PROBE).start()
    bob = n.node("bob")
    readers = []
    for sat in (1_001, 1_002, 1_003, 1_004):
        inv = bob.add_invoice(value=sat)
        readers.append(lnd.StreamReader(n.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=inv.payment_request, timeout_seconds=30, fee_limit_sat=1000), timeout=60)))
    for h in (os.urandom(32), os.urandom(32)):       # bob fails these: unknown payment hash
        readers.append(lnd.StreamReader(n.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            dest=bytes.fromhex(bob.pubkey), amt=1_005, payment_hash=h, timeout_seconds=30, fee_limit_sat=1000), timeout=60)))
    for r in readers:
        assert r.done.wait(30) and r.error is None
    assert sorted(r.messages[-1].status for r in readers) == [lnd.SUCCEEDED] * 4 + [lnd.FAILED] * 2
    n.finals = {r.messages[-1].payment_hash: r.messages[-1] for r in readers}
    yield n
    n.stop()


def _all(net, **kw):
    return net.alice.list_payments(include_incomplete=True, max_payments=10_000, **kw).payments


def test_default_lists_only_succeeded_in_index_order(net):
    r = net.alice.list_payments()
    assert [p.status for p in r.payments] == [lnd.SUCCEEDED] * 4
    idx = [p.payment_index for p in r.payments]
    assert idx == sorted(idx)
    assert (r.first_index_offset, r.last_index_offset) == (idx[0], idx[-1])
    assert r.total_num_payments == 0                 # only with count_total_payments
    # Each listed payment is what its SendPaymentV2 stream ended with (same marshalling).
    for p in r.payments:
        assert p == net.finals[p.payment_hash]


def test_include_incomplete_and_count(net):
    r = net.alice.list_payments(include_incomplete=True, count_total_payments=True)
    assert len(r.payments) == 6 and r.total_num_payments == 6
    assert sorted(p.status for p in r.payments) == [lnd.SUCCEEDED] * 4 + [lnd.FAILED] * 2
    # total_num_payments counts every payment, even when only succeeded ones are listed.
    assert net.alice.list_payments(count_total_payments=True).total_num_payments == 6


def test_paging_and_reversed(net):
    full = _all(net)
    idx = [p.payment_index for p in full]
    r = net.alice.list_payments(include_incomplete=True, index_offset=idx[1], max_payments=2)
    assert [p.payment_index for p in r.payments] == idx[2:4]
    assert (r.first_index_offset, r.last_index_offset) == (idx[2], idx[3])
    r = net.alice.list_payments(include_incomplete=True, index_offset=idx[4], max_payments=2, reversed=True)
    assert [p.payment_index for p in r.payments] == idx[2:4]           # ascending, as LND
    assert (r.first_index_offset, r.last_index_offset) == (idx[2], idx[3])
    r = net.alice.list_payments(include_incomplete=True, max_payments=3, reversed=True)
    assert [p.payment_index for p in r.payments] == idx[-3:]
    r = net.alice.list_payments(include_incomplete=True, index_offset=idx[-1])
    assert list(r.payments) == [] and (r.first_index_offset, r.last_index_offset) == (0, 0)


def test_date_range(net):
    for start, end in ((200, 100), (100, 100)):
        with pytest.raises(grpc.RpcError) as e:
            net.alice.list_payments(creation_date_start=start, creation_date_end=end)
        lnd.assert_rpc_error(e.value, UNKNOWN, f"start date({start}) must be before end date({end})")
    now = int(time.time())
    assert list(net.alice.list_payments(include_incomplete=True, creation_date_start=now + 3600).payments) == []
    assert len(net.alice.list_payments(include_incomplete=True, creation_date_start=now - 3600,
                                       creation_date_end=now + 3600).payments) == 6
    assert list(net.alice.list_payments(include_incomplete=True, creation_date_end=now - 3600).payments) == []


def test_omit_hops(net):
    full = _all(net)
    slim = _all(net, omit_hops=True)
    assert len(slim) == len(full)
    for a, b in zip(full, slim):
        assert len(a.htlcs) == len(b.htlcs) >= 1
        for ha, hb in zip(a.htlcs, b.htlcs):
            assert list(hb.route.hops) == [] and len(ha.route.hops) >= 1
            assert (hb.route.total_time_lock, hb.route.total_fees_msat, hb.route.total_amt_msat) == \
                (ha.route.total_time_lock, ha.route.total_fees_msat, ha.route.total_amt_msat)
            assert (hb.attempt_id, hb.status) == (ha.attempt_id, ha.status)
        assert (a.status, a.fee_msat, a.payment_index) == (b.status, b.fee_msat, b.payment_index)


def test_delete_payment(net):
    failed = [p for p in _all(net) if p.status == lnd.FAILED]
    succeeded = [p for p in _all(net) if p.status == lnd.SUCCEEDED]
    # failed_htlcs_only keeps the payment and drops its failed attempts.
    r = net.alice.ln.DeletePayment(ln.DeletePaymentRequest(payment_hash=bytes.fromhex(failed[0].payment_hash),
                                                           failed_htlcs_only=True))
    kept = [p for p in _all(net) if p.payment_hash == failed[0].payment_hash]
    assert len(kept) == 1 and list(kept[0].htlcs) == [] and kept[0].status == lnd.FAILED
    # A whole payment.
    victim = succeeded[0]
    r = net.alice.ln.DeletePayment(ln.DeletePaymentRequest(payment_hash=bytes.fromhex(victim.payment_hash)))
    assert r.status == "payment deleted"
    assert victim.payment_hash not in [p.payment_hash for p in _all(net)]
    with pytest.raises(grpc.RpcError) as e:
        net.alice.track(bytes.fromhex(victim.payment_hash))
    lnd.assert_rpc_error(e.value, grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
    assert net.alice.list_payments(include_incomplete=True, count_total_payments=True).total_num_payments == 5
    # Errors.
    with pytest.raises(grpc.RpcError) as e:
        net.alice.ln.DeletePayment(ln.DeletePaymentRequest(payment_hash=b"12345"))
    lnd.assert_rpc_error(e.value, UNKNOWN, "invalid hash length of 5, want 32")
    with pytest.raises(grpc.RpcError) as e:
        net.alice.ln.DeletePayment(ln.DeletePaymentRequest(payment_hash=os.urandom(32)))
    lnd.assert_rpc_error(e.value, UNKNOWN, "payment isn't initiated")


def test_delete_refuses_in_flight(net):
    inv = net.node("bob").add_invoice(value=1_010)
    send = lnd.StreamReader(net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=inv.payment_request, timeout_seconds=30, fee_limit_sat=1000), timeout=60))
    send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
    with pytest.raises(grpc.RpcError) as e:
        net.alice.ln.DeletePayment(ln.DeletePaymentRequest(payment_hash=inv.r_hash))
    lnd.assert_rpc_error(e.value, UNKNOWN, f"payment '{inv.r_hash.hex()}' has inflight HTLCsand therefore "
                                           "cannot be deleted: payment is in transition")
    assert send.done.wait(30) and send.messages[-1].status == lnd.SUCCEEDED
    assert inv.r_hash.hex() in [p.payment_hash for p in _all(net)]


def test_max_payments_defaults_to_100(net):
    # 101 more payments that fail at once (zero fee limit: no route), then the default page.
    bob = bytes.fromhex(net.node("bob").pubkey)
    for _ in range(101):
        out = net.alice.send(dest=bob, amt=1_000, payment_hash=os.urandom(32), fee_limit_sat=0)
        assert out[-1].failure_reason == ln.PaymentFailureReason.Value("FAILURE_REASON_NO_ROUTE")
    total = net.alice.list_payments(count_total_payments=True).total_num_payments
    assert total == 5 + 1 + 101
    r = net.alice.list_payments(include_incomplete=True)
    full = _all(net)
    assert len(full) == total
    assert [p.payment_index for p in r.payments] == [p.payment_index for p in full[:100]]
    r = net.alice.list_payments(include_incomplete=True, reversed=True)
    assert [p.payment_index for p in r.payments] == [p.payment_index for p in full[-100:]]


def test_delete_all_payments(net):
    def delete_all(**kw):
        return net.alice.ln.DeleteAllPayments(ln.DeleteAllPaymentsRequest(**kw))
    with pytest.raises(grpc.RpcError) as e:
        delete_all()
    lnd.assert_rpc_error(e.value, UNKNOWN, "at least one of the options `all_payments`, `failed_payments_only`, "
                                           "or `failed_htlcs_only` must be set to true")
    with pytest.raises(grpc.RpcError) as e:
        delete_all(all_payments=True, failed_payments_only=True)
    lnd.assert_rpc_error(e.value, UNKNOWN, "`all_payments` cannot be set to true while either "
                                           "`failed_payments_only` or `failed_htlcs_only` is also set to true")
    before = _all(net)
    failed = [p for p in before if p.status == lnd.FAILED]
    r = delete_all(failed_payments_only=True)
    assert r.status == f"{len(failed)} payments deleted, failed_htlcs_only=false"
    after = _all(net)
    assert [p.payment_hash for p in after] == [p.payment_hash for p in before if p.status != lnd.FAILED]
    r = delete_all(all_payments=True)
    assert r.status == f"{len(after)} payments deleted, failed_htlcs_only=false"
    assert net.alice.list_payments(include_incomplete=True, count_total_payments=True).total_num_payments == 0
