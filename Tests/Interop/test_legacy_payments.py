"""The payment calls LND removed in v0.21.0 that apps written for LND <= 0.20 still make, against the
real daemon with grpcio: lnrpc SendPaymentSync and bidirectional SendPayment, routerrpc v1
SendPayment and TrackPayment (streaming routerrpc.PaymentStatus), with LND v0.20.3's semantics:
failures of the payment inside SendResponse.payment_error, validation errors as gRPC UNKNOWN.
"""
import threading

import grpc
import pytest

import lnd
from lnd import ln, rt
from invoicesrpc import invoices_pb2 as inv
from invoicesrpc import invoices_pb2_grpc as invstub

UNKNOWN = grpc.StatusCode.UNKNOWN


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("legacy") / "node", "--sim.latency", "0",
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _err(fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        r = fn(*a, **kw)
        if hasattr(r, "__iter__") and not isinstance(r, (bytes, str)):
            list(r)
    return e.value


def test_send_payment_sync_pays_an_invoice(net):
    bob = net.node("bob")
    r = bob.add_invoice(value=15_000)
    resp = net.alice.ln.SendPaymentSync(ln.SendRequest(payment_request=r.payment_request), timeout=30)
    assert resp.payment_error == ""
    assert resp.payment_hash == r.r_hash
    assert bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash)).r_preimage == resp.payment_preimage
    route = resp.payment_route
    assert route.hops[-1].pub_key == bob.pubkey and route.hops[-1].amt_to_forward_msat == 15_000_000
    lnd.check_route_policies(route, 15_000_000)
    # The same invoice again: InitPayment's error, inside payment_error (V2 says AlreadyExists).
    again = net.alice.ln.SendPaymentSync(ln.SendRequest(payment_request=r.payment_request), timeout=30)
    assert (again.payment_error, again.payment_hash, again.payment_preimage) == ("invoice is already paid", r.r_hash, b"")
    assert not again.HasField("payment_route")
    # The payment is an ordinary one: ListPayments has it, SUCCEEDED.
    p = [x for x in net.alice.list_payments().payments if x.payment_hash == r.r_hash.hex()]
    assert [x.status for x in p] == [lnd.SUCCEEDED]


def test_send_payment_sync_failure_is_in_payment_error(net):
    # An unknown hash to bob: bob fails it, the payment ends FAILED/INCORRECT_PAYMENT_DETAILS.
    _, h = lnd.preimage_and_hash()
    resp = net.alice.ln.SendPaymentSync(ln.SendRequest(dest_string=net.node("bob").pubkey, amt=1_000,
                                                       payment_hash_string=h.hex()), timeout=30)
    assert resp.payment_error == "incorrect_payment_details"
    assert resp.payment_hash == h and resp.payment_preimage == b""


