"""gRPC semantics of our server against Python grpcio over TLS (see test_transport_fixtures)."""
import threading
import time

import grpc
import pytest

from test_transport_fixtures import grpc_server, stub, pb, pb_grpc, wait_for  # noqa: F401


def test_unary_echo_with_metadata_and_peer(stub):
    resp, call = stub.UnaryEcho.with_call(
        pb.EchoRequest(message="hello", size=10),
        metadata=[("x-custom", "v1"), ("trace-bin", b"\x00\x01\xfe\xff")])
    assert resp.message == "hello"
    assert resp.payload == b"\xab" * 10
    assert resp.peer.startswith("127.0.0.1:")
    assert "x-custom=v1" in resp.metadata
    assert "trace-bin=hex:0001feff" in resp.metadata
    assert call.code() == grpc.StatusCode.OK


def test_unary_completed_later_from_another_thread(stub):
    resp = stub.UnaryEcho(pb.EchoRequest(message="later", delay_ms=50), timeout=5)
    assert resp.message == "later"


def test_error_status_and_percent_encoded_message(stub):
    with pytest.raises(grpc.RpcError) as e:
        stub.UnaryEcho(pb.EchoRequest(message="payment isn't initiated: é 100%\nnext", fail_code=5))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert e.value.details() == "payment isn't initiated: é 100%\nnext"


def test_server_streaming_many_messages_with_backpressure(stub):
    got = list(stub.StreamEcho(pb.EchoRequest(message="s", count=2000, size=1000)))
    assert [m.index for m in got] == list(range(2000))
    assert all(len(m.payload) == 1000 for m in got)


def test_server_streaming_large_messages(stub):
    # Each message is bigger than the per-stream buffer limit's half and the HTTP/2 window.
    got = list(stub.StreamEcho(pb.EchoRequest(message="big", count=20, size=60000)))
    assert len(got) == 20 and all(len(m.payload) == 60000 for m in got)


def test_cancel_mid_stream_runs_cancellation(stub):
    before = stub.Stats(pb.StatsRequest()).cancelled
    call = stub.SlowStream(pb.EchoRequest(message="slow", delay_ms=20))
    seen = []
    for m in call:
        seen.append(m.index)
        if len(seen) == 3:
            call.cancel()
            break
    assert seen == [0, 1, 2]
    assert wait_for(lambda: stub.Stats(pb.StatsRequest()).cancelled > before)


def test_deadline_exceeded(stub):
    before = stub.Stats(pb.StatsRequest())
    t0 = time.time()
    with pytest.raises(grpc.RpcError) as e:
        stub.UnaryEcho(pb.EchoRequest(message="x", delay_ms=3000), timeout=0.3)
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.time() - t0 < 2.5
    # The server saw the deadline too (grpc-timeout parsed; cancellation ran at the deadline).
    assert wait_for(lambda: stub.Stats(pb.StatsRequest()).deadlines > before.deadlines)


def test_oversize_message_is_resource_exhausted(stub):
    with pytest.raises(grpc.RpcError) as e:
        stub.UnaryEcho(pb.EchoRequest(message="x" * 70000))
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in e.value.details()
    # The connection is still usable.
    assert stub.UnaryEcho(pb.EchoRequest(message="ok")).message == "ok"


def test_unknown_method_and_service(grpc_server):
    ch = grpc_server.channel()
    m = ch.unary_unary("/paytrack.test.TestService/Nope")
    with pytest.raises(grpc.RpcError) as e:
        m(b"")
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "unknown method Nope" in e.value.details()
    s = ch.unary_unary("/no.Such/Thing")
    with pytest.raises(grpc.RpcError) as e:
        s(b"")
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "unknown service no.Such" in e.value.details()
    ch.close()


def test_interceptor_refuses_without_macaroon(grpc_server):
    ch = grpc_server.channel()
    track = ch.unary_stream("/routerrpc.Router/TrackPaymentV2")
    with pytest.raises(grpc.RpcError) as e:
        list(track(b"\x0a\x20" + b"\x00" * 32))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    msgs = list(track(b"\x0a\x20" + b"\x00" * 32, metadata=[("macaroon", "0201")]))
    assert len(msgs) == 1 and len(msgs[0]) == 815
    ch.close()


def test_many_concurrent_calls_on_one_connection(stub):
    results = []

    def worker():
        for i in range(50):
            results.append(stub.UnaryEcho(pb.EchoRequest(message=str(i))).message)

    ts = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert len(results) == 400
