"""SendPaymentV2 (spec §5) against the real daemon: alice pays over the built-in simulated
network (bob and the private node mallory are served too, with their own invoice registries).

Every outcome is checked with LND's exact values: stream shape (Initiated snapshot first),
fees and hops that follow the topology's channel policies, failure reasons (NO_ROUTE,
INSUFFICIENT_BALANCE, TIMEOUT, INCORRECT_PAYMENT_DETAILS), AlreadyExists texts, retry after
failure, MPP, keysend, route hints to a private node, and the request validation strings.
"""
import datetime
import hashlib
import os
import time

import grpc
import pytest

import lnd
from lnd import ln, rt

REASON = ln.PaymentFailureReason.Value
# BOLT 11 spec vector (mainnet, "Please make a donation of any amount").
MAINNET_INVOICE = (
    "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzq"
    "fqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2"
    "ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql")
UNKNOWN = grpc.StatusCode.UNKNOWN


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("send") / "node", "--sim.latency", "100",
                serve=("bob", "mallory")).start()
    yield n
    n.stop()


def _total(net):
    return net.alice.list_payments(include_incomplete=True, count_total_payments=True).total_num_payments


def test_pays_bobs_invoice_with_policy_fees(net):
    bob = net.node("bob")
    inv = bob.add_invoice(value=5_000, memo="coffee")
    out = net.alice.send(payment_request=inv.payment_request)
    first, final = out[0], out[-1]
    # §5.4: the first message is the Initiated snapshot (IN_FLIGHT in compat mode).
    assert first.status == lnd.IN_FLIGHT and list(first.htlcs) == []
    assert first.failure_reason == 0 and first.payment_preimage == lnd.ZERO_PREIMAGE and first.fee_msat == 0
    # Attempts are shown while in flight, then SUCCEEDED ends the stream.
    assert any(p.status == lnd.IN_FLIGHT and any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs) for p in out)
    assert final.status == lnd.SUCCEEDED and final.failure_reason == 0
    assert [p.status for p in out].count(lnd.SUCCEEDED) == 1
    lnd.check_payment_common(final, value_msat=5_000_000, payment_request=inv.payment_request)
    settled = [h for h in final.htlcs if h.status == lnd.HTLC_SUCCEEDED]
    assert len(settled) == 1
    names = lnd.check_route_policies(settled[0].route, 5_000_000)
    assert names[-1] == "bob"
    assert final.fee_msat == settled[0].route.total_fees_msat > 0
    looked = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert looked.state == ln.Invoice.SETTLED and looked.settled
    assert looked.amt_paid_msat == 5_000_000 and looked.amt_paid_sat == 5_000
    assert final.payment_preimage == looked.r_preimage.hex()


def test_no_route_to_private_node_without_hints(net):
    pre, h = lnd.preimage_and_hash()
    mallory = net.node("mallory")
    out = net.alice.send(dest=bytes.fromhex(mallory.pubkey), amt=1_000, payment_hash=h,
                         dest_custom_records={lnd.KEYSEND_TYPE: pre})
    final = out[-1]
    assert final.status == lnd.FAILED
    assert final.failure_reason == REASON("FAILURE_REASON_NO_ROUTE")
    assert list(final.htlcs) == []
    lnd.check_payment_common(final, value_msat=1_000_000)


def test_insufficient_balance(net):
    # alice's outbound liquidity in the default topology is 4M + 1.5M + 0.8M sat.
    # (AddInvoice caps invoices at 2^32-1 msat as LND does, so this is a dest payment.)
    with pytest.raises(grpc.RpcError) as err:
        net.node("bob").add_invoice(value=7_000_000)
    lnd.assert_rpc_error(err.value, UNKNOWN,
                         "payment of 7000000000 mSAT is too large, max payment allowed is 4294967295 mSAT")
    _, h = lnd.preimage_and_hash()
    final = net.alice.send(dest=bytes.fromhex(net.node("bob").pubkey), amt=7_000_000, payment_hash=h)[-1]
    assert final.status == lnd.FAILED
    assert final.failure_reason == REASON("FAILURE_REASON_INSUFFICIENT_BALANCE")
    assert list(final.htlcs) == []


