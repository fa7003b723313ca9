"""TrackPaymentV2 (spec §3, §7) against the real daemon: alice pays bob over the simulated
network with 300 ms per hop, so payments stay in flight long enough to watch them.

Checked: the current snapshot comes first, then every change, and the stream ends OK after the
terminal one; a terminal payment gives exactly one message; no_inflight_updates; LND's errors
for unknown hashes and bad lengths; INITIATED shown as IN_FLIGHT unless --usestatusinitiated;
the §7 marshalling of successful and failed payments.
"""
import hashlib
import os

import grpc
import pytest

import lnd
from lnd import ln, rt


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("track") / "node", "--sim.latency", "300").start()
    yield n
    n.stop()


def _invoice(net, sat, memo="track"):
    return net.node("bob").add_invoice(value=sat, memo=memo)


def _start_send(net, pay_req, **kw):
    kw.setdefault("timeout_seconds", 60)
    kw.setdefault("fee_limit_sat", 10_000)
    call = net.alice.router.SendPaymentV2(rt.SendPaymentRequest(payment_request=pay_req, **kw), timeout=60)
    return lnd.StreamReader(call)


def test_unknown_hash_is_not_found(net):
    with pytest.raises(grpc.RpcError) as e:
        net.alice.track(os.urandom(32))
    lnd.assert_rpc_error(e.value, grpc.StatusCode.NOT_FOUND, "payment isn't initiated")


@pytest.mark.parametrize("n", [0, 1, 31, 33, 64])
def test_bad_hash_length_is_unknown(net, n):
    with pytest.raises(grpc.RpcError) as e:
        net.alice.track(b"\x07" * n)
    lnd.assert_rpc_error(e.value, grpc.StatusCode.UNKNOWN, f"invalid hash length of {n}, want 32")


def test_snapshot_first_then_every_change_then_ok(net):
    inv = _invoice(net, 2_000)
    send = _start_send(net, inv.payment_request)
    # Wait until an HTLC is out, then subscribe: the first tracked message is that state.
    send.wait_for(lambda p: len(p.htlcs) == 1 and p.htlcs[0].status == lnd.HTLC_IN_FLIGHT)
    call = net.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=inv.r_hash), timeout=60)
    track = lnd.StreamReader(call)
    assert track.done.wait(30), "track stream did not end after the terminal snapshot"
    assert send.done.wait(30)
    assert track.error is None and send.error is None      # both end with OK
    tracked, sent = track.messages, send.messages
    # First tracked message: the in-flight snapshot current at subscription time.
    assert tracked[0].status == lnd.IN_FLIGHT
    assert [h.status for h in tracked[0].htlcs] == [lnd.HTLC_IN_FLIGHT]
    assert tracked[0].payment_preimage == lnd.ZERO_PREIMAGE
    assert (tracked[0].fee_msat, tracked[0].fee_sat, tracked[0].fee) == (0, 0, 0)
    # Then every change up to and including the terminal one: the tail of the send stream.
    assert tracked[-1].status == lnd.SUCCEEDED
    assert all(p.status == lnd.IN_FLIGHT for p in tracked[:-1])
    k = sent.index(tracked[0])
    assert sent[k:] == tracked
    # The send stream: initiated snapshot (no htlcs), htlc in flight, succeeded.
    assert [(p.status, [h.status for h in p.htlcs]) for p in sent] == [
        (lnd.IN_FLIGHT, []), (lnd.IN_FLIGHT, [lnd.HTLC_IN_FLIGHT]), (lnd.SUCCEEDED, [lnd.HTLC_SUCCEEDED])]
    # A TrackPaymentV2 after the end: exactly the terminal snapshot, then OK.
    again = net.alice.track(inv.r_hash)
    assert again == [tracked[-1]]


