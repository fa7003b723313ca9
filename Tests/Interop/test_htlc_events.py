"""routerrpc SubscribeHtlcEvents against the real daemon with grpcio: carol, served as a forwarding
node, sees her forwards; alice (the payer) sees her sends; bob (the payee) his receipts; the first
message is always the empty subscribed_event.
"""
import grpc
import pytest

import lnd
from lnd import ln, rt


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("htlcev") / "node", "--sim.latency", "0", serve=("bob", "carol"),
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _kind(e):
    return e.WhichOneof("event")


def test_forwarder_payer_and_payee_see_their_events(net):
    alice, bob, carol = net.alice, net.node("bob"), net.node("carol")
    streams = {name: lnd.StreamReader(n.router.SubscribeHtlcEvents(rt.SubscribeHtlcEventsRequest(), timeout=60))
               for name, n in (("alice", alice), ("bob", bob), ("carol", carol))}
    for s in streams.values():
        first = s.next()
        assert _kind(first) == "subscribed_event" and first.event_type == rt.HtlcEvent.UNKNOWN and first.timestamp_ns == 0
    inv = bob.add_invoice(value=5_000)
    # Through carol: only alice->carol may be the first hop.
    final = alice.send(payment_request=inv.payment_request, outgoing_chan_ids=[lnd.scid(1)], max_parts=1)[-1]
    assert final.status == lnd.SUCCEEDED
    route = final.htlcs[-1].route
    assert route.hops[0].chan_id == lnd.scid(1) and route.hops[1].chan_id == lnd.scid(4)
    preimage = bytes.fromhex(final.payment_preimage)

    sent = streams["alice"].next()
    assert (sent.event_type, _kind(sent)) == (rt.HtlcEvent.SEND, "forward_event")
    assert (sent.incoming_channel_id, sent.incoming_htlc_id, sent.outgoing_channel_id) == (0, 0, lnd.scid(1))
    assert sent.forward_event.info.outgoing_amt_msat == route.total_amt_msat
    assert sent.forward_event.info.outgoing_timelock == route.total_time_lock
    settled = streams["alice"].next()
    assert (settled.event_type, _kind(settled), settled.settle_event.preimage) == (rt.HtlcEvent.SEND, "settle_event", preimage)

    fwd = streams["carol"].next()
    assert (fwd.event_type, _kind(fwd)) == (rt.HtlcEvent.FORWARD, "forward_event")
    assert (fwd.incoming_channel_id, fwd.outgoing_channel_id) == (lnd.scid(1), lnd.scid(4))
    info = fwd.forward_event.info
    assert info.incoming_amt_msat - info.outgoing_amt_msat == route.hops[0].fee_msat
    assert info.incoming_timelock - info.outgoing_timelock == 40                 # carol's delta towards bob
    assert fwd.timestamp_ns > 0
    s = streams["carol"].next()
    assert (s.event_type, _kind(s)) == (rt.HtlcEvent.FORWARD, "settle_event")
    f = streams["carol"].next()
    assert (f.event_type, _kind(f), f.final_htlc_event.settled, f.final_htlc_event.offchain) == \
           (rt.HtlcEvent.UNKNOWN, "final_htlc_event", True, True)

    got = streams["bob"].next()
    assert (got.event_type, _kind(got), got.incoming_channel_id, got.outgoing_channel_id) == \
           (rt.HtlcEvent.RECEIVE, "settle_event", lnd.scid(4), 0)
    assert _kind(streams["bob"].next()) == "final_htlc_event"
    for s in streams.values():
        s.cancel()


def test_a_failed_payment_is_a_forward_fail_for_the_payer_and_a_link_fail_for_the_payee(net):
    alice, bob = net.alice, net.node("bob")
    a = lnd.StreamReader(alice.router.SubscribeHtlcEvents(rt.SubscribeHtlcEventsRequest(), timeout=60))
    b = lnd.StreamReader(bob.router.SubscribeHtlcEvents(rt.SubscribeHtlcEventsRequest(), timeout=60))
    a.next(), b.next()
    _, h = lnd.preimage_and_hash()
    final = alice.send(dest=bytes.fromhex(bob.pubkey), amt=1_000, payment_hash=h, max_parts=1)[-1]
    assert final.failure_reason == ln.FAILURE_REASON_INCORRECT_PAYMENT_DETAILS
    kinds = [_kind(a.next()), _kind(a.next())]
    assert kinds == ["forward_event", "forward_fail_event"]
    lf = b.next()
    assert (lf.event_type, _kind(lf)) == (rt.HtlcEvent.RECEIVE, "link_fail_event")
    assert lf.link_fail_event.wire_failure == ln.Failure.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS
    fin = b.next()
    assert _kind(fin) == "final_htlc_event" and fin.final_htlc_event.settled is False
    a.cancel(), b.cancel()


def test_readonly_macaroon_can_subscribe(net):
    ro = lnd.rtstub.RouterStub(net.alice.daemon.channel("readonly"))
    s = lnd.StreamReader(ro.SubscribeHtlcEvents(rt.SubscribeHtlcEventsRequest(), timeout=30))
    assert _kind(s.next()) == "subscribed_event"
    s.cancel()