def test_timeout_and_cancelable(tmp_path):
    # Every hop fails its HTLC (failrate 1) after 2 s per hop; the 1 s timeout passes while the
    # first attempt is out: reason TIMEOUT is recorded while IN_FLIGHT, no new attempt is made,
    # and the payment ends FAILED/TIMEOUT once the attempt fails.
    n = lnd.Net(tmp_path / "node", "--sim.latency", "2000", "--sim.failrate", "1").start()
    try:
        inv = n.node("bob").add_invoice(value=1_000)
        out = n.alice.send(payment_request=inv.payment_request, timeout_seconds=1)
        final = out[-1]
        assert final.status == lnd.FAILED
        assert final.failure_reason == REASON("FAILURE_REASON_TIMEOUT")
        assert len(final.htlcs) == 1 and final.htlcs[0].status == lnd.HTLC_FAILED
        stopped = [p for p in out if p.status == lnd.IN_FLIGHT and p.failure_reason == REASON("FAILURE_REASON_TIMEOUT")]
        assert stopped and [h.status for h in stopped[0].htlcs] == [lnd.HTLC_IN_FLIGHT]
        assert final.htlcs[0].failure.code == ln.Failure.FailureCode.Value("TEMPORARY_CHANNEL_FAILURE")
        # cancelable=true: ending the stream stops the payment with reason CANCELED (LND); the
        # attempt in flight is still awaited and no new one starts.
        inv = n.node("bob").add_invoice(value=1_000)
        call = n.alice.router.SendPaymentV2(rt.SendPaymentRequest(
            payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000, cancelable=True), timeout=60)
        reader = lnd.StreamReader(call)
        reader.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
        reader.cancel()
        final = lnd.wait_until(lambda: [p for p in n.alice.track(inv.r_hash) if p.status == lnd.FAILED], timeout=30,
                               what="canceled payment to fail")[-1]
        assert final.failure_reason == REASON("FAILURE_REASON_CANCELED")
        assert [h.status for h in final.htlcs] == [lnd.HTLC_FAILED]
    finally:
        n.stop()


def test_amount_rules_for_invoices(net):
    bob = net.node("bob")
    fixed = bob.add_invoice(value=1_000)
    e = net.alice.send_error(payment_request=fixed.payment_request, amt=100)
    lnd.assert_rpc_error(e, UNKNOWN, "amount must not be specified when paying a non-zero amount invoice")
    e = net.alice.send_error(payment_request=fixed.payment_request, amt_msat=100_000)
    lnd.assert_rpc_error(e, UNKNOWN, "amount must not be specified when paying a non-zero amount invoice")
    open_amount = bob.add_invoice(memo="any amount")
    e = net.alice.send_error(payment_request=open_amount.payment_request)
    lnd.assert_rpc_error(e, UNKNOWN, "amount must be specified when paying a zero amount invoice")
    final = net.alice.send(payment_request=open_amount.payment_request, amt=777)[-1]
    assert final.status == lnd.SUCCEEDED and final.value_msat == 777_000
    assert bob.ln.LookupInvoice(ln.PaymentHash(r_hash=open_amount.r_hash)).amt_paid_msat == 777_000


def test_expired_invoice(net):
    inv = net.node("bob").add_invoice(value=1_000, expiry=1)
    decoded = net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=inv.payment_request))
    assert decoded.expiry == 1
    time.sleep(2.2)
    before = _total(net)
    e = net.alice.send_error(payment_request=inv.payment_request)
    until = datetime.datetime.fromtimestamp(decoded.timestamp + 1, datetime.timezone.utc)
    lnd.assert_rpc_error(e, UNKNOWN, f"invoice expired. Valid until {until:%Y-%m-%d %H:%M:%S} +0000 UTC")
    assert _total(net) == before          # nothing was initiated