def test_no_inflight_updates_only_terminal(net):
    inv = _invoice(net, 1_500)
    send = _start_send(net, inv.payment_request)
    send.wait_for(lambda p: len(p.htlcs) == 1)
    # Subscribed while in flight: the current (in-flight) snapshot is dropped too.
    only_final = net.alice.track(inv.r_hash, no_inflight_updates=True)
    assert [p.status for p in only_final] == [lnd.SUCCEEDED]
    assert send.done.wait(30)
    assert only_final[0] == send.messages[-1]
    # SendPaymentV2 with no_inflight_updates: the Initiated snapshot is not sent either.
    inv2 = _invoice(net, 1_600)
    out = net.alice.send(payment_request=inv2.payment_request, no_inflight_updates=True)
    assert [p.status for p in out] == [lnd.SUCCEEDED]
    assert len(out[0].htlcs) == 1


def test_marshalling_of_a_settled_payment(net):
    bob = net.node("bob")
    inv = bob.add_invoice(value=3_210, memo="marshal")
    height = net.alice.ln.GetInfo(ln.GetInfoRequest()).block_height
    out = net.alice.send(payment_request=inv.payment_request)
    final = out[-1]
    assert final.status == lnd.SUCCEEDED
    assert final.failure_reason == 0
    assert final.payment_hash == inv.r_hash.hex()
    lnd.check_payment_common(final, value_msat=3_210_000, payment_request=inv.payment_request)
    for p in out[:-1]:
        lnd.check_payment_common(p, value_msat=3_210_000, payment_request=inv.payment_request)
        assert p.payment_preimage == lnd.ZERO_PREIMAGE
        assert p.fee_msat == 0
    assert all(p.payment_index == final.payment_index for p in out)
    assert all(p.creation_time_ns == final.creation_time_ns for p in out)
    (htlc,) = final.htlcs
    assert htlc.status == lnd.HTLC_SUCCEEDED
    names = lnd.check_route_policies(htlc.route, 3_210_000)
    assert names[-1] == "bob"
    assert htlc.route.hops[-1].pub_key == bob.pubkey
    decoded = net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=inv.payment_request))
    assert htlc.route.hops[-1].expiry == height + decoded.cltv_expiry
    assert final.fee_msat == htlc.route.total_fees_msat > 0
    # The preimage is the one bob's invoice holds.
    looked = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert final.payment_preimage == looked.r_preimage.hex()
    assert htlc.preimage == looked.r_preimage
    # MPP record on the final hop (bob's invoice has a payment address).
    assert htlc.route.hops[-1].mpp_record.payment_addr == inv.payment_addr
    assert htlc.route.hops[-1].mpp_record.total_amt_msat == 3_210_000


def test_marshalling_of_a_failed_payment(net):
    # A dest payment to bob for a hash bob has no invoice for: bob fails it with
    # INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS; LND's reason INCORRECT_PAYMENT_DETAILS.
    bob = net.node("bob")
    h = os.urandom(32)
    height = net.alice.ln.GetInfo(ln.GetInfoRequest()).block_height
    out = net.alice.send(dest=bytes.fromhex(bob.pubkey), amt=1_234, payment_hash=h)
    final = out[-1]
    assert final.status == lnd.FAILED
    assert final.failure_reason == ln.PaymentFailureReason.Value("FAILURE_REASON_INCORRECT_PAYMENT_DETAILS")
    assert final.payment_hash == h.hex()
    lnd.check_payment_common(final, value_msat=1_234_000)
    assert final.payment_preimage == lnd.ZERO_PREIMAGE
    assert (final.fee_msat, final.fee_sat, final.fee) == (0, 0, 0)
    assert len(final.htlcs) == 1
    htlc = final.htlcs[0]
    assert htlc.status == lnd.HTLC_FAILED
    assert htlc.preimage == b""
    f = htlc.failure
    assert f.code == ln.Failure.FailureCode.Value("INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS")
    assert f.failure_source_index == len(htlc.route.hops)   # the final node
    assert f.height == height
    # §7: only `height` is filled for this code (LND marshallWireError); no channel update.
    assert f.htlc_msat == 0
    assert not f.HasField("channel_update")
    assert (f.cltv_expiry, f.flags, f.onion_sha_256) == (0, 0, b"")
    lnd.check_route_policies(htlc.route, 1_234_000)


