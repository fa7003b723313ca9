"""TrackPayments (spec §4) and PayTrack's resume extension (metadata `paytrack-replay-since`,
unix ns) against the real daemon, with 300 ms per hop so payments stay in flight.
"""
import queue
import time

import grpc
import pytest

import lnd
from lnd import rt

REPLAY = "paytrack-replay-since"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    # With grpcio's default BDP probe the server ends busy streams with GOAWAY too_many_pings
    # (Transport bug, see test_default_grpcio_channel_survives_a_busy_stream); the semantics of
    # §4 are tested here with the probe off.
    n = lnd.Net(tmp_path_factory.mktemp("tracks") / "node", "--sim.latency", "300",
                channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _subscribe(net, no_inflight_updates=False, metadata=None):
    call = net.alice.router.TrackPayments(rt.TrackPaymentsRequest(no_inflight_updates=no_inflight_updates),
                                          metadata=metadata, timeout=120)
    return lnd.StreamReader(call)


def _send(net, sat):
    inv = net.node("bob").add_invoice(value=sat)
    call = net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=10_000), timeout=60)
    return inv, lnd.StreamReader(call)


def _by_hash(msgs):
    out = {}
    for m in msgs:
        out.setdefault(m.payment_hash, []).append(m)
    return out


def _collect_until_terminal(reader, hashes, timeout=30):
    left = set(hashes)
    got = []
    deadline = time.time() + timeout
    while left:
        m = reader.next(timeout=max(0.1, deadline - time.time()))
        got.append(m)
        if m.status in (lnd.SUCCEEDED, lnd.FAILED):
            left.discard(m.payment_hash)
    return got


def test_every_change_of_every_payment_and_never_ends(net):
    # A payment that finished before subscribing is not replayed.
    old = net.alice.send(payment_request=net.node("bob").add_invoice(value=1_000).payment_request)[-1]
    assert old.status == lnd.SUCCEEDED
    sub = _subscribe(net)
    time.sleep(0.3)
    (inv1, s1), (inv2, s2) = _send(net, 1_100), _send(net, 1_200)
    got = _collect_until_terminal(sub, [inv1.r_hash.hex(), inv2.r_hash.hex()])
    assert s1.done.wait(30) and s2.done.wait(30)
    per = _by_hash(got)
    assert set(per) == {inv1.r_hash.hex(), inv2.r_hash.hex()}        # nothing of `old`
    # Each payment's sequence is exactly its SendPaymentV2 stream (Initiated first ... terminal).
    assert per[inv1.r_hash.hex()] == s1.messages
    assert per[inv2.r_hash.hex()] == s2.messages
    assert [p.status for p in s1.messages][-1] == lnd.SUCCEEDED
    # The stream does not end by itself.
    assert sub.no_message_for(1.0)
    assert not sub.done.is_set()
    # A later payment still arrives on the same stream.
    inv3, s3 = _send(net, 1_300)
    got3 = _collect_until_terminal(sub, [inv3.r_hash.hex()])
    assert s3.done.wait(30)
    assert got3 == s3.messages
    sub.cancel()


def test_inflight_snapshots_first(net):
    inv, send = _send(net, 1_400)
    cur = send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
    sub = _subscribe(net)
    first = sub.next()
    assert first.payment_hash == inv.r_hash.hex() and first.status == lnd.IN_FLIGHT
    assert first == cur or first in send.messages
    got = [first] + _collect_until_terminal(sub, [inv.r_hash.hex()])
    assert send.done.wait(30)
    k = send.messages.index(first)
    assert got == send.messages[k:]
    sub.cancel()