def test_duplicate_payments(net):
    bob = net.node("bob")
    inv = bob.add_invoice(value=2_000)
    call = net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=inv.payment_request, timeout_seconds=30, fee_limit_sat=1000), timeout=60)
    first = lnd.StreamReader(call)
    first.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
    e = net.alice.send_error(payment_request=inv.payment_request)
    lnd.assert_rpc_error(e, grpc.StatusCode.ALREADY_EXISTS, "payment is in transition")
    assert first.done.wait(30) and first.error is None
    assert first.messages[-1].status == lnd.SUCCEEDED
    e = net.alice.send_error(payment_request=inv.payment_request)
    lnd.assert_rpc_error(e, grpc.StatusCode.ALREADY_EXISTS, "invoice is already paid")
    # The same, for a dest/keysend payment to the same hash.
    e = net.alice.send_error(dest=bytes.fromhex(bob.pubkey), amt=2_000, payment_hash=inv.r_hash)
    lnd.assert_rpc_error(e, grpc.StatusCode.ALREADY_EXISTS, "invoice is already paid")
    # Only one payment exists for the hash.
    listed = [p for p in net.alice.list_payments(include_incomplete=True, max_payments=1000).payments
              if p.payment_hash == inv.r_hash.hex()]
    assert len(listed) == 1 and listed[0] == first.messages[-1]


def test_retry_after_failure_gets_new_index(net):
    bob = net.node("bob")
    pre, h = lnd.preimage_and_hash()
    failed = net.alice.send(dest=bytes.fromhex(bob.pubkey), amt=1_500, payment_hash=h)[-1]
    assert failed.status == lnd.FAILED
    assert failed.failure_reason == REASON("FAILURE_REASON_INCORRECT_PAYMENT_DETAILS")
    # Now bob has an invoice for that hash: the retry is allowed and gets a new payment_index.
    inv = bob.add_invoice(value=1_500, r_preimage=pre)
    assert inv.r_hash == h
    retried = net.alice.send(payment_request=inv.payment_request)
    assert retried[0].status == lnd.IN_FLIGHT and list(retried[0].htlcs) == []   # old htlcs wiped
    assert retried[0].failure_reason == 0
    final = retried[-1]
    assert final.status == lnd.SUCCEEDED and final.payment_preimage == pre.hex()
    assert final.payment_index > failed.payment_index
    assert final.payment_request == inv.payment_request
    listed = [p for p in net.alice.list_payments(include_incomplete=True, max_payments=1000).payments
              if p.payment_hash == h.hex()]
    assert [p.payment_index for p in listed] == [final.payment_index]


def test_zero_fee_limit(net):
    # Every route to bob charges fees: a zero fee limit leaves none (LND: NO_ROUTE).
    inv = net.node("bob").add_invoice(value=1_000)
    final = net.alice.send(payment_request=inv.payment_request, fee_limit_sat=0, fee_limit_msat=0)[-1]
    assert final.status == lnd.FAILED
    assert final.failure_reason == REASON("FAILURE_REASON_NO_ROUTE")
    assert list(final.htlcs) == []


def test_keysend_creates_keysend_invoice(net):
    bob = net.node("bob")
    pre, h = lnd.preimage_and_hash()
    out = net.alice.send(dest=bytes.fromhex(bob.pubkey), amt=4_321, payment_hash=h,
                         dest_custom_records={lnd.KEYSEND_TYPE: pre})
    final = out[-1]
    assert final.status == lnd.SUCCEEDED
    assert final.payment_preimage == pre.hex() and final.payment_request == ""
    lnd.check_payment_common(final, value_msat=4_321_000)
    (htlc,) = final.htlcs
    lnd.check_route_policies(htlc.route, 4_321_000)
    assert htlc.route.hops[-1].custom_records[lnd.KEYSEND_TYPE] == pre
    inv = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=h))
    assert inv.is_keysend is True
    assert inv.state == ln.Invoice.SETTLED
    assert inv.r_preimage == pre
    assert inv.amt_paid_msat == 4_321_000
    listed = [i for i in bob.ln.ListInvoices(ln.ListInvoiceRequest(num_max_invoices=1000)).invoices if i.r_hash == h]
    assert len(listed) == 1 and listed[0].is_keysend


