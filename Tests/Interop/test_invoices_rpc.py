"""Invoice RPCs of lnrpc.Lightning (AddInvoice, LookupInvoice, ListInvoices, SubscribeInvoices,
DecodePayReq) against the real daemon, with LND's defaults and error texts. bob's invoices
are paid by alice over the simulated network where a settled invoice is needed.
"""
import hashlib
import os
import time

import grpc
import pytest

import lnd
from lnd import ln

UNKNOWN = grpc.StatusCode.UNKNOWN
# BOLT 11 spec vector "On testnet, with fallback address" (no `x` field, no `c` field).
BOLT11_TESTNET = (
    "lntb20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7"
    "xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfpp3x9et2e20v6pu37c5d9va"
    "x37wxq72un989qrsgqdj545axuxtnfemtpwkc45hx9d2ft7x04mt8q7y6t0k2dge9e7h8kpy9p34ytyslj3yu569aalz2xdk8xkd7l"
    "txqld94u8h2esmsmacgpghe9k8")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("inv") / "node", "--sim.latency", "0",
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _err(fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        fn(*a, **kw)
    return e.value


def _decode(net, pay_req):
    return net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=pay_req))


def test_add_invoice_value_defaults_and_lookup(net):
    bob = net.node("bob")
    t0 = int(time.time())
    r = bob.add_invoice(value=1_000, memo="lunch")
    assert len(r.r_hash) == 32 and len(r.payment_addr) == 32 and r.add_index > 0
    inv = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash))
    assert inv.r_hash == r.r_hash == hashlib.sha256(inv.r_preimage).digest()
    assert (inv.value, inv.value_msat, inv.memo) == (1_000, 1_000_000, "lunch")
    assert inv.expiry == 86400                       # LND's default
    assert inv.state == ln.Invoice.OPEN and not inv.settled
    assert inv.payment_request == r.payment_request and inv.add_index == r.add_index
    assert inv.payment_addr == r.payment_addr and inv.settle_index == 0
    assert t0 - 1 <= inv.creation_date <= int(time.time()) + 1
    assert not inv.private and not inv.is_keysend and list(inv.route_hints) == []
    d = _decode(net, r.payment_request)
    assert d.destination == bob.pubkey
    assert d.payment_hash == r.r_hash.hex()
    assert (d.num_satoshis, d.num_msat, d.description, d.expiry) == (1_000, 1_000_000, "lunch", 86400)
    assert d.timestamp == inv.creation_date and d.cltv_expiry == inv.cltv_expiry > 0
    assert d.payment_addr == r.payment_addr
    # The same invoice by the deprecated hex string field.
    assert bob.ln.LookupInvoice(ln.PaymentHash(r_hash_str=r.r_hash.hex())) == inv
    # Later invoices get higher add indexes.
    assert bob.add_invoice(value=1).add_index == r.add_index + 1


def test_add_invoice_value_msat_and_exclusive(net):
    bob = net.node("bob")
    r = bob.add_invoice(value_msat=1_500)
    inv = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash))
    assert (inv.value, inv.value_msat) == (1, 1_500)
    d = _decode(net, r.payment_request)
    assert (d.num_satoshis, d.num_msat) == (1, 1_500)
    e = _err(bob.add_invoice, value=1, value_msat=1000)
    lnd.assert_rpc_error(e, UNKNOWN, "sat and msat arguments are mutually exclusive")
    e = _err(bob.add_invoice, value=-1)
    lnd.assert_rpc_error(e, UNKNOWN, "amount cannot be negative")


def test_add_invoice_description_hash_expiry_preimage(net):
    bob = net.node("bob")
    dh = hashlib.sha256(b"a long description").digest()
    r = bob.add_invoice(value=10, description_hash=dh, expiry=600)
    d = _decode(net, r.payment_request)
    assert (d.description_hash, d.description, d.expiry) == (dh.hex(), "", 600)
    inv = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash))
    assert inv.description_hash == dh and inv.expiry == 600
    e = _err(bob.add_invoice, value=10, description_hash=b"12345")
    lnd.assert_rpc_error(e, UNKNOWN, "description hash is 5 bytes, must be 32")
    pre = os.urandom(32)
    r = bob.add_invoice(value=10, r_preimage=pre)
    assert r.r_hash == hashlib.sha256(pre).digest()
    assert bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash)).r_preimage == pre
    e = _err(bob.add_invoice, value=10, r_preimage=pre)
    lnd.assert_rpc_error(e, UNKNOWN, "invoice with payment hash already exists")
    e = _err(bob.add_invoice, value=10, r_preimage=b"short")
    lnd.assert_rpc_error(e, UNKNOWN, "invalid preimage length of 5, want 32")


def test_add_invoice_route_hints_and_private(net):
    bob = net.node("bob")
    hint = ln.HopHint(node_id=net.alice.pubkey, chan_id=lnd.scid(4), fee_base_msat=7,
                      fee_proportional_millionths=9, cltv_expiry_delta=33)
    r = bob.add_invoice(value=10, route_hints=[ln.RouteHint(hop_hints=[hint])])
    d = _decode(net, r.payment_request)
    assert [list(x.hop_hints) for x in d.route_hints] == [[hint]]
    # bob has no private channels: private=true adds no hints, but is recorded.
    r = bob.add_invoice(value=10, private=True)
    assert list(_decode(net, r.payment_request).route_hints) == []
    assert bob.ln.LookupInvoice(ln.PaymentHash(r_hash=r.r_hash)).private is True