def test_no_inflight_updates(net):
    sub = _subscribe(net, no_inflight_updates=True)
    time.sleep(0.3)
    (inv1, s1), (inv2, s2) = _send(net, 1_500), _send(net, 1_600)
    got = _collect_until_terminal(sub, [inv1.r_hash.hex(), inv2.r_hash.hex()])
    assert s1.done.wait(30) and s2.done.wait(30)
    assert sorted(p.payment_hash for p in got) == sorted([inv1.r_hash.hex(), inv2.r_hash.hex()])
    assert all(p.status == lnd.SUCCEEDED for p in got)
    assert {p.payment_hash: p for p in got} == {inv1.r_hash.hex(): s1.messages[-1], inv2.r_hash.hex(): s2.messages[-1]}
    sub.cancel()


def test_replay_since_delivers_what_finished_while_disconnected(net):
    # B finishes before the cut-off: never replayed.
    before = net.alice.send(payment_request=net.node("bob").add_invoice(value=1_700).payment_request)[-1]
    sub = _subscribe(net)
    time.sleep(0.3)
    inv, send = _send(net, 1_800)
    first = sub.wait_for(lambda p: p.payment_hash == inv.r_hash.hex())
    assert first.status == lnd.IN_FLIGHT
    cut = time.time_ns()
    sub.cancel()                                   # disconnect while the payment is in flight
    assert send.done.wait(30)
    final = send.messages[-1]
    assert final.status == lnd.SUCCEEDED
    # A plain reconnect (LND behaviour) does not see the payment that finished meanwhile.
    plain = _subscribe(net)
    assert plain.no_message_for(1.0)
    plain.cancel()
    # Resuming with the cut-off replays it (its terminal snapshot), and nothing older.
    resumed = _subscribe(net, metadata=[(REPLAY, str(cut))])
    replayed = resumed.wait_for(lambda p: p.payment_hash == inv.r_hash.hex(), timeout=10)
    assert replayed == final
    assert resumed.no_message_for(1.0)
    assert all(m.payment_hash != before.payment_hash for m in resumed.messages)
    resumed.cancel()
    # A cut-off of 0 replays every payment, including `before`.
    everything = _subscribe(net, metadata=[(REPLAY, "0")])
    everything.wait_for(lambda p: p.payment_hash == before.payment_hash and p.status == lnd.SUCCEEDED, timeout=10)
    everything.cancel()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_replay_since_bad_value(net, value):
    call = net.alice.router.TrackPayments(rt.TrackPaymentsRequest(), metadata=[(REPLAY, value)], timeout=10)
    with pytest.raises(grpc.RpcError) as e:
        list(call)
    lnd.assert_rpc_error(e.value, grpc.StatusCode.INVALID_ARGUMENT,
                         f'{REPLAY} must be unix nanoseconds (a non-negative integer), got "{value}"')


def test_default_grpcio_channel_survives_a_busy_stream(net):
    """A TrackPayments stream from a grpcio client with default options must stay open while
    payments stream through it. grpcio sends a BDP ping each time it receives data after a
    quiet spell; grpc-go (LND) resets its ping strikes whenever the server sends HEADERS or DATA
    (http2_server.go `setResetPingStrikes`), so those pings are never strikes. PayTrack's
    Transport (HTTP2Session.checkPingPolicy) resets strikes only on a new client stream, so the
    connection is closed with GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (Transport bug)."""
    client = lnd.Node(net.daemon)          # default channel options: BDP probe on
    try:
        sub = lnd.StreamReader(client.router.TrackPayments(rt.TrackPaymentsRequest(), timeout=120))
        time.sleep(0.3)
        for sat in (2_001, 2_002, 2_003, 2_004):
            inv, send = _send(net, sat)
            assert send.done.wait(30) and send.messages[-1].status == lnd.SUCCEEDED
            try:
                sub.wait_for(lambda p: p.payment_hash == inv.r_hash.hex() and p.status == lnd.SUCCEEDED, timeout=10)
            except queue.Empty:
                e = sub.error
                raise AssertionError(f"TrackPayments stream ended: {e.code() if e else None} {e.details() if e else ''}")
        assert not sub.done.is_set(), f"stream ended: {sub.error}"
        sub.cancel()
    finally:
        client.close()