def test_private_node_through_invoice_hints(net):
    mallory = net.node("mallory")
    inv = mallory.add_invoice(value=2_500, private=True)
    decoded = net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=inv.payment_request))
    judy_mallory = lnd.scid(17)
    assert [[(h.chan_id, h.fee_base_msat, h.fee_proportional_millionths, h.cltv_expiry_delta)
             for h in r.hop_hints] for r in decoded.route_hints] == [[(judy_mallory, 1000, 100, 40)]]
    final = net.alice.send(payment_request=inv.payment_request)[-1]
    assert final.status == lnd.SUCCEEDED
    settled = [h for h in final.htlcs if h.status == lnd.HTLC_SUCCEEDED]
    names = lnd.check_route_policies(settled[0].route, 2_500_000)
    assert names[-2:] == ["judy", "mallory"]
    assert settled[0].route.hops[-1].chan_id == judy_mallory
    assert settled[0].route.hops[-1].pub_key == mallory.pubkey
    assert decoded.route_hints[0].hop_hints[0].node_id == settled[0].route.hops[-2].pub_key
    # Without private=true the invoice has no hints and mallory is unreachable.
    plain = mallory.add_invoice(value=2_500)
    assert list(net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=plain.payment_request)).route_hints) == []
    failed = net.alice.send(payment_request=plain.payment_request)[-1]
    assert (failed.status, failed.failure_reason) == (lnd.FAILED, REASON("FAILURE_REASON_NO_ROUTE"))
    # Keysend with the hint given in the request reaches her too.
    pre, h = lnd.preimage_and_hash()
    hint = ln.RouteHint(hop_hints=[decoded.route_hints[0].hop_hints[0]])
    ks = net.alice.send(dest=bytes.fromhex(mallory.pubkey), amt=1_000, payment_hash=h,
                        dest_custom_records={lnd.KEYSEND_TYPE: pre}, route_hints=[hint])[-1]
    assert ks.status == lnd.SUCCEEDED and ks.payment_preimage == pre.hex()


def test_validation_errors(net):
    bob = net.node("bob")
    inv = bob.add_invoice(value=1_000)
    bob_key = bytes.fromhex(bob.pubkey)
    h = os.urandom(32)
    before = _total(net)
    cases = [
        (dict(payment_request=inv.payment_request, dest=bob_key), "dest and payment_request cannot appear together"),
        (dict(payment_request=inv.payment_request, payment_hash=h), "payment_hash and payment_request cannot appear together"),
        (dict(payment_request=inv.payment_request, final_cltv_delta=40), "final_cltv_delta and payment_request cannot appear together"),
        (dict(dest=bob_key, amt=1, amt_msat=1000, payment_hash=h), "sat and msat arguments are mutually exclusive"),
        (dict(dest=bob_key, amt=-5, payment_hash=h), "amount cannot be negative"),
        (dict(dest=bob_key, amt=5, payment_hash=h, fee_limit_sat=1, fee_limit_msat=1000), "sat and msat arguments are mutually exclusive"),
        (dict(dest=bob_key, payment_hash=h), "amount must be specified"),
        (dict(dest=bob_key, amt=5, payment_hash=h[:5]), "invalid hash length of 5, want 32"),
        (dict(dest=bob_key[:5], amt=5, payment_hash=h), "invalid vertex length of 5, want 33"),
        (dict(dest=bytes.fromhex(net.alice.pubkey), amt=5, payment_hash=h), "self-payments not allowed"),
        (dict(dest=bob_key, amt=5, payment_hash=h, time_pref=1.5), "time preference out of range"),
        (dict(dest=bob_key, amt=5, payment_hash=h, cltv_limit=5000), "total time lock of 5000 exceeds max allowed 2016"),
        (dict(dest=bob_key, amt=5, payment_hash=h, amp=True), "destination doesn't support AMP payments"),
        (dict(dest=bob_key, amt=5, payment_hash=hashlib.sha256(b"k").digest(), max_shard_size_msat=1000,
              dest_custom_records={lnd.KEYSEND_TYPE: b"k" * 32}),
         "keysend payments cannot specify a max shard amount - MPP not supported with keysend payments"),
        (dict(dest=bob_key, amt=5_000, payment_hash=h, max_parts=2, max_shard_size_msat=1000),
         "payment amount 5000000 mSAT exceeds maximum possible amount 2000 mSAT with max_parts=2 and max_shard_size_msat=1000 mSAT"),
        (dict(dest=bob_key, amt=5, payment_hash=h, max_parts=1001, max_shard_size_msat=1000),
         "requested max_parts (1001) exceeds the allowed upper limit of 1000; cannot send payment amount with "
         "max_shard_size_msat=1000 mSAT"),
        (dict(dest=bob_key, amt=5, payment_hash=h, cltv_limit=50), "cltv limit 50 should be greater than 83"),
        (dict(dest=bob_key, amt=5, payment_hash=h, dest_custom_records={100: b"x"}),
         "no custom records with types below 65536 allowed"),
        (dict(dest=bob_key, amt=5, payment_hash=h, last_hop_pubkey=b"\x02" * 3), "invalid vertex length of 3, want 33"),
        (dict(payment_request=MAINNET_INVOICE), "invoice not for current active network 'testnet3'"),
    ]
    for req, text in cases:
        e = net.alice.send_error(**req)
        assert (e.code(), e.details()) == (UNKNOWN, text), req
    e = net.alice.send_error(payment_request="lnbc1notaninvoice")
    assert e.code() == UNKNOWN and e.details() != ""
    # None of these initiated a payment.
    assert _total(net) == before


