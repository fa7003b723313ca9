"""invoicesrpc.Invoices (hold invoices, SubscribeSingleInvoice, LookupInvoiceV2) against the real
daemon with grpcio, and the hold-invoice story end to end over the simulated network: bob holds
alice's HTLC; bob's SubscribeSingleInvoice sees OPEN -> ACCEPTED -> SETTLED (or CANCELED) while
alice's TrackPaymentV2 stays IN_FLIGHT with its attempt in flight, then SUCCEEDED (or FAILED with
INCORRECT_PAYMENT_DETAILS).
"""
import hashlib

import grpc
import pytest

import lnd
from lnd import ln, rt
from invoicesrpc import invoices_pb2 as inv
from invoicesrpc import invoices_pb2_grpc as invstub

UNKNOWN = grpc.StatusCode.UNKNOWN


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("hold") / "node", "--sim.latency", "0",
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def invoices(node):
    return invstub.InvoicesStub(node.channel)


def _err(fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        r = fn(*a, **kw)
        if hasattr(r, "__iter__") and not isinstance(r, (bytes, str)):
            list(r)
    return e.value


def _hold_story(net, settle):
    alice, bob = net.alice, net.node("bob")
    pre, h = lnd.preimage_and_hash()
    bob_inv = invoices(bob)
    sub = lnd.StreamReader(bob_inv.SubscribeSingleInvoice(inv.SubscribeSingleInvoiceRequest(r_hash=h), timeout=60))
    added = bob_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=20_000, memo="hold"), timeout=10)
    assert added.payment_request.startswith("lntb") and added.add_index > 0 and len(added.payment_addr) == 32
    assert sub.next().state == ln.Invoice.OPEN

    pay = lnd.StreamReader(alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=added.payment_request, timeout_seconds=60, fee_limit_sat=1000), timeout=60))
    accepted = sub.next()
    assert accepted.state == ln.Invoice.ACCEPTED
    assert accepted.amt_paid_msat == 20_000_000 and accepted.r_preimage == b""
    assert [x.state for x in accepted.htlcs] == [ln.ACCEPTED]
    # The payer: IN_FLIGHT with its attempt in flight, as TrackPaymentV2 shows it, and nothing new.
    inflight = pay.wait_for(lambda p: p.status == lnd.IN_FLIGHT and p.htlcs)
    assert [a.status for a in inflight.htlcs] == [lnd.HTLC_IN_FLIGHT]
    track = lnd.StreamReader(alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=h), timeout=60))
    first = track.next()
    assert first.status == lnd.IN_FLIGHT and [a.status for a in first.htlcs] == [lnd.HTLC_IN_FLIGHT]
    assert track.no_message_for(0.5)
    looked = bob_inv.LookupInvoiceV2(inv.LookupInvoiceMsg(payment_hash=h), timeout=10)
    assert looked.state == ln.Invoice.ACCEPTED

    if settle:
        bob_inv.SettleInvoice(inv.SettleInvoiceMsg(preimage=pre), timeout=10)
        assert sub.next().state == ln.Invoice.SETTLED
        final = track.wait_for(lambda p: p.status != lnd.IN_FLIGHT)
        assert final.status == lnd.SUCCEEDED and final.payment_preimage == pre.hex()
        # Settling again is a success (LND swallows ErrInvoiceAlreadySettled).
        bob_inv.SettleInvoice(inv.SettleInvoiceMsg(preimage=pre), timeout=10)
        assert bob.ln.LookupInvoice(ln.PaymentHash(r_hash=h)).r_preimage == pre
    else:
        bob_inv.CancelInvoice(inv.CancelInvoiceMsg(payment_hash=h), timeout=10)
        assert sub.next().state == ln.Invoice.CANCELED
        final = track.wait_for(lambda p: p.status != lnd.IN_FLIGHT)
        assert final.status == lnd.FAILED
        assert final.failure_reason == ln.FAILURE_REASON_INCORRECT_PAYMENT_DETAILS
        assert final.htlcs[-1].failure.code == ln.Failure.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS
        bob_inv.CancelInvoice(inv.CancelInvoiceMsg(payment_hash=h), timeout=10)  # idempotent
        e = _err(bob_inv.SettleInvoice, inv.SettleInvoiceMsg(preimage=pre), timeout=10)
        assert (e.code(), e.details()) == (UNKNOWN, "invoice already canceled")
    # Both streams end OK after the final state.
    sub.done.wait(10)
    track.done.wait(10)
    pay.done.wait(10)
    assert sub.error is None and track.error is None and pay.error is None
    assert pay.messages[-1].status == final.status
    return h


def test_hold_invoice_settled_end_to_end(net):
    _hold_story(net, settle=True)


def test_hold_invoice_canceled_end_to_end(net):
    _hold_story(net, settle=False)


def test_subscribe_single_invoice_to_a_settled_invoice_sends_one_message(net):
    alice, bob = net.alice, net.node("bob")
    r = bob.add_invoice(value=1_000)
    assert alice.send(payment_request=r.payment_request)[-1].status == lnd.SUCCEEDED
    msgs = list(invoices(bob).SubscribeSingleInvoice(inv.SubscribeSingleInvoiceRequest(r_hash=r.r_hash), timeout=10))
    assert [m.state for m in msgs] == [ln.Invoice.SETTLED]


