"""LND's own Python sample for TrackPaymentV2 (the gRPC/Python code block of the LND API doc page),
run unchanged against paytrackd but for GRPC_HOST, MACAROON_PATH, TLS_PATH and the request's
placeholders (hash, no_inflight_updates). It runs as its own Python process with the generated
stubs' `routerrpc` directory on sys.path, so `import router_pb2 as routerrpc, router_pb2_grpc as
routerstub` works as in the doc.
"""
import os
import subprocess
import sys

import pytest
from google.protobuf import text_format

import harness
import lnd
from lnd import ln, rt

# The sample as published (comment lines included); only the six <...> placeholders are ours.
SAMPLE = '''import codecs, grpc, os
# Generate the following 2 modules by compiling the routerrpc/router.proto with the grpcio-tools.
# See https://github.com/lightningnetwork/lnd/blob/master/docs/grpc/python.md for instructions.
import router_pb2 as routerrpc, router_pb2_grpc as routerstub
GRPC_HOST = '<HOST>'
MACAROON_PATH = '<MACAROON_PATH>'
TLS_PATH = '<TLS_PATH>'
# create macaroon credentials
macaroon = codecs.encode(open(MACAROON_PATH, 'rb').read(), 'hex')
def metadata_callback(context, callback):
    callback([('macaroon', macaroon)], None)
auth_creds = grpc.metadata_call_credentials(metadata_callback)
# create SSL credentials
os.environ['GRPC_SSL_CIPHER_SUITES'] = 'HIGH+ECDSA'
cert = open(TLS_PATH, 'rb').read()
ssl_creds = grpc.ssl_channel_credentials(cert)
# combine macaroon and SSL credentials
combined_creds = grpc.composite_channel_credentials(ssl_creds, auth_creds)
# make the request
channel = grpc.secure_channel(GRPC_HOST, combined_creds)
stub = routerstub.RouterStub(channel)
request = routerrpc.TrackPaymentRequest(
    payment_hash=<bytes>,
    no_inflight_updates=<bool>,
)
for response in stub.TrackPaymentV2(request):
    print(response)
'''


def run_sample(daemon, payment_hash, no_inflight_updates=False, timeout=60):
    code = (SAMPLE.replace("<HOST>", f"localhost:{daemon.port}")
            .replace("<MACAROON_PATH>", str(daemon.macaroon_path("admin")))
            .replace("<TLS_PATH>", str(daemon.cert_path))
            .replace("<bytes>", f"bytes.fromhex('{payment_hash.hex()}')")
            .replace("<bool>", repr(no_inflight_updates)))
    env = dict(os.environ)
    env.pop("GRPC_SSL_CIPHER_SUITES", None)     # the sample sets it itself
    env["PYTHONPATH"] = os.pathsep.join([str(harness.GEN / "routerrpc"), str(harness.GEN)])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)


def parse_printed(stdout):
    """The sample prints each Payment in protobuf text format; print() adds a newline, so
    messages are separated by one blank line (text format has none inside a message)."""
    return [text_format.Parse(chunk, ln.Payment()) for chunk in stdout.split("\n\n") if chunk.strip()]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("seed") / "node", "--sim.latency", "300").start()
    yield n
    n.stop()


def test_sample_tracks_a_settled_payment(net):
    inv = net.node("bob").add_invoice(value=1_234)
    final = net.alice.send(payment_request=inv.payment_request)[-1]
    assert final.status == lnd.SUCCEEDED
    r = run_sample(net.daemon, inv.r_hash)
    assert r.returncode == 0, r.stderr
    printed = parse_printed(r.stdout)
    assert printed == [final]
    assert f'payment_hash: "{inv.r_hash.hex()}"' in r.stdout and "status: SUCCEEDED" in r.stdout


def test_sample_follows_an_in_flight_payment(net):
    inv = net.node("bob").add_invoice(value=2_345)
    send = lnd.StreamReader(net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=inv.payment_request, timeout_seconds=30, fee_limit_sat=1000), timeout=60))
    send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
    r = run_sample(net.daemon, inv.r_hash)
    assert r.returncode == 0, r.stderr
    assert send.done.wait(30)
    printed = parse_printed(r.stdout)
    assert printed[-1] == send.messages[-1] and printed[-1].status == lnd.SUCCEEDED
    assert all(p.status == lnd.IN_FLIGHT for p in printed[:-1])
    assert printed == send.messages[len(send.messages) - len(printed):]
    # With no_inflight_updates=True the sample prints only the terminal payment.
    r = run_sample(net.daemon, inv.r_hash, no_inflight_updates=True)
    assert r.returncode == 0 and parse_printed(r.stdout) == [send.messages[-1]]


def test_sample_unknown_hash(net):
    r = run_sample(net.daemon, os.urandom(32))
    assert r.returncode != 0
    assert "StatusCode.NOT_FOUND" in r.stderr and "payment isn't initiated" in r.stderr