def test_send_payment_sync_validation_errors_are_grpc_errors(net):
    ln_ = net.alice.ln
    e = _err(ln_.SendPaymentSync, ln.SendRequest(dest=b"\x02" * 5, amt=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid key length")
    e = _err(ln_.SendPaymentSync, ln.SendRequest(dest_string="zz", amt=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "encoding/hex: invalid byte: U+007A 'z'")
    e = _err(ln_.SendPaymentSync, ln.SendRequest(dest_string=net.alice.pubkey, amt=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "self-payments not allowed")
    e = _err(ln_.SendPaymentSync, ln.SendRequest(dest_string=net.node("bob").pubkey, amt=1, cltv_limit=5000), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "total time lock of 5000 exceeds max allowed 2016")
    amountless = net.node("bob").add_invoice()
    e = _err(ln_.SendPaymentSync, ln.SendRequest(payment_request=amountless.payment_request), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "amount must be specified when paying a zero amount invoice")


def test_send_payment_sync_blocks_on_a_hold_invoice_until_settled(net):
    bob = net.node("bob")
    pre, h = lnd.preimage_and_hash()
    bob_inv = invstub.InvoicesStub(bob.channel)
    added = bob_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=3_000), timeout=10)
    sub = lnd.StreamReader(bob_inv.SubscribeSingleInvoice(inv.SubscribeSingleInvoiceRequest(r_hash=h), timeout=60))
    assert sub.next().state == ln.Invoice.OPEN
    result = {}
    t = threading.Thread(target=lambda: result.update(r=net.alice.ln.SendPaymentSync(
        ln.SendRequest(payment_request=added.payment_request), timeout=60)))
    t.start()
    assert sub.next().state == ln.Invoice.ACCEPTED
    t.join(0.5)
    assert t.is_alive(), "SendPaymentSync returned while the payee holds the HTLC"
    bob_inv.SettleInvoice(inv.SettleInvoiceMsg(preimage=pre), timeout=10)
    t.join(20)
    assert result["r"].payment_error == "" and result["r"].payment_preimage == pre


def test_bidirectional_send_payment(net):
    bob = net.node("bob")
    invs = [bob.add_invoice(value=1_000 + i) for i in range(3)]
    reqs = [ln.SendRequest(payment_request=i.payment_request) for i in invs]
    reqs.append(ln.SendRequest(dest=b"\x02" * 3, amt=1))            # a validation error: a reply, not an end
    replies = list(net.alice.ln.SendPayment(iter(reqs), timeout=60))
    assert len(replies) == 4
    ok = {r.payment_hash: r for r in replies if r.payment_error == ""}
    assert set(ok) == {i.r_hash for i in invs}
    for i in invs:
        assert ok[i.r_hash].payment_route.hops[-1].amt_to_forward_msat == (1_000 + invs.index(i)) * 1000
    bad = [r for r in replies if r.payment_error]
    assert [r.payment_error for r in bad] == ["invalid key length"]


def test_router_v1_send_payment_and_track_payment(net):
    bob = net.node("bob")
    r = bob.add_invoice(value=4_000)
    statuses = list(net.alice.router.SendPayment(rt.SendPaymentRequest(
        payment_request=r.payment_request, timeout_seconds=30, fee_limit_sat=100), timeout=30))
    assert statuses[0].state == rt.IN_FLIGHT
    assert statuses[0].preimage == b"\x00" * 32
    assert statuses[-1].state == rt.SUCCEEDED
    assert statuses[-1].preimage == bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash)).r_preimage
    assert statuses[-1].htlcs[-1].status == lnd.HTLC_SUCCEEDED
    tracked = list(net.alice.router.TrackPayment(rt.TrackPaymentRequest(payment_hash=r.r_hash), timeout=10))
    assert [t.state for t in tracked] == [rt.SUCCEEDED]
    e = _err(net.alice.router.TrackPayment, rt.TrackPaymentRequest(payment_hash=b"\x07" * 32), timeout=10)
    assert (e.code(), e.details()) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
    e = _err(net.alice.router.SendPayment, rt.SendPaymentRequest(payment_request=r.payment_request, max_parts=2),
             timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "for multi-part payments, use SendPaymentV2")


def test_router_v1_failed_state(net):
    _, h = lnd.preimage_and_hash()
    statuses = list(net.alice.router.SendPayment(rt.SendPaymentRequest(
        dest=bytes.fromhex(net.node("bob").pubkey), amt=1_000, payment_hash=h, timeout_seconds=30,
        fee_limit_sat=100), timeout=30))
    assert statuses[-1].state == rt.FAILED_INCORRECT_PAYMENT_DETAILS


def test_v020_outgoing_chan_id_field_8_is_honoured(net):
    bob = net.node("bob")
    r = bob.add_invoice(value=2_000)
    # Only alice->erin (channel 3) may be the first hop.
    final = net.alice.send(payment_request=r.payment_request, outgoing_chan_id=lnd.scid(3))[-1]
    assert final.status == lnd.SUCCEEDED
    assert {a.route.hops[0].chan_id for a in final.htlcs} == {lnd.scid(3)}
    e = net.alice.send_error(payment_request=bob.add_invoice(value=1).payment_request,
                             outgoing_chan_id=lnd.scid(3), outgoing_chan_ids=[lnd.scid(1)])
    assert (e.code(), e.details()) == (UNKNOWN, "outgoing_chan_id and outgoing_chan_ids are mutually exclusive")


def test_list_permissions_lists_the_legacy_and_hold_invoice_methods(net):
    perms = net.alice.ln.ListPermissions(ln.ListPermissionsRequest(), timeout=10).method_permissions
    for m, (entity, action) in {
        "/lnrpc.Lightning/SendPaymentSync": ("offchain", "write"),
        "/lnrpc.Lightning/SendPayment": ("offchain", "write"),
        "/routerrpc.Router/SendPayment": ("offchain", "write"),
        "/routerrpc.Router/TrackPayment": ("offchain", "read"),
        "/invoicesrpc.Invoices/AddHoldInvoice": ("invoices", "write"),
        "/invoicesrpc.Invoices/LookupInvoiceV2": ("invoices", "write"),
    }.items():
        assert [(p.entity, p.action) for p in perms[m].permissions] == [(entity, action)], m
    assert not any("reflection" in m for m in perms)
