"""lnrpc's channel and graph calls (ChannelBalance, ListChannels, DescribeGraph, GetNodeInfo,
GetChanInfo) against the real daemon with grpcio: the simulated network's real balances, HTLCs in
flight while a hold invoice holds them, LND's filters, texts and codes; DescribeGraph's JSON (as
lncli prints it) re-imports with --describegraph and serves the same graph.
"""
import json

import grpc
import pytest
from google.protobuf import json_format

import harness
import lnd
from lnd import ln, rt
from invoicesrpc import invoices_pb2 as inv
from invoicesrpc import invoices_pb2_grpc as invstub

UNKNOWN = grpc.StatusCode.UNKNOWN


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("graph") / "node", "--sim.latency", "0",
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _err(fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        fn(*a, **kw)
    return e.value


def _by_peer(node, pubkey):
    return [c for c in node.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels if c.remote_pubkey == pubkey][0]


def test_balances_and_htlcs_in_flight_while_held(net):
    alice, bob = net.alice, net.node("bob")
    before = alice.ln.ChannelBalance(ln.ChannelBalanceRequest(), timeout=10)
    chans = alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels
    assert before.local_balance.sat == sum(c.local_balance for c in chans)
    assert before.remote_balance.sat == sum(c.remote_balance for c in chans)
    assert before.balance == before.local_balance.sat
    assert before.custom_channel_data == bytes([len(chans)] + [0] * len(chans) + [0])

    pre, h = lnd.preimage_and_hash()
    bob_inv = invstub.InvoicesStub(bob.channel)
    added = bob_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=50_000), timeout=10)
    sub = lnd.StreamReader(bob_inv.SubscribeSingleInvoice(inv.SubscribeSingleInvoiceRequest(r_hash=h), timeout=60))
    pay = lnd.StreamReader(alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=added.payment_request, timeout_seconds=60, fee_limit_sat=1000, max_parts=1), timeout=60))
    sub.wait_for(lambda i: i.state == ln.Invoice.ACCEPTED)
    held = pay.wait_for(lambda p: p.htlcs)
    first = held.htlcs[0].route.hops[0].chan_id
    during = alice.ln.ChannelBalance(ln.ChannelBalanceRequest(), timeout=10)
    total = held.htlcs[0].route.total_amt_msat
    assert during.unsettled_remote_balance.msat == total          # outgoing HTLCs
    assert during.local_balance.msat == before.local_balance.msat - total
    out = [c for c in alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels if c.chan_id == first][0]
    assert [(x.incoming, x.hash_lock, x.amount) for x in out.pending_htlcs] == [(False, h, total // 1000)]
    assert out.unsettled_balance == total // 1000
    bob_side = bob.ln.ChannelBalance(ln.ChannelBalanceRequest(), timeout=10)
    assert bob_side.unsettled_local_balance.msat == 50_000_000    # incoming HTLCs
    bob_inv.SettleInvoice(inv.SettleInvoiceMsg(preimage=pre), timeout=10)
    pay.wait_for(lambda p: p.status == lnd.SUCCEEDED)
    after = alice.ln.ChannelBalance(ln.ChannelBalanceRequest(), timeout=10)
    assert after.unsettled_remote_balance.msat == 0
    assert after.local_balance.msat == before.local_balance.msat - total
    assert after.remote_balance.msat == before.remote_balance.msat + total


def test_list_channels_filters_and_errors(net):
    alice = net.alice
    chans = alice.ln.ListChannels(ln.ListChannelsRequest(), timeout=10).channels
    assert len(chans) == 3 and all(c.active and not c.private and c.initiator for c in chans)
    assert {c.chan_id for c in chans} == {lnd.scid(1), lnd.scid(2), lnd.scid(3)}
    carol = [c for c in chans if c.chan_id == lnd.scid(1)][0]
    assert carol.capacity == 5_000_000
    only = alice.ln.ListChannels(ln.ListChannelsRequest(peer=bytes.fromhex(carol.remote_pubkey), peer_alias_lookup=True),
                                 timeout=10).channels
    assert [(c.chan_id, c.peer_alias) for c in only] == [(lnd.scid(1), "carol")]
    assert list(alice.ln.ListChannels(ln.ListChannelsRequest(private_only=True), timeout=10).channels) == []
    e = _err(alice.ln.ListChannels, ln.ListChannelsRequest(active_only=True, inactive_only=True), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "either `active_only` or `inactive_only` can be set, but not both")
    e = _err(alice.ln.ListChannels, ln.ListChannelsRequest(public_only=True, private_only=True), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "either `public_only` or `private_only` can be set, but not both")
    e = _err(alice.ln.ListChannels, ln.ListChannelsRequest(peer=b"\x02"), timeout=10)
    assert (e.code(), e.details()) == (UNKNOWN, "invalid `peer` key: invalid vertex length of 1, want 33")
    # readonly.macaroon has offchain:read.
    ro = lnd.lnstub.LightningStub(net.alice.daemon.channel("readonly"))
    assert len(ro.ListChannels(ln.ListChannelsRequest(), timeout=10).channels) == 3


def test_node_and_channel_info(net):
    alice = net.alice
    g = alice.ln.DescribeGraph(ln.ChannelGraphRequest(), timeout=10)
    assert len(g.nodes) == 11 and len(g.edges) == len(lnd.TOPOLOGY) - 1       # judy-mallory is private
    assert len(alice.ln.DescribeGraph(ln.ChannelGraphRequest(include_unannounced=True), timeout=10).edges) == len(lnd.TOPOLOGY)
    e = [x for x in g.edges if x.channel_id == lnd.scid(4)][0]              # carol-bob
    carol_pub = [n.pub_key for n in g.nodes if n.alias == "carol"][0]
    carol_policy = e.node1_policy if e.node1_pub == carol_pub else e.node2_policy
    assert (carol_policy.fee_base_msat, carol_policy.fee_rate_milli_msat, carol_policy.time_lock_delta) == (1000, 500, 40)
    assert alice.ln.GetChanInfo(ln.ChanInfoRequest(chan_id=lnd.scid(4)), timeout=10) == e
    assert alice.ln.GetChanInfo(ln.ChanInfoRequest(chan_point=e.chan_point), timeout=10) == e
    err = _err(alice.ln.GetChanInfo, ln.ChanInfoRequest(chan_id=7), timeout=10)
    assert (err.code(), err.details()) == (grpc.StatusCode.NOT_FOUND, "edge not found")
    err = _err(alice.ln.GetChanInfo, ln.ChanInfoRequest(), timeout=10)
    assert (err.code(), err.details()) == (UNKNOWN, "specify either chan_id or chan_point")
    info = alice.ln.GetNodeInfo(ln.NodeInfoRequest(pub_key=carol_pub, include_channels=True), timeout=10)
    # carol: alice-carol, carol-bob, carol-grace, frank-carol.
    assert info.node.alias == "carol" and info.num_channels == 4 and len(info.channels) == 4
    assert info.total_capacity == 5_000_000 + 3_000_000 + 200_000 + 1_000_000
    err = _err(alice.ln.GetNodeInfo, ln.NodeInfoRequest(pub_key="02" + "11" * 32), timeout=10)
    assert (err.code(), err.details()) == (grpc.StatusCode.NOT_FOUND, "unable to find node")
    err = _err(alice.ln.GetNodeInfo, ln.NodeInfoRequest(pub_key="abc"), timeout=10)
    assert (err.code(), err.details()) == (UNKNOWN, "invalid vertex string length of 3, want 66")


def test_describegraph_output_reimports(net, tmp_path):
    g = net.alice.ln.DescribeGraph(ln.ChannelGraphRequest(include_unannounced=True), timeout=10)
    path = tmp_path / "graph.json"
    path.write_text(json_format.MessageToJson(g, preserving_proto_field_name=True))
    d = harness.Daemon(tmp_path / "again", "--describegraph", str(path), "--sim.latency", "0").start()
    try:
        stub = lnd.lnstub.LightningStub(d.channel())
        again = stub.DescribeGraph(ln.ChannelGraphRequest(include_unannounced=True), timeout=10)
        # The same nodes (alice still servable with the same key), channels and policies; balances are redrawn.
        assert stub.GetInfo(ln.GetInfoRequest(), timeout=10).identity_pubkey == net.alice.pubkey
        assert sorted((n.pub_key, n.alias) for n in again.nodes) == sorted((n.pub_key, n.alias) for n in g.nodes)
        key = lambda e: e.channel_id
        for a, b in zip(sorted(g.edges, key=key), sorted(again.edges, key=key)):
            assert (a.channel_id, a.node1_pub, a.node2_pub, a.capacity) == (b.channel_id, b.node1_pub, b.node2_pub, b.capacity)
            for pa, pb in ((a.node1_policy, b.node1_policy), (a.node2_policy, b.node2_policy)):
                assert (pa.fee_base_msat, pa.fee_rate_milli_msat, pa.time_lock_delta, pa.min_htlc, pa.max_htlc_msat) == \
                       (pb.fee_base_msat, pb.fee_rate_milli_msat, pb.time_lock_delta, pb.min_htlc, pb.max_htlc_msat)
    finally:
        d.stop()
