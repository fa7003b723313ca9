"""LND's REST gateway served by paytrackd (same handlers as gRPC): the seed's Python REST sample
unchanged, requests and curl against unary and streaming bindings, every REST error shape of
LND's gateway, the beyond-LND path forms (hex hashes, %2F), CORS.

alice serves REST on the harness's --restlisten, bob on --serve-rest; payments run over the
simulated network with 50 ms per hop.
"""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import harness
import lnd

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    bob_rest = harness.free_port()
    n = lnd.Net(tmp_path_factory.mktemp("rest") / "node", "--sim.latency", "50",
                "--serve-rest", f"bob=127.0.0.1:{bob_rest}", "--restcors", "https://allowed.example").start()
    n.bob_rest = f"127.0.0.1:{bob_rest}"
    yield n
    n.stop()


def _hdr(daemon_dir, net, name="admin"):
    return {"Grpc-Metadata-macaroon": (Path(daemon_dir) / "data/chain/bitcoin/testnet" / f"{name}.macaroon").read_bytes().hex()}


def alice(net):
    d = net.daemon
    return d.rest_url, {"verify": str(d.cert_path), "headers": _hdr(d.datadir, net)}


def bob(net):
    d = net.datadir / "nodes" / "bob"
    return f"https://{net.bob_rest}", {"verify": str(d / "tls.cert"), "headers": _hdr(d, net)}


def b64url(b):
    return base64.urlsafe_b64encode(b).decode()


def paid_invoice(net, sat=1_000, memo="rest"):
    """An invoice of bob's paid by alice over gRPC; returns (invoice response, final payment)."""
    inv = net.node("bob").add_invoice(value=sat, memo=memo)
    p = net.alice.send(payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000)
    assert p[-1].status == lnd.SUCCEEDED
    return inv, p[-1]


def test_getinfo_unary_json(net):
    url, kw = alice(net)
    r = requests.get(url + "/v1/getinfo", **kw)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    j = r.json()
    assert j["alias"] == "alice" and j["identity_pubkey"] == net.alice.pubkey
    assert isinstance(j["block_height"], int) and j["chains"][0]["network"] == "testnet"
    assert j["synced_to_chain"] in (True, False) and "uris" in j     # EmitUnpopulated: every field


