"""Route calls against the real daemon with grpcio: lnrpc QueryRoutes, routerrpc EstimateRouteFee
(by destination and by payment request with a probe), BuildRoute, SendToRouteV2, mission control
(QueryMissionControl, ResetMissionControl, QueryProbability), and the legacy route calls
(lnrpc SendToRouteSync and bidirectional SendToRoute, routerrpc SendToRoute v1), with LND's
semantics, codes and texts. Fees and time locks are checked against the default topology.
"""
import grpc
import pytest

import lnd
from lnd import ln, rt

UNKNOWN = grpc.StatusCode.UNKNOWN


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("routes") / "node", "--sim.latency", "0",
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _err(fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        fn(*a, **kw)
    return e.value


def _height(net):
    return net.alice.ln.GetInfo(ln.GetInfoRequest(), timeout=10).block_height


def test_query_routes(net):
    bob = net.node("bob")
    resp = net.alice.ln.QueryRoutes(ln.QueryRoutesRequest(pub_key=bob.pubkey, amt=10_000), timeout=10)
    assert len(resp.routes) == 1 and resp.success_prob == 1.0           # no mission control by default
    route = resp.routes[0]
    lnd.check_route_policies(route, 10_000_000)
    assert route.hops[-1].pub_key == bob.pubkey
    assert route.hops[-1].expiry == _height(net) + 80                    # final delta default: 80
    with_mc = net.alice.ln.QueryRoutes(ln.QueryRoutesRequest(pub_key=bob.pubkey, amt=10_000, use_mission_control=True),
                                       timeout=10)
    assert 0 < with_mc.success_prob < 1
    # outgoing_chan_ids restricts the first hop; ignored nodes are avoided.
    only = net.alice.ln.QueryRoutes(ln.QueryRoutesRequest(pub_key=bob.pubkey, amt=10_000, outgoing_chan_ids=[lnd.scid(3)]),
                                    timeout=10).routes[0]
    assert only.hops[0].chan_id == lnd.scid(3)
    carol = [c for c in net.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels if c.chan_id == lnd.scid(1)][0]
    avoid = net.alice.ln.QueryRoutes(ln.QueryRoutesRequest(pub_key=bob.pubkey, amt=10_000,
                                                           ignored_nodes=[bytes.fromhex(carol.remote_pubkey)]), timeout=10)
    assert all(h.pub_key != carol.remote_pubkey for h in avoid.routes[0].hops)


def test_query_routes_errors(net):
    q = net.alice.ln.QueryRoutes
    e = _err(q, ln.QueryRoutesRequest(amt=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid vertex length of 0, want 33")
    bob = net.node("bob").pubkey
    e = _err(q, ln.QueryRoutesRequest(pub_key=bob, amt=1, amt_msat=1000), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "sat and msat arguments are mutually exclusive")
    e = _err(q, ln.QueryRoutesRequest(pub_key=bob, amt=1, cltv_limit=5000), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "total time lock of 5000 exceeds max allowed 2016")
    e = _err(q, ln.QueryRoutesRequest(pub_key=bob, amt=10_000_000), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "insufficient local balance")
    e = _err(q, ln.QueryRoutesRequest(pub_key=bob, amt=1, time_pref=2), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "time preference out of range")


def test_estimate_route_fee_by_destination(net):
    bob = net.node("bob")
    fee = net.alice.router.EstimateRouteFee(rt.RouteFeeRequest(dest=bytes.fromhex(bob.pubkey), amt_sat=10_000), timeout=10)
    assert fee.failure_reason == ln.FAILURE_REASON_NONE
    route = net.alice.ln.QueryRoutes(ln.QueryRoutesRequest(pub_key=bob.pubkey, amt=10_000, use_mission_control=True),
                                     timeout=10).routes[0]
    assert fee.routing_fee_msat == route.total_fees_msat
    assert fee.time_lock_delay == route.total_time_lock + 3              # absolute height + BlockPadding (LND)
    r = net.alice.router.EstimateRouteFee
    e = _err(r, rt.RouteFeeRequest(), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "specify either a destination or an invoice")
    e = _err(r, rt.RouteFeeRequest(dest=b"\x02" * 3, amt_sat=1), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid length destination key")
    e = _err(r, rt.RouteFeeRequest(dest=bytes.fromhex(bob.pubkey)), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "amount must be greater than 0")


def test_estimate_route_fee_by_payment_request_probes(net):
    bob = net.node("bob")
    inv = bob.add_invoice(value=20_000)
    fee = net.alice.router.EstimateRouteFee(rt.RouteFeeRequest(payment_request=inv.payment_request, timeout=30), timeout=30)
    assert fee.failure_reason == ln.FAILURE_REASON_NONE and fee.routing_fee_msat > 0
    assert fee.time_lock_delay > _height(net)
    # The probe is a real payment (random hash), recorded FAILED with INCORRECT_PAYMENT_DETAILS.
    probes = [p for p in net.alice.list_payments(include_incomplete=True).payments
              if p.payment_request == "" and p.value_msat == 20_000_000]
    assert probes and probes[-1].failure_reason == ln.FAILURE_REASON_INCORRECT_PAYMENT_DETAILS
    assert probes[-1].htlcs[-1].route.total_fees_msat == fee.routing_fee_msat
    amountless = bob.add_invoice()
    e = _err(net.alice.router.EstimateRouteFee, rt.RouteFeeRequest(payment_request=amountless.payment_request), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "payment request amount must be greater than 0")


def test_build_route_and_send_to_route_v2(net):
    bob = net.node("bob")
    carol_pub = [c.remote_pubkey for c in net.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels
                 if c.chan_id == lnd.scid(1)][0]
    inv = bob.add_invoice(value=3_000)
    built = net.alice.router.BuildRoute(rt.BuildRouteRequest(
        amt_msat=3_000_000, hop_pubkeys=[bytes.fromhex(carol_pub), bytes.fromhex(bob.pubkey)],
        payment_addr=inv.payment_addr), timeout=10).route
    assert [h.chan_id for h in built.hops] == [lnd.scid(1), lnd.scid(4)]
    lnd.check_route_policies(built, 3_000_000)
    assert built.hops[-1].mpp_record.payment_addr == inv.payment_addr
    assert built.hops[-1].mpp_record.total_amt_msat == 3_000_000
    attempt = net.alice.router.SendToRouteV2(rt.SendToRouteRequest(payment_hash=inv.r_hash, route=built), timeout=30)
    assert attempt.status == lnd.HTLC_SUCCEEDED
    assert attempt.preimage == bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash)).r_preimage
    assert [p.status for p in net.alice.list_payments().payments if p.payment_hash == inv.r_hash.hex()] == [lnd.SUCCEEDED]
    # The same hash again: AlreadyExists.
    e = _err(net.alice.router.SendToRouteV2, rt.SendToRouteRequest(payment_hash=inv.r_hash, route=built), timeout=10)
    assert (e.code(), e.details()) == (grpc.StatusCode.ALREADY_EXISTS, "invoice is already paid")
    # An HTLC failure is an OK response with the failure; the payment fails with reason ERROR.
    _, unknown = lnd.preimage_and_hash()
    failed = net.alice.router.SendToRouteV2(rt.SendToRouteRequest(payment_hash=unknown, route=built), timeout=30)
    assert failed.status == lnd.HTLC_FAILED
    assert failed.failure.code == ln.Failure.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS and failed.failure.failure_source_index == 2
    p = [p for p in net.alice.list_payments(include_incomplete=True).payments if p.payment_hash == unknown.hex()][0]
    assert (p.status, p.failure_reason) == (lnd.FAILED, ln.FAILURE_REASON_ERROR)
    # v1 SendToRoute: preimage or failure in SendToRouteResponse.
    v1 = net.alice.router.SendToRoute(rt.SendToRouteRequest(payment_hash=lnd.preimage_and_hash()[1], route=built), timeout=30)
    assert v1.preimage == b"" and v1.failure.code == ln.Failure.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS


def test_route_call_errors(net):
    r = net.alice.router
    e = _err(r.SendToRouteV2, rt.SendToRouteRequest(payment_hash=b"\x01" * 32), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "unable to send, no routes provided")
    e = _err(r.SendToRouteV2, rt.SendToRouteRequest(payment_hash=b"\x01" * 32, route=ln.Route()), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "empty route hops provided")
    hop = ln.Hop(chan_id=lnd.scid(1), amt_to_forward_msat=1000, expiry=900000)
    e = _err(r.SendToRouteV2, rt.SendToRouteRequest(payment_hash=b"\x01" * 3, route=ln.Route(hops=[hop])), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid hash length of 3, want 32")
    bad = ln.Hop(chan_id=lnd.scid(1), pub_key="zz", amt_to_forward_msat=1000)
    e = _err(r.SendToRouteV2, rt.SendToRouteRequest(payment_hash=b"\x01" * 32, route=ln.Route(hops=[bad])), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "cannot decode pubkey zz")
    mpp = ln.Hop(chan_id=lnd.scid(1), amt_to_forward_msat=1000, mpp_record=ln.MPPRecord(total_amt_msat=1000))
    e = _err(r.SendToRouteV2, rt.SendToRouteRequest(payment_hash=b"\x01" * 32, route=ln.Route(hops=[mpp])), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "missing payment_addr")
    e = _err(r.SendToRouteV2, rt.SendToRouteRequest(payment_hash=b"\x01" * 32, route=ln.Route(hops=[hop]), skip_temp_err=True),
             timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "cannot skip temp error for non-MPP")
    e = _err(r.BuildRoute, rt.BuildRouteRequest(), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "no hops specified")
    e = _err(r.BuildRoute, rt.BuildRouteRequest(hop_pubkeys=[b"\x02"]), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid vertex length of 1, want 33")
    e = _err(r.BuildRoute, rt.BuildRouteRequest(hop_pubkeys=[bytes.fromhex(net.node("bob").pubkey)]), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "no matching outgoing channel available for node index 0")


def test_mission_control(net):
    r = net.alice.router
    r.ResetMissionControl(rt.ResetMissionControlRequest(), timeout=10)
    assert list(r.QueryMissionControl(rt.QueryMissionControlRequest(), timeout=10).pairs) == []
    bob = net.node("bob")
    assert net.alice.send(payment_request=bob.add_invoice(value=1_000).payment_request)[-1].status == lnd.SUCCEEDED
    pairs = r.QueryMissionControl(rt.QueryMissionControlRequest(), timeout=10).pairs
    assert pairs and all(len(p.node_from) == 33 and len(p.node_to) == 33 for p in pairs)
    into_bob = [p for p in pairs if p.node_to.hex() == bob.pubkey]
    assert into_bob and into_bob[0].history.success_amt_msat >= 1_000_000 and into_bob[0].history.success_time > 0
    assert into_bob[0].history.success_amt_sat == into_bob[0].history.success_amt_msat // 1000
    p = r.QueryProbability(rt.QueryProbabilityRequest(from_node=into_bob[0].node_from, to_node=into_bob[0].node_to,
                                                      amt_msat=1_000_000), timeout=10)
    assert p.probability == pytest.approx(0.95) and p.history == into_bob[0].history   # prevSuccessProbability
    none = r.QueryProbability(rt.QueryProbabilityRequest(from_node=bytes.fromhex(bob.pubkey), to_node=bytes.fromhex(net.alice.pubkey),
                                                         amt_msat=1000), timeout=10)
    assert none.probability == 0.0                                        # no channel between them
    e = _err(r.QueryProbability, rt.QueryProbabilityRequest(from_node=b"\x02"), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid vertex length of 1, want 33")
    r.ResetMissionControl(rt.ResetMissionControlRequest(), timeout=10)
    assert list(r.QueryMissionControl(rt.QueryMissionControlRequest(), timeout=10).pairs) == []


def test_legacy_send_to_route_sync_and_stream(net):
    bob = net.node("bob")
    carol_pub = [c.remote_pubkey for c in net.alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels
                 if c.chan_id == lnd.scid(1)][0]
    inv = bob.add_invoice(value=2_000)
    built = net.alice.router.BuildRoute(rt.BuildRouteRequest(
        amt_msat=2_000_000, hop_pubkeys=[bytes.fromhex(carol_pub), bytes.fromhex(bob.pubkey)],
        payment_addr=inv.payment_addr), timeout=10).route
    resp = net.alice.ln.SendToRouteSync(ln.SendToRouteRequest(payment_hash_string=inv.r_hash.hex(), route=built), timeout=30)
    assert resp.payment_error == "" and resp.payment_hash == inv.r_hash and len(resp.payment_preimage) == 32
    assert [h.chan_id for h in resp.payment_route.hops] == [lnd.scid(1), lnd.scid(4)]
    _, unknown = lnd.preimage_and_hash()
    resp = net.alice.ln.SendToRouteSync(ln.SendToRouteRequest(payment_hash=unknown, route=built), timeout=30)
    assert resp.payment_error == f"IncorrectOrUnknownPaymentDetails(amt=2000000 mSAT, height={_height(net)})@2"
    e = _err(net.alice.ln.SendToRouteSync, ln.SendToRouteRequest(payment_hash=unknown), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "unable to send, no routes provided")
    # Bidirectional: replies per request; a missing route ends the stream (singular text).
    inv2 = bob.add_invoice(value=2_000)
    built2 = net.alice.router.BuildRoute(rt.BuildRouteRequest(
        amt_msat=2_000_000, hop_pubkeys=[bytes.fromhex(carol_pub), bytes.fromhex(bob.pubkey)],
        payment_addr=inv2.payment_addr), timeout=10).route
    replies = list(net.alice.ln.SendToRoute(iter([ln.SendToRouteRequest(payment_hash=inv2.r_hash, route=built2)]), timeout=30))
    assert [r.payment_hash for r in replies] == [inv2.r_hash] and replies[0].payment_error == ""
    with pytest.raises(grpc.RpcError) as e:
        list(net.alice.ln.SendToRoute(iter([ln.SendToRouteRequest(payment_hash=unknown)]), timeout=10))
    assert (e.value.code(), e.value.details()) == (UNKNOWN, "unable to send, no route provided")
