"""The real paytrackd under HTTP/2 tools that are not gRPC libraries: nghttp shows the response shape
of TrackPaymentV2 (HEADERS, trailers with grpc-status/grpc-message) with a real macaroon, h2load drives
many connections and streams through the macaroon check and the store, and reflection lists the
services from Protos/ for a grpcurl-style client holding a macaroon."""
import shutil
import subprocess

import grpc
import pytest

import harness

# Scripts/bootstrap installs nghttp2-client; a missing tool is a failure, never a skip.
assert shutil.which("nghttp") and shutil.which("h2load"), "nghttp/h2load missing: run Scripts/bootstrap"


def track_body(payment_hash: bytes) -> bytes:
    msg = b"\x0a\x20" + payment_hash
    return b"\x00" + len(msg).to_bytes(4, "big") + msg


def test_nghttp_unknown_hash_is_not_found_with_lnds_text(daemon, tmp_path):
    body = tmp_path / "track.bin"
    body.write_bytes(track_body(b"\x42" * 32))
    out = subprocess.run(
        ["nghttp", "-v", "-H", ":method: POST", "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", f"macaroon: {daemon.macaroon_hex('readonly')}", "-d", str(body),
         f"https://{daemon.target}/routerrpc.Router/TrackPaymentV2"],
        capture_output=True, text=True, timeout=30)
    assert ":status: 200" in out.stdout
    assert "grpc-status: 5" in out.stdout
    assert "grpc-message: payment isn't initiated" in out.stdout


def test_nghttp_without_macaroon_gets_lnds_error(daemon, tmp_path):
    body = tmp_path / "track.bin"
    body.write_bytes(track_body(b"\x42" * 32))
    out = subprocess.run(
        ["nghttp", "-v", "-H", ":method: POST", "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-d", str(body), f"https://{daemon.target}/routerrpc.Router/TrackPaymentV2"],
        capture_output=True, text=True, timeout=30)
    assert "grpc-status: 2" in out.stdout
    assert "grpc-message: expected 1 macaroon, got 0" in out.stdout


def test_h2load_many_streams_through_macaroon_check(daemon, tmp_path):
    body = tmp_path / "track.bin"
    body.write_bytes(track_body(b"\x42" * 32))
    out = subprocess.run(
        ["h2load", "-n", "2000", "-c", "8", "-m", "16", "-d", str(body),
         "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", f"macaroon: {daemon.macaroon_hex('admin')}",
         f"https://{daemon.target}/routerrpc.Router/TrackPaymentV2"],
        capture_output=True, text=True, timeout=120)
    assert "2000 succeeded, 0 failed, 0 errored" in out.stdout, out.stdout
    # Still serving afterwards.
    assert daemon.proc.poll() is None


def test_reflection_is_open_by_default_and_lists_lnd_services(daemon):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
    # Reflection clients cannot attach metadata to reflection calls: it answers without a macaroon.
    for ch in (daemon.channel(None), daemon.channel("readonly")):
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        responses = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        names = {s.name for s in responses[0].list_services_response.service}
        assert {"lnrpc.Lightning", "routerrpc.Router", "invoicesrpc.Invoices"} <= names


def test_reflection_macaroon_flag_requires_info_read(tmp_path):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
    d = harness.Daemon(tmp_path / "node", "--reflection.macaroon").start()
    try:
        stub = reflection_pb2_grpc.ServerReflectionStub(d.channel("readonly"))
        responses = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        assert "lnrpc.Lightning" in {s.name for s in responses[0].list_services_response.service}
        bare = reflection_pb2_grpc.ServerReflectionStub(d.channel(None))
        with pytest.raises(grpc.RpcError) as e:
            list(bare.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        assert e.value.details() == "expected 1 macaroon, got 0"
    finally:
        d.stop()