def test_initiated_shown_as_in_flight_by_default(net):
    inv = _invoice(net, 1_100)
    out = net.alice.send(payment_request=inv.payment_request)
    assert out[0].status == lnd.IN_FLIGHT and list(out[0].htlcs) == []
    assert out[0].failure_reason == 0
    assert all(p.status != lnd.INITIATED for p in out)


def test_usestatusinitiated_shows_initiated(tmp_path):
    n = lnd.Net(tmp_path / "node", "--sim.latency", "300", "--usestatusinitiated").start()
    try:
        inv = n.node("bob").add_invoice(value=1_000)
        send = _start_send(n, inv.payment_request)
        first = send.next()
        assert first.status == lnd.INITIATED and list(first.htlcs) == []
        assert first.payment_preimage == lnd.ZERO_PREIMAGE and first.fee_msat == 0
        assert send.done.wait(30) and send.error is None
        statuses = [p.status for p in send.messages]
        assert statuses == [lnd.INITIATED, lnd.IN_FLIGHT, lnd.SUCCEEDED]
        assert n.alice.track(inv.r_hash)[0].status == lnd.SUCCEEDED
    finally:
        n.stop()


def test_streams_end_with_lnd_status_on_shutdown(tmp_path):
    """§3.6/§12: on server shutdown the router's streams (TrackPaymentV2, TrackPayments,
    SendPaymentV2) end with `routerrpc server shutting down`, code UNAVAILABLE (LND: Unknown; docs/API.md)."""
    n = lnd.Net(tmp_path / "node", "--sim.latency", "1000", channel_options=lnd.NO_BDP_PROBE).start()
    try:
        inv = n.node("bob").add_invoice(value=1_000)
        send = _start_send(n, inv.payment_request)
        send.wait_for(lambda p: len(p.htlcs) == 1)
        track = lnd.StreamReader(n.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=inv.r_hash), timeout=60))
        track.next()
        all_ = lnd.StreamReader(n.alice.router.TrackPayments(rt.TrackPaymentsRequest(), timeout=60))
        all_.next()
        assert n.daemon.stop() == 0
        for r in (send, track, all_):
            assert r.done.wait(10)
            assert r.error is not None
            assert (r.error.code(), r.error.details()) == (grpc.StatusCode.UNAVAILABLE, "routerrpc server shutting down")
    finally:
        n.stop()


def test_many_subscribers_on_one_connection(net):
    """Streams of one payment on one connection share one subscription on the server (one loop,
    one `PaymentFanout`): each still gets its own current snapshot first, every later change,
    its own filter, and ends OK; cancelled streams do not disturb the others."""
    inv = _invoice(net, 2_500)
    send = _start_send(net, inv.payment_request)
    send.wait_for(lambda p: len(p.htlcs) == 1 and p.htlcs[0].status == lnd.HTLC_IN_FLIGHT)
    router = net.alice.router      # one channel: one HTTP/2 connection

    def track(**kw):
        call = router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=inv.r_hash, **kw), timeout=60)
        return lnd.StreamReader(call)

    plain = [track() for _ in range(12)]
    quiet = [track(no_inflight_updates=True) for _ in range(4)]
    cancelled = [track() for _ in range(4)]
    for r in plain + cancelled:
        assert r.next().status == lnd.IN_FLIGHT          # each got its own first snapshot
    for r in cancelled:
        r.call.cancel()
    for r in plain + quiet + cancelled:
        assert r.done.wait(30), "stream did not end"
    assert send.done.wait(30) and send.error is None
    final = send.messages[-1]
    assert final.status == lnd.SUCCEEDED
    for r in plain:
        assert r.error is None
        msgs = r.messages
        assert msgs[-1] == final
        k = send.messages.index(msgs[0])
        assert send.messages[k:] == msgs, "every change after the first snapshot, once, in order"
    for r in quiet:
        assert r.error is None
        assert r.messages == [final]
    for r in cancelled:   # (a cancel may lose the race with the settle: then it ended OK)
        assert r.error is None or r.error.code() == grpc.StatusCode.CANCELLED