def test_mpp_needs_two_parts(net):
    # No single path to bob carries 3M sat (carol→bob holds 2.5M): the payment must split.
    bob = net.node("bob")
    inv = bob.add_invoice(value=3_000_000)
    final = net.alice.send(payment_request=inv.payment_request, timeout=120)[-1]
    assert final.status == lnd.SUCCEEDED, final
    settled = [h for h in final.htlcs if h.status == lnd.HTLC_SUCCEEDED]
    assert len(settled) >= 2
    total = 0
    for h in settled:
        last = h.route.hops[-1]
        assert last.mpp_record.payment_addr == inv.payment_addr
        assert last.mpp_record.total_amt_msat == 3_000_000_000
        lnd.check_route_policies(h.route, last.amt_to_forward_msat)
        total += last.amt_to_forward_msat
    assert total == 3_000_000_000
    assert final.fee_msat == sum(h.route.total_fees_msat for h in settled)
    lnd.check_payment_common(final, value_msat=3_000_000_000, payment_request=inv.payment_request)
    looked = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert looked.state == ln.Invoice.SETTLED and looked.amt_paid_msat == 3_000_000_000
    assert len([x for x in looked.htlcs if x.state == ln.InvoiceHTLCState.Value("SETTLED")]) == len(settled)


def test_failed_attempts_kept_by_default_pruned_on_request(net, tmp_path):
    """§5.8: with pruning (LND's default; PayTrack's --prune-failed-payment-attempts) the failed
    HTLCs are deleted once the payment is terminal, without a notification: the stream's last
    message still has them, a later ListPayments/TrackPaymentV2 does not."""
    def failed_payment(n):
        out = n.alice.send(dest=bytes.fromhex(n.node("bob").pubkey), amt=1_000, payment_hash=os.urandom(32))
        final = out[-1]
        assert final.status == lnd.FAILED and [h.status for h in final.htlcs] == [lnd.HTLC_FAILED]
        return final
    kept = failed_payment(net)
    later = lnd.wait_until(lambda: net.alice.track(bytes.fromhex(kept.payment_hash)), what="track")
    assert later == [kept]
    pruned = lnd.Net(tmp_path / "node", "--sim.latency", "0", "--prune-failed-payment-attempts").start()
    try:
        final = failed_payment(pruned)
        h = bytes.fromhex(final.payment_hash)
        after = lnd.wait_until(lambda: [p for p in pruned.alice.track(h) if not p.htlcs], what="pruned attempts")
        assert len(after) == 1 and after[0].status == lnd.FAILED
        assert after[0].failure_reason == REASON("FAILURE_REASON_INCORRECT_PAYMENT_DETAILS")
        listed = pruned.alice.list_payments(include_incomplete=True).payments
        assert [(p.payment_hash, list(p.htlcs)) for p in listed] == [(final.payment_hash, [])]
    finally:
        pruned.stop()