def test_lookup_errors(net):
    bob = net.node("bob")
    e = _err(bob.ln.LookupInvoice, ln.PaymentHash(r_hash=os.urandom(32)))
    lnd.assert_rpc_error(e, grpc.StatusCode.NOT_FOUND, "unable to locate invoice")
    e = _err(bob.ln.LookupInvoice, ln.PaymentHash(r_hash_str=os.urandom(32).hex()))
    lnd.assert_rpc_error(e, grpc.StatusCode.NOT_FOUND, "unable to locate invoice")
    e = _err(bob.ln.LookupInvoice, ln.PaymentHash(r_hash=b"12345"))
    lnd.assert_rpc_error(e, UNKNOWN, "payment hash must be exactly 32 bytes, is instead 5")
    e = _err(bob.ln.LookupInvoice, ln.PaymentHash(r_hash_str="abcd"))
    lnd.assert_rpc_error(e, UNKNOWN, "payment hash must be exactly 32 bytes, is instead 2")


def test_list_invoices_paging(net):
    bob = net.node("bob")
    for i in range(5):
        bob.add_invoice(value=100 + i)
    full = bob.ln.ListInvoices(ln.ListInvoiceRequest(num_max_invoices=1000))
    idx = [i.add_index for i in full.invoices]
    assert idx == sorted(idx) and len(idx) >= 5
    assert (full.first_index_offset, full.last_index_offset) == (idx[0], idx[-1])
    page = bob.ln.ListInvoices(ln.ListInvoiceRequest(index_offset=idx[1], num_max_invoices=2))
    assert [i.add_index for i in page.invoices] == idx[2:4]
    assert (page.first_index_offset, page.last_index_offset) == (idx[2], idx[3])
    back = bob.ln.ListInvoices(ln.ListInvoiceRequest(index_offset=idx[4], num_max_invoices=2, reversed=True))
    assert [i.add_index for i in back.invoices] == idx[2:4]      # ascending, as LND returns them
    assert (back.first_index_offset, back.last_index_offset) == (idx[2], idx[3])
    # pending_only leaves out settled invoices.
    paid = bob.add_invoice(value=50)
    assert net.alice.send(payment_request=paid.payment_request)[-1].status == lnd.SUCCEEDED
    pending = bob.ln.ListInvoices(ln.ListInvoiceRequest(pending_only=True, num_max_invoices=1000))
    assert paid.add_index not in [i.add_index for i in pending.invoices]
    assert all(i.state == ln.Invoice.OPEN for i in pending.invoices)
    alls = bob.ln.ListInvoices(ln.ListInvoiceRequest(num_max_invoices=1000))
    assert [i.state for i in alls.invoices if i.add_index == paid.add_index] == [ln.Invoice.SETTLED]
    e = _err(bob.ln.ListInvoices, ln.ListInvoiceRequest(creation_date_start=200, creation_date_end=100))
    lnd.assert_rpc_error(e, UNKNOWN, "start date(200) must be before end date(100)")


def test_subscribe_invoices_live_and_resume(net):
    bob = net.node("bob")
    last = bob.add_invoice(value=1).add_index
    # add_index/settle_index 0: no backlog, only live events.
    live = lnd.StreamReader(bob.ln.SubscribeInvoices(ln.InvoiceSubscription(), timeout=60))
    assert live.no_message_for(0.5)
    r = bob.add_invoice(value=321)
    ev = live.next()
    assert (ev.r_hash, ev.add_index, ev.state, ev.settle_index) == (r.r_hash, last + 1, ln.Invoice.OPEN, 0)
    final = net.alice.send(payment_request=r.payment_request)[-1]
    assert final.status == lnd.SUCCEEDED
    ev = live.next()
    assert (ev.r_hash, ev.state, ev.amt_paid_msat) == (r.r_hash, ln.Invoice.SETTLED, 321_000)
    assert ev.settle_index > 0
    settle_index = ev.settle_index
    live.cancel()
    # Resume: add_index replays every invoice added after it, settle_index every later settle.
    resumed = lnd.StreamReader(bob.ln.SubscribeInvoices(
        ln.InvoiceSubscription(add_index=last - 1, settle_index=settle_index - 1), timeout=60))
    got = [resumed.next() for _ in range(3)]
    # LND deliverBacklogEvents: adds after add_index (current state), then settles after settle_index.
    assert [(g.add_index, g.state, g.settle_index) for g in got] == [
        (last, ln.Invoice.OPEN, 0), (last + 1, ln.Invoice.SETTLED, settle_index),
        (last + 1, ln.Invoice.SETTLED, settle_index)]
    assert resumed.no_message_for(0.5)
    resumed.cancel()


def test_decode_pay_req_spec_vector(net):
    d = _decode(net, BOLT11_TESTNET)
    assert d.destination == "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
    assert d.payment_hash == "0001020304050607080900010203040506070809000102030405060708090102"
    assert (d.num_satoshis, d.num_msat, d.timestamp) == (2_000_000, 2_000_000_000, 1496314658)
    assert d.expiry == 3600                 # no `x` field: BOLT 11's default
    assert d.description == ""
    assert d.description_hash == "3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1"
    assert d.fallback_addr == "mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP"
    assert d.cltv_expiry == 18              # no `c` field: BOLT 11's default
    assert d.payment_addr == b"\x11" * 32
    assert sorted(d.features) == [8, 14]
    assert d.features[14].is_required and d.features[14].name == "payment-addr"


def test_decode_pay_req_wrong_network(net):
    from test_send_payment import MAINNET_INVOICE
    e = _err(_decode, net, MAINNET_INVOICE)
    lnd.assert_rpc_error(e, UNKNOWN, "invoice not for current active network 'testnet3'")