def test_errors_and_texts(net):
    bob_inv = invoices(net.node("bob"))
    e = _err(bob_inv.AddHoldInvoice, inv.AddHoldInvoiceRequest(value=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid hash length of 0, want 32")
    _, h = lnd.preimage_and_hash()
    e = _err(bob_inv.AddHoldInvoice, inv.AddHoldInvoiceRequest(hash=h, value=1, value_msat=1000), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "sat and msat arguments are mutually exclusive")
    bob_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=1), timeout=10)
    e = _err(bob_inv.AddHoldInvoice, inv.AddHoldInvoiceRequest(hash=h, value=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invoice with payment hash already exists")
    e = _err(bob_inv.SettleInvoice, inv.SettleInvoiceMsg(preimage=b"\x01" * 31), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid preimage length of 31, want 32")
    e = _err(bob_inv.SettleInvoice, inv.SettleInvoiceMsg(preimage=b"\x02" * 32), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "unable to locate invoice")
    e = _err(bob_inv.CancelInvoice, inv.CancelInvoiceMsg(payment_hash=b"\x03" * 5), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid hash length of 5, want 32")
    e = _err(bob_inv.CancelInvoice, inv.CancelInvoiceMsg(payment_hash=b"\x03" * 32), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "unable to locate invoice")
    e = _err(bob_inv.LookupInvoiceV2, inv.LookupInvoiceMsg(), timeout=10)
    assert (e.code(), e.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "invoice ref must be set")
    e = _err(bob_inv.LookupInvoiceV2, inv.LookupInvoiceMsg(payment_hash=b"\x04" * 3), timeout=10)
    assert (e.code(), e.details()) == (grpc.StatusCode.INVALID_ARGUMENT,
                                       "unable to parse pay hash: invalid hash length of 3, want 32")
    e = _err(bob_inv.LookupInvoiceV2, inv.LookupInvoiceMsg(payment_hash=b"\x04" * 32), timeout=10)
    assert (e.code(), e.details()) == (grpc.StatusCode.NOT_FOUND, "unable to locate invoice")
    e = _err(bob_inv.SubscribeSingleInvoice, inv.SubscribeSingleInvoiceRequest(r_hash=b"\x05"), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid hash length of 1, want 32")


def test_lookup_invoice_v2_by_payment_addr_and_blank_htlc_set(net):
    alice, bob = net.alice, net.node("bob")
    r = bob.add_invoice(value=2_000)
    alice.send(payment_request=r.payment_request)
    bob_inv = invoices(bob)
    full = bob_inv.LookupInvoiceV2(inv.LookupInvoiceMsg(payment_addr=r.payment_addr), timeout=10)
    assert full.r_hash == r.r_hash and len(full.htlcs) == 1
    blank = bob_inv.LookupInvoiceV2(inv.LookupInvoiceMsg(payment_addr=r.payment_addr, lookup_modifier=inv.HTLC_SET_BLANK),
                                   timeout=10)
    assert blank.r_hash == r.r_hash and list(blank.htlcs) == []


def test_permissions_readonly_cannot_lookup_v2(net):
    bob = net.node("bob")
    ro = invstub.InvoicesStub(bob.daemon.channel("readonly"))
    e = _err(ro.LookupInvoiceV2, inv.LookupInvoiceMsg(payment_hash=b"\x06" * 32), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "permission denied")  # LND: invoices:write, sic
    inv_mac = invstub.InvoicesStub(bob.daemon.channel("invoice"))
    e = _err(inv_mac.LookupInvoiceV2, inv.LookupInvoiceMsg(payment_hash=b"\x06" * 32), timeout=10)
    assert e.code() == grpc.StatusCode.NOT_FOUND


def test_held_htlc_is_canceled_before_its_cltv_runs_out(tmp_path):
    """With fast blocks (--sim.blockinterval 0.2): a held HTLC is failed back 18 blocks before its
    expiry (LND's holdexpirydelta); the invoice is CANCELED and the payer FAILED with
    INCORRECT_PAYMENT_DETAILS."""
    n = lnd.Net(tmp_path / "node", "--sim.latency", "0", "--sim.blockinterval", "0.2",
                channel_options=lnd.NO_BDP_PROBE).start()
    try:
        alice, bob = n.alice, n.node("bob")
        _, h = lnd.preimage_and_hash()
        bob_inv = invoices(bob)
        added = bob_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=1_000, cltv_expiry=40), timeout=10)
        sub = lnd.StreamReader(bob_inv.SubscribeSingleInvoice(inv.SubscribeSingleInvoiceRequest(r_hash=h), timeout=60))
        assert sub.next().state == ln.Invoice.OPEN
        pay = lnd.StreamReader(alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=added.payment_request, timeout_seconds=60, fee_limit_sat=100), timeout=60))
        accepted = sub.next()
        assert accepted.state == ln.Invoice.ACCEPTED, pay.messages
        expiry = accepted.htlcs[0].expiry_height
        canceled = sub.next(timeout=30)
        assert canceled.state == ln.Invoice.CANCELED
        height = alice.ln.GetInfo(ln.GetInfoRequest(), timeout=10).block_height
        assert height + 18 >= expiry
        final = pay.wait_for(lambda p: p.status != lnd.IN_FLIGHT, timeout=30)
        assert final.status == lnd.FAILED
        assert final.failure_reason == ln.FAILURE_REASON_INCORRECT_PAYMENT_DETAILS
    finally:
        n.stop()