def test_route_restrictions(net):
    bob = net.node("bob")
    height = net.alice.ln.GetInfo(ln.GetInfoRequest()).block_height
    # outgoing_chan_ids: only alice→erin (channel 3) may be the first hop.
    inv = bob.add_invoice(value=1_000)
    final = net.alice.send(payment_request=inv.payment_request, outgoing_chan_ids=[lnd.scid(3)])[-1]
    assert final.status == lnd.SUCCEEDED
    for h in final.htlcs:
        assert h.route.hops[0].chan_id == lnd.scid(3)
        assert lnd.check_route_policies(h.route, 1_000_000)[0] == "erin"
    # cltv_limit: dave's 144-block delta does not fit in 150 blocks.
    inv = bob.add_invoice(value=1_000)
    final = net.alice.send(payment_request=inv.payment_request, cltv_limit=150)[-1]
    assert final.status == lnd.SUCCEEDED
    for h in final.htlcs:
        assert h.route.total_time_lock - height <= 150
        assert "dave" not in lnd.check_route_policies(h.route, 1_000_000)
    # fee_limit_msat: the route's fees stay within it.
    inv = bob.add_invoice(value=100_000)
    final = net.alice.send(payment_request=inv.payment_request, fee_limit_sat=0, fee_limit_msat=6_000)[-1]
    assert final.status == lnd.SUCCEEDED and final.fee_msat <= 6_000
    # Paying one's own invoice is a self-payment.
    own = net.alice.add_invoice(value=1_000)
    e = net.alice.send_error(payment_request=own.payment_request)
    lnd.assert_rpc_error(e, UNKNOWN, "self-payments not allowed")


def test_incomplete_mpp_set_times_out_at_the_payee(tmp_path):
    """max_parts=2 for 4.29M sat: one half fits carol→bob, the other half has no path with
    that much liquidity and the payment may not split further. bob holds the first half until
    its MPP timeout (--sim.mpptimeout 2) and fails it with MPP_TIMEOUT; alice retries that half
    until her timeout (as LND: an MPP timeout is not a final failure), then the payment ends
    FAILED/TIMEOUT. Before the fix nothing expired held sets: the held HTLC never resolved and
    the payment stayed IN_FLIGHT forever, past its timeout."""
    n = lnd.Net(tmp_path / "node", "--sim.latency", "0", "--sim.mpptimeout", "2",
                channel_options=lnd.NO_BDP_PROBE).start()
    try:
        inv = n.node("bob").add_invoice(value=4_290_000)
        out = n.alice.send(payment_request=inv.payment_request, max_parts=2, timeout_seconds=5, timeout=30)
        final = out[-1]
        assert final.status == lnd.FAILED
        assert final.failure_reason == REASON("FAILURE_REASON_TIMEOUT")
        assert len(final.htlcs) >= 1
        for h in final.htlcs:
            assert h.status == lnd.HTLC_FAILED
            assert h.failure.code == ln.Failure.FailureCode.Value("MPP_TIMEOUT")
            assert h.failure.failure_source_index == len(h.route.hops)
            assert h.route.hops[-1].amt_to_forward_msat == 2_145_000_000
            assert h.route.hops[-1].mpp_record.total_amt_msat == 4_290_000_000
            assert h.resolve_time_ns - h.attempt_time_ns >= 1_000_000_000
        # The timeout was recorded while the last half was still held (§5.5).
        assert any(p.status == lnd.IN_FLIGHT and p.failure_reason == REASON("FAILURE_REASON_TIMEOUT") for p in out)
        looked = n.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
        assert looked.state == ln.Invoice.OPEN and looked.amt_paid_msat == 0
        assert [h.state for h in looked.htlcs] == [ln.InvoiceHTLCState.Value("CANCELED")] * len(final.htlcs)
    finally:
        n.stop()