def test_seed_python_rest_sample_unchanged(net):
    inv, final = paid_invoice(net, 1_234)
    d = net.daemon
    out = subprocess.run([sys.executable, str(HERE / "samples/rest_track_payment_v2.py"), f"localhost:{d.rest_port}",
                          str(d.macaroon_path()), str(d.cert_path), b64url(inv.r_hash)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    assert len(lines) == 1
    msg = eval(lines[0])          # the sample prints Python dicts
    p = msg["result"]
    assert p["status"] == "SUCCEEDED" and p["payment_hash"] == inv.r_hash.hex()
    assert p["value_sat"] == "1234" and p["fee_msat"] == str(final.fee_msat)
    assert p["failure_reason"] == "FAILURE_REASON_NONE"
    assert p["htlcs"][0]["status"] == "SUCCEEDED"
    assert base64.b64decode(p["htlcs"][0]["preimage"]).hex() == p["payment_preimage"]


def test_track_stream_ndjson_with_hex_and_percent_encoded_hash(net):
    inv, _ = paid_invoice(net, 777)
    url, kw = alice(net)
    std = base64.b64encode(inv.r_hash).decode()
    for form in (b64url(inv.r_hash), inv.r_hash.hex(), std.replace("/", "%2F").replace("+", "%2B")):
        r = requests.get(f"{url}/v2/router/track/{form}", stream=True, **kw)
        assert r.status_code == 200, (form, r.text)
        assert r.headers.get("Transfer-Encoding") == "chunked"
        lines = [json.loads(l) for l in r.iter_lines() if l]
        assert len(lines) == 1 and lines[0]["result"]["status"] == "SUCCEEDED", form


def test_send_payment_v2_streams_to_succeeded(net):
    burl, bkw = bob(net)
    inv = requests.post(burl + "/v1/invoices", json={"value": "2500", "memo": "via rest"}, **bkw)
    assert inv.status_code == 200, inv.text
    pay_req = inv.json()["payment_request"]
    url, kw = alice(net)
    r = requests.post(url + "/v2/router/send", json={"payment_request": pay_req, "timeout_seconds": 60,
                                                     "fee_limit_sat": "1000"}, stream=True, **kw)
    assert r.status_code == 200
    statuses = [json.loads(l)["result"]["status"] for l in r.iter_lines() if l]
    assert statuses[0] == "IN_FLIGHT" and statuses[-1] == "SUCCEEDED"
    # The same payment through the unary REST reads.
    h = base64.b64decode(inv.json()["r_hash"])
    lp = requests.get(url + "/v1/payments", params={"include_incomplete": "true", "reversed": "true",
                                                     "max_payments": "5"}, **kw).json()
    assert any(p["payment_hash"] == h.hex() for p in lp["payments"])
    li = requests.get(f"{burl}/v1/invoice/{h.hex()}", **bkw).json()
    assert li["state"] == "SETTLED" and li["memo"] == "via rest"
    dec = requests.get(f"{url}/v1/payreq/{pay_req}", **kw).json()
    assert dec["num_satoshis"] == "2500" and dec["payment_hash"] == h.hex()


def test_errors_as_lnds_gateway(net):
    url, kw = alice(net)
    # Unknown hash on a stream: nothing written yet, so the status is mapped (404) and the body is
    # the stream error line.
    r = requests.get(f"{url}/v2/router/track/{b64url(os.urandom(32))}", **kw)
    assert r.status_code == 404
    assert r.text == '{"error":{"code":5,"message":"payment isn\'t initiated","details":[]}}\n'
    # A path parameter that is not base64: decode error, bare status, 400.
    r = requests.get(f"{url}/v2/router/track/ab*d", **kw)
    assert r.status_code == 400
    assert r.json() == {"code": 3, "message": "type mismatch, parameter: payment_hash, error: illegal base64 data at input byte 2",
                        "details": []}
    # A valid base64 of the wrong length: the handler's own error (Unknown -> 500), stream form.
    r = requests.get(f"{url}/v2/router/track/{b64url(b'x' * 31)}", **kw)
    assert r.status_code == 500
    assert json.loads(r.text) == {"error": {"code": 2, "message": "invalid hash length of 31, want 32", "details": []}}
    # Truncated body.
    r = requests.post(url + "/v2/router/send", data='{"payment_request":', **kw)
    assert r.status_code == 400 and r.json() == {"code": 3, "message": "unexpected EOF", "details": []}
    # Unknown path, wrong verb, a binding of a method this node does not serve.
    r = requests.get(url + "/v1/nothing/here", **kw)
    assert r.status_code == 404 and r.json() == {"code": 5, "message": "Not Found", "details": []}
    r = requests.delete(url + "/v1/getinfo", **kw)
    assert r.status_code == 501 and r.json() == {"code": 12, "message": "Method Not Allowed", "details": []}
    r = requests.get(url + "/v1/utxos", **kw)
    assert r.status_code == 501 and r.json()["message"] == "unknown method ListUnspent for service lnrpc.Lightning"
    # LookupInvoice: hex path, LND's length rule and not-found text.
    r = requests.get(f"{url}/v1/invoice/abcd", **kw)
    assert r.status_code == 500 and r.json()["message"] == "payment hash must be exactly 32 bytes, is instead 2"


def test_macaroon_rules_and_texts_as_grpc(net):
    url, kw = alice(net)
    r = requests.get(url + "/v1/getinfo", verify=kw["verify"])
    assert r.status_code == 500 and r.json() == {"code": 2, "message": "expected 1 macaroon, got 0", "details": []}
    # Any case of the header name.
    hexmac = kw["headers"]["Grpc-Metadata-macaroon"]
    r = requests.get(url + "/v1/getinfo", verify=kw["verify"], headers={"GRPC-METADATA-MACAROON": hexmac})
    assert r.status_code == 200
    # An invoice macaroon cannot read payments; on a stream the error is the stream form.
    inv_mac = {"Grpc-Metadata-macaroon": net.daemon.macaroon_hex("invoice")}
    r = requests.get(f"{url}/v2/router/track/{b64url(os.urandom(32))}", verify=kw["verify"], headers=inv_mac)
    assert r.status_code == 500 and json.loads(r.text)["error"]["message"] == "permission denied"
    r = requests.get(url + "/v1/payments", verify=kw["verify"], headers={"Grpc-Metadata-macaroon": "00ff"})
    assert r.status_code == 500 and r.json()["code"] == 2


def test_cors(net):
    url, kw = alice(net)
    r = requests.options(url + "/v1/getinfo", verify=kw["verify"],
                         headers={"Origin": "https://allowed.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    assert r.headers["Access-Control-Allow-Headers"] == "Content-Type, Accept, Grpc-Metadata-Macaroon"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, POST, DELETE"
    r = requests.get(url + "/v1/getinfo", headers={**kw["headers"], "Origin": "https://evil.example"}, verify=kw["verify"])
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_curl_http1_and_http2(net):
    d = net.daemon
    for flag in ("--http1.1", "--http2"):
        out = subprocess.run(["curl", "-sS", flag, "--cacert", str(d.cert_path), "-H",
                              f"Grpc-Metadata-macaroon: {d.macaroon_hex()}", "-w", "\n%{http_version} %{http_code}",
                              f"https://localhost:{d.rest_port}/v1/getinfo"], capture_output=True, text=True, timeout=30)
        body, _, tail = out.stdout.rpartition("\n")
        assert out.returncode == 0, out.stderr
        assert tail == ("1.1 200" if flag == "--http1.1" else "2 200"), tail
        assert json.loads(body)["alias"] == "alice"


def test_bad_bytes_do_not_take_the_daemon_down(net):
    import socket, ssl
    d = net.daemon
    ctx = ssl.create_default_context(cafile=str(d.cert_path))
    ctx.check_hostname = False
    for junk in (b"\x00\xff garbage\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",
                 b"POST /v2/router/send HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", d.rest_port), timeout=5) as s, ctx.wrap_socket(s) as t:
            t.sendall(junk)
            try:
                reply = t.recv(4096)
            except (ConnectionError, ssl.SSLError, socket.timeout):
                reply = b""
            assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:80]
    url, kw = alice(net)
    assert requests.get(url + "/v1/getinfo", **kw).status_code == 200


def test_a_client_that_never_reads_touches_no_other_connection(net):
    """A TrackPayments stream whose client never reads (its receive window fills) while payments
    happen: other REST and gRPC calls keep working and the stalled stream holds bounded memory."""
    import socket, ssl, time
    d = net.daemon
    ctx = ssl.create_default_context(cafile=str(d.cert_path))
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", d.rest_port), timeout=10)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled = ctx.wrap_socket(raw)
    stalled.sendall(f"GET /v2/router/payments HTTP/1.1\r\nHost: x\r\nGrpc-Metadata-macaroon: {d.macaroon_hex()}\r\n\r\n".encode())
    url, kw = alice(net)
    for i in range(5):
        paid_invoice(net, 100 + i, memo=f"stall {i}")
        assert requests.get(url + "/v1/getinfo", **kw).status_code == 200
    stalled.close()
