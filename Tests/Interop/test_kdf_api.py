"""The Komodo DeFi Framework's lightning::payments::* API (mmrpc 2.0 over HTTP/1.1) against the
real daemon, with Python `requests` and with curl: the Komodo documentation's request bodies sent
verbatim (but for the userpass), results in its shapes, the dispatcher's error rows, auth and the
ban, and a payment made over mmrpc followed over LND's gRPC API, its REST gateway and its
WebSocket proxy.
"""
import base64
import json
import subprocess
import time

import grpc
import pytest
import requests
import websocket

import harness
import lnd
from lnd import ln, rt

COIN = "tBTC-lightning"

# The request bodies of the Komodo documentation's examples, verbatim but for the userpass
# (RPC_UserP@SSW0RD is replaced by the daemon's generated password).
SEED_REQUESTS = {
    "generate_invoice": """{
"method": "lightning::payments::generate_invoice",
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"params": {
"coin": "tBTC-lightning",
"description": "For the burger on Tuesday",
"amount_in_msat": 10000,
"expiry": 600
},
"id": 1
}""",
    "send_payment_invoice": """{
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"method": "lightning::payments::send_payment",
"params": {
"coin": "tBTC-lightning",
"payment": {
"type": "invoice",
"invoice": "lntb20u1p32wwxapp5p8gjy2e79jku5tshhq2nkdauv0malqqhzefnqmx9pjwa8h83cmwqdp8xys9xcmpd3sjqsmgd9czq3njv9c8qatrvd5kumcxqrrsscqp79qy9qsqsp5m473qknpecv6ajmwwtjw7keggrwxerymehx6723avhdrlnxmuvhs54zmyrumkasvjp0fvvk2np30cx5xpjs329alvm60rwy3payrnkmsd3n8ahnky3kuxaraa3u4k453yf3age7cszdxhjxjkennpt75erqpsfmy4y"
}
},
"id": 6
}""",
    "send_payment_keysend": """{
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"method": "lightning::payments::send_payment",
"params": {
"coin": "tBTC-lightning",
"payment": {
"type": "keysend",
"destination": "038863cf8ab91046230f561cd5b386cbff8309fa02e3f0c3ed161a3aeb64a643b9",
"amount_in_msat": 1000,
"expiry": 24
}
},
"id": 6
}""",
    "get_payment_details": """{
"method": "lightning::payments::get_payment_details",
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"params": {
"coin": "tBTC-lightning",
"payment_hash": "414f9b3524fc4e48c99f2723952732d8bc2eba1b35ce3bf2a70f5144b40f599e"
},
"id": 1
}""",
    "list_all": """{
"method": "lightning::payments::list_payments_by_filter",
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"params": {
"coin": "tBTC-lightning"
},
"id": 1
}""",
    "list_inbound_page2": """{
"method": "lightning::payments::list_payments_by_filter",
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"params": {
"coin": "tBTC-lightning",
"filter": {
"payment_type": {
"type": "Inbound Payment"
}
},
"limit": 2,
"paging_options": {
"PageNumber": 2
}
},
"id": 1
}""",
    "list_pending_amounts": """{
"method": "lightning::payments::list_payments_by_filter",
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"params": {
"coin": "tBTC-lightning",
"filter": {
"status": "pending",
"from_amount_msat": 10000,
"to_amount_msat": 40000
}
},
"id": 1
}""",
    "list_succeeded_day": """{
"method": "lightning::payments::list_payments_by_filter",
"userpass": "RPC_UserP@SSW0RD",
"mmrpc": "2.0",
"params": {
"coin": "tBTC-lightning",
"filter": {
"status": "succeeded",
"from_timestamp": 1681948800,
"to_timestamp": 1682035199
}
},
"id": 1
}""",
}

PAYMENT_KEYS = ["payment_hash", "payment_type", "description", "amount_in_msat", "fee_paid_msat", "status",
                "created_at", "last_updated"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    bob_kdf = harness.free_port()
    n = lnd.Net(tmp_path_factory.mktemp("kdf") / "node", "--sim.latency", "0",
                "--serve-kdf", f"bob=127.0.0.1:{bob_kdf}").start()
    n.bob_kdf_url = f"http://127.0.0.1:{bob_kdf}/"
    n.bob_password = (n.daemon.datadir / "nodes" / "bob" / "kdf" / "rpc_password").read_text().strip()
    yield n
    n.stop()


def seed_body(net, name, password=None):
    return SEED_REQUESTS[name].replace("RPC_UserP@SSW0RD", password or net.daemon.kdf_password)


def post(url, body):
    """POSTs raw text with requests; returns (status, parsed JSON, raw text)."""
    r = requests.post(url, data=body.encode(), timeout=30)
    return r.status_code, json.loads(r.text), r.text


def curl(url, body):
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-X", "POST", url, "--data-binary", body],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    text, _, code = out.rpartition("\n")
    return int(code), json.loads(text), text


def call(net, method, params, url=None, password=None, id=1):
    body = json.dumps({"userpass": password or net.daemon.kdf_password, "mmrpc": "2.0", "method": method,
                       "params": params, "id": id})
    return post(url or net.daemon.kdf_url, body)


def keys_in_order(obj):
    return list(obj.keys())


def check_payment_shape(p):
    assert [k for k in PAYMENT_KEYS if k in p] == keys_in_order(p)
    assert "preimage" not in p
    assert p["status"] in ("pending", "claimable", "succeeded", "failed")
    assert p["payment_type"]["type"] in ("Inbound Payment", "Outbound Payment")
    if p["payment_type"]["type"] == "Outbound Payment":
        assert keys_in_order(p["payment_type"]) == ["type", "destination"]


@pytest.mark.parametrize("client", [post, curl])
def test_seed_generate_invoice(net, client):
    status, v, text = client(net.daemon.kdf_url, seed_body(net, "generate_invoice"))
    assert status == 200, text
    assert keys_in_order(v) == ["mmrpc", "result", "id"] and v["id"] == 1 and v["mmrpc"] == "2.0"
    assert keys_in_order(v["result"]) == ["payment_hash", "invoice"]
    assert v["result"]["invoice"].startswith("lntb100n1")
    # The node's own invoice: LND's LookupInvoice shows it.
    inv = net.alice.ln.LookupInvoice(ln.PaymentHash(r_hash_str=v["result"]["payment_hash"]), timeout=10)
    assert inv.payment_request == v["result"]["invoice"] and inv.memo == "For the burger on Tuesday"
    dec = net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=v["result"]["invoice"]), timeout=10)
    assert dec.expiry == 600 and dec.cltv_expiry == 24 and dec.num_msat == 10000
    assert sorted(dec.features.keys()) == [8, 14, 17]


@pytest.mark.parametrize("client", [post, curl])
def test_seed_send_payment_invoice_is_expired(net, client):
    status, v, _ = client(net.daemon.kdf_url, seed_body(net, "send_payment_invoice"))
    assert status == 500
    assert keys_in_order(v) == ["mmrpc", "error", "error_path", "error_trace", "error_type", "error_data", "id"]
    assert v["error"] == 'Payment error: Error paying invoice: Invoice("Invoice expired prior to send")'
    assert v["error_type"] == "PaymentError" and v["error_path"] == "send_payment.lightning" and v["id"] == 6


@pytest.mark.parametrize("client", [post, curl])
def test_seed_send_payment_keysend_unknown_node(net, client):
    status, v, _ = client(net.daemon.kdf_url, seed_body(net, "send_payment_keysend"))
    assert status == 500
    assert v["error"] == ('Payment error: Keysend error: Routing(LightningError { err: "Failed to find a path to '
                          'the given destination", action: IgnoreError })')
    assert v["error_data"] == v["error"][len("Payment error: "):]
    assert v["error_path"] == "send_payment.lightning"
    assert v["error_trace"].startswith("send_payment:") and "] lightning:" in v["error_trace"]


@pytest.mark.parametrize("client", [post, curl])
def test_seed_get_payment_details_not_found(net, client):
    status, v, _ = client(net.daemon.kdf_url, seed_body(net, "get_payment_details"))
    assert status == 404
    h = "414f9b3524fc4e48c99f2723952732d8bc2eba1b35ce3bf2a70f5144b40f599e"
    assert v["error"] == f"Payment with hash: {h} is not found"
    assert v["error_type"] == "NoSuchPayment" and v["error_data"] == h and v["error_path"] == "get_payment_details"


@pytest.mark.parametrize("name", ["list_all", "list_inbound_page2", "list_pending_amounts", "list_succeeded_day"])
@pytest.mark.parametrize("client", [post, curl])
def test_seed_list_shapes(net, client, name):
    status, v, text = client(net.daemon.kdf_url, seed_body(net, name))
    assert status == 200, text
    r = v["result"]
    assert keys_in_order(r) == ["payments", "limit", "skipped", "total", "total_pages", "paging_options"]
    for p in r["payments"]:
        check_payment_shape(p)
    req = json.loads(SEED_REQUESTS[name])["params"]
    assert r["limit"] == req.get("limit", 10)
    assert r["paging_options"] == req.get("paging_options", {"PageNumber": 1})
    assert r["total_pages"] == -(-r["total"] // r["limit"])


def test_paging_examples_over_matching_rows(net):
    # Bob's own records: five inbound invoices, then the seed's "Inbound, limit 2, PageNumber 2".
    for i in range(5):
        s, v, _ = call(net, "lightning::payments::generate_invoice",
                       {"coin": COIN, "description": f"page {i}", "amount_in_msat": 10000 * (i + 1)},
                       url=net.bob_kdf_url, password=net.bob_password)
        assert s == 200, v
        time.sleep(1.05)   # distinct last_updated seconds: a defined order
    s, v, _ = post(net.bob_kdf_url, seed_body(net, "list_inbound_page2", net.bob_password))
    r = v["result"]
    assert [p["description"] for p in r["payments"]] == ["page 2", "page 1"]
    assert (r["skipped"], r["total"], r["total_pages"]) == (2, 5, 3)
    # FromId: the page after "page 3".
    first = call(net, "lightning::payments::list_payments_by_filter", {"coin": COIN, "limit": 2},
                 url=net.bob_kdf_url, password=net.bob_password)[1]["result"]["payments"]
    s, v, _ = call(net, "lightning::payments::list_payments_by_filter",
                   {"coin": COIN, "limit": 2, "paging_options": {"FromId": first[1]["payment_hash"]}},
                   url=net.bob_kdf_url, password=net.bob_password)
    assert [p["description"] for p in v["result"]["payments"]] == ["page 2", "page 1"]
    assert v["result"]["skipped"] == 2
    s, v, _ = call(net, "lightning::payments::list_payments_by_filter",
                   {"coin": COIN, "filter": {"description": "PAGE 4"}}, url=net.bob_kdf_url, password=net.bob_password)
    assert [p["description"] for p in v["result"]["payments"]] == ["page 4"] and v["result"]["total"] == 1
    s, v, _ = call(net, "lightning::payments::list_payments_by_filter",
                   {"coin": COIN, "filter": {"status": "pending", "from_amount_msat": 20000, "to_amount_msat": 40000}},
                   url=net.bob_kdf_url, password=net.bob_password)
    assert sorted(p["amount_in_msat"] for p in v["result"]["payments"]) == [20000, 30000, 40000]


def rest_track(net, h):
    """GET /v2/router/track/{hash} on alice's REST gateway: the stream's last payment."""
    d = net.daemon
    r = requests.get(f"{d.rest_url}/v2/router/track/{base64.urlsafe_b64encode(bytes.fromhex(h)).decode()}", stream=True,
                     verify=str(d.cert_path), headers={"Grpc-Metadata-macaroon": d.macaroon_hex()}, timeout=30)
    assert r.status_code == 200, r.text
    return [json.loads(l) for l in r.iter_lines() if l][-1]["result"]


def ws_track(net, h):
    """The same over LND's WebSocket proxy: the last message before the close frame."""
    d = net.daemon
    ws = websocket.create_connection(
        f"wss://127.0.0.1:{d.rest_port}/v2/router/track/{base64.urlsafe_b64encode(bytes.fromhex(h)).decode()}?method=GET",
        header=[f"Grpc-Metadata-Macaroon: {d.macaroon_hex()}"],
        sslopt={"ca_certs": str(d.cert_path), "check_hostname": False}, timeout=20)
    last = None
    while True:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_TEXT:
            last = json.loads(data)
        elif op == websocket.ABNF.OPCODE_CLOSE:
            return last["result"]
        elif op == websocket.ABNF.OPCODE_PING:
            ws.pong(data)


def test_payment_over_mmrpc_is_tracked_over_grpc_rest_and_websocket(net):
    """One engine: TrackPaymentV2, TrackPayments, ListPayments, REST and the WebSocket proxy all show
    the payment made over mmrpc, ending SUCCEEDED with the KDF record's amount and fee."""
    s, v, _ = call(net, "lightning::payments::generate_invoice",
                   {"coin": COIN, "description": "1 Blokaccino", "amount_in_msat": 1_000_000},
                   url=net.bob_kdf_url, password=net.bob_password)
    invoice, h = v["result"]["invoice"], v["result"]["payment_hash"]
    every = lnd.StreamReader(net.alice.router.TrackPayments(rt.TrackPaymentsRequest(), timeout=60))
    time.sleep(0.3)     # subscribed before the payment starts (TrackPayments does not replay)
    s, v, text = call(net, "lightning::payments::send_payment", {"coin": COIN, "payment": {"type": "invoice", "invoice": invoice}}, id=6)
    assert s == 200, text
    assert v == {"mmrpc": "2.0", "result": {"payment_hash": h}, "id": 6}
    # TrackPaymentV2 on alice's gRPC API follows the same payment to SUCCEEDED.
    final = None
    for p in net.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=bytes.fromhex(h)), timeout=30):
        final = p
    assert final.status == lnd.SUCCEEDED
    listed = [p for p in net.alice.list_payments().payments if p.payment_hash == h]
    assert len(listed) == 1 and listed[0].payment_request == invoice
    lnd.wait_until(lambda: call(net, "lightning::payments::get_payment_details", {"coin": COIN, "payment_hash": h})[1]
                   ["result"]["payment_details"]["status"] == "succeeded", what="KDF record succeeded")
    d = call(net, "lightning::payments::get_payment_details", {"coin": COIN, "payment_hash": h})[1]["result"]["payment_details"]
    check_payment_shape(d)
    assert d["fee_paid_msat"] == final.fee_msat
    assert d["payment_type"] == {"type": "Outbound Payment", "destination": net.node("bob").pubkey}
    lnd.wait_until(lambda: call(net, "lightning::payments::get_payment_details", {"coin": COIN, "payment_hash": h},
                                url=net.bob_kdf_url, password=net.bob_password)[1]["result"]["payment_details"]["status"]
                   == "succeeded", what="bob's inbound record succeeded")
    inv = net.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash_str=h), timeout=10)
    assert inv.state == 1   # SETTLED
    # The same payment in TrackPayments, over LND's REST gateway and its WebSocket proxy: same
    # hash, amount, fee.
    assert final.payment_hash == h and final.value_msat == 1_000_000 and d["amount_in_msat"] == 1_000_000
    tracked = every.wait_for(lambda p: p.payment_hash == h and p.status == lnd.SUCCEEDED)
    assert (tracked.value_msat, tracked.fee_msat, tracked.payment_request) == (1_000_000, final.fee_msat, invoice)
    every.call.cancel()
    for p in (rest_track(net, h), ws_track(net, h)):
        assert p["status"] == "SUCCEEDED" and p["payment_hash"] == h
        assert p["value_msat"] == "1000000" and p["fee_msat"] == str(final.fee_msat) == str(d["fee_paid_msat"])
        assert p["payment_request"] == invoice
    rest_list = requests.get(f"{net.daemon.rest_url}/v1/payments", verify=str(net.daemon.cert_path),
                             headers={"Grpc-Metadata-macaroon": net.daemon.macaroon_hex()}, timeout=30).json()["payments"]
    assert [(p["status"], p["fee_msat"]) for p in rest_list if p["payment_hash"] == h] == [("SUCCEEDED", str(final.fee_msat))]
    # Paid once: a second send is refused as KDF refuses it.
    s, v, _ = call(net, "lightning::payments::send_payment", {"coin": COIN, "payment": {"type": "invoice", "invoice": invoice}})
    assert v["error_data"] == f"Error paying invoice: Invoice with payment hash {h} is already paid!"


def test_routing_error_to_ourselves(net):
    own = call(net, "lightning::payments::generate_invoice", {"coin": COIN, "description": "self", "amount_in_msat": 5000})[1]
    s, v, _ = call(net, "lightning::payments::send_payment",
                   {"coin": COIN, "payment": {"type": "invoice", "invoice": own["result"]["invoice"]}})
    assert s == 500
    assert v["error"] == ('Payment error: Error paying invoice: Routing(LightningError { err: "Cannot generate a route '
                          'to ourselves", action: IgnoreError })')


# BOLT 11's invalid examples (the project's fixture) and lightning-invoice 0.21's Debug names.
INVALID_DEBUG = {
    "I01": "SemanticError(InvalidFeatures)", "I02": "ParseError(Bech32Error(InvalidChecksum))",
    "I03": "ParseError(Bech32Error(MissingSeparator))", "I04": "ParseError(Bech32Error(MixedCase))",
    "I05": "SemanticError(InvalidSignature)", "I06": "ParseError(TooShortDataPart)",
    "I07": "ParseError(UnknownSiPrefix)", "I08": "SemanticError(ImpreciseAmount)",
    "I09": "SemanticError(NoPaymentSecret)", "I10": "SemanticError(MultiplePaymentSecrets)",  # two `s` fields come first
}


def invalid_vectors():
    rows = (harness.ROOT / "Tests/BOLT11Tests/Fixtures/bolt11-vectors.tsv").read_text().splitlines()
    return [(r.split("\t")[2], INVALID_DEBUG[r.split("\t")[0]]) for r in rows
            if not r.startswith("#") and r.split("\t")[1:2] == ["invalid"]]


@pytest.mark.parametrize("invoice,debug", [("nope", "ParseError(Bech32Error(MissingSeparator))")] + invalid_vectors())
def test_invoice_parse_errors_are_lightning_invoice_debug_names(net, invoice, debug):
    s, v, _ = call(net, "lightning::payments::send_payment", {"coin": COIN, "payment": {"type": "invoice", "invoice": invoice}})
    assert s == 400
    assert v["error"] == f"Error parsing request: {debug}" and v["error_data"] == debug
    assert v["error_path"] == "dispatcher"


def test_dispatcher_rows(net):
    url = net.daemon.kdf_url
    s, v, _ = post(url, json.dumps({"mmrpc": "1.0", "method": "x", "id": 3}))
    assert (s, v["error_type"], v["error_path"]) == (400, "InvalidMmRpcVersion", "rpc")
    assert v["error"] == "Error parsing mmrpc version: unknown variant `1.0`, expected `2.0`"
    s, v, _ = post(url, json.dumps({"mmrpc": "2.0", "method": "x", "bogus": 1}))
    assert v["error_data"] == "unknown field `bogus`, expected one of `mmrpc`, `userpass`, `method`, `params`, `id`"
    s, v, _ = call(net, "lightning::payments::generate_invoice", {"coin": COIN, "description": "x", "amount_in_msat": "56"}, id=762)
    assert (s, v["error"], v["error_trace"]) == (400, 'Error parsing request: invalid type: string "56", expected u64',
                                                 "dispatcher:125]")
    s, v, _ = call(net, "lightning::payments::send_payment", {"coin": COIN})
    assert v["error"] == "Error parsing request: missing field `payment`"
    s, v, _ = call(net, "lightning::payments::get_payment_details", {"coin": COIN, "payment_hash": ""})
    assert v["error_data"] == 'invalid value: string "", expected a hash string'
    s, v, _ = call(net, "lightning::payments::get_payment_details", {"coin": "KMD", "payment_hash": "00" * 32})
    assert (s, v["error"], v["error_type"]) == (404, "No such coin KMD", "NoSuchCoin")
    s, v, raw = call(net, "lightning::payments::nope", {})
    assert s == 400 and v["error_type"] == "NoSuchMethod" and "error_data" not in raw
    r = requests.options(url, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    r = requests.get(url, timeout=10)
    assert r.status_code == 500 and r.json()["error"].endswith("Only POST requests are supported!")
    r = requests.post(url, data=b"{not json", timeout=10)
    assert r.status_code == 500 and r.json() == {"error": "key must be a string at line 1 column 2"}
    r = requests.post(url, data=json.dumps({"method": "lightning::payments::nope"}), timeout=10)
    assert r.status_code == 500 and r.json()["error"].endswith("RPC call failed: Userpass is not set!")
    r = requests.post(url, data=json.dumps([{"userpass": net.daemon.kdf_password, "mmrpc": "2.0", "method": "lightning::x", "id": 1},
                                            {"mmrpc": "2.0", "method": "lightning::x", "id": 2}]), timeout=10)
    assert r.status_code == 200
    assert [e["error_type"] for e in r.json()] == ["NoSuchMethod", "UserpassIsNotSet"]


def test_wrong_userpass_counts_down_then_bans_until_restart(tmp_path):
    d = harness.Daemon(tmp_path / "ban").start()
    try:
        body = {"mmrpc": "2.0", "method": "lightning::payments::get_payment_details",
                "params": {"coin": COIN, "payment_hash": "00" * 32}}
        s, v, raw = post(d.kdf_url, json.dumps(body))
        assert (s, v["error_type"]) == (403, "UserpassIsNotSet") and "error_data" not in raw
        for left in range(9, -1, -1):
            s, v, _ = post(d.kdf_url, json.dumps({**body, "userpass": "wrong"}))
            assert s == 403 and v["error"] == f"Userpass is invalid! - Rate Limit attempts left: {left}"
            assert v["error_data"] == {"error_type": "NbAttemptsLeft", "error_data": left}
        s, v, _ = post(d.kdf_url, json.dumps({**body, "userpass": d.kdf_password}))
        assert (s, v["error_type"], v["error"]) == (403, "Banned", "Your ip is banned.")
        d.stop()
        d.start()
        s, v, _ = post(d.kdf_url, json.dumps({**body, "userpass": d.kdf_password}))
        assert (s, v["error_type"]) == (404, "NoSuchPayment")
    finally:
        d.stop()


def test_password_file_and_policy(tmp_path):
    d = harness.Daemon(tmp_path / "pw").start()
    try:
        mode = (d.datadir / "kdf" / "rpc_password").stat().st_mode & 0o777
        assert mode == 0o600
        assert b"rpc_password" in (d.datadir / "paytrackd.test.log").read_bytes()
    finally:
        d.stop()
    weak = tmp_path / "weak"
    weak.write_text("password1")
    d = harness.Daemon(tmp_path / "pw2", "--kdf.rpcpassword-file", str(weak))
    with pytest.raises(RuntimeError) as e:
        d.start()
    assert "Password can't contain the word password" in str(e.value)
    d = harness.Daemon(tmp_path / "pw3", "--kdf.rpcpassword-file", str(weak), "--kdf.allow-weak-password").start()
    d.stop()


def test_nokdf_and_bad_input_never_take_the_daemon_down(tmp_path):
    d = harness.Daemon(tmp_path / "nokdf", "--nokdf").start()
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(d.kdf_url, data=b"{}", timeout=5)
    finally:
        d.stop()


ZPAY32_TEXTS = {"I03": "invalid index of 1", "I04": "string not all lowercase or all uppercase",
                "I06": "invoice not for current active network 'testnet3'",
                "I07": "invoice not for current active network 'testnet3'"}


@pytest.mark.parametrize("vid", sorted(ZPAY32_TEXTS))
def test_lnd_api_answers_bolt11_errors_with_zpay32_texts(net, vid):
    """Each API its own words: the same invalid strings get LND's texts over gRPC."""
    rows = {r.split("\t")[0]: r.split("\t")[2] for r in
            (harness.ROOT / "Tests/BOLT11Tests/Fixtures/bolt11-vectors.tsv").read_text().splitlines() if not r.startswith("#")}
    with pytest.raises(grpc.RpcError) as e:
        net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=rows[vid]), timeout=10)
    lnd.assert_rpc_error(e.value, grpc.StatusCode.UNKNOWN, ZPAY32_TEXTS[vid])
    with pytest.raises(grpc.RpcError) as e:
        for _ in net.alice.router.SendPaymentV2(rt.SendPaymentRequest(payment_request=rows[vid], timeout_seconds=10), timeout=10):
            pass
    lnd.assert_rpc_error(e.value, grpc.StatusCode.UNKNOWN, ZPAY32_TEXTS[vid])
    # ... and a bad checksum names the expected one, as zpay32 does.
    with pytest.raises(grpc.RpcError) as e:
        net.alice.ln.DecodePayReq(ln.PayReqString(pay_req=rows["I02"]), timeout=10)
    assert e.value.details().startswith("checksum failed. Expected ") and e.value.details().endswith(f", got {rows['I02'][-6:]}.")


def test_https_cors_coin_flags_and_bad_input(tmp_path):
    d = harness.Daemon(tmp_path / "tls", "--kdf.https", "--kdf.rpccors", "https://wallet.example",
                       "--kdf.coin", "BTC-ln-test", "--kdf.rpc-local-only", "false").start()
    try:
        url = f"https://127.0.0.1:{d.kdf_port}/"
        body = {"userpass": d.kdf_password, "mmrpc": "2.0", "method": "lightning::payments::list_payments_by_filter",
                "params": {"coin": "BTC-ln-test"}, "id": 3}
        r = requests.post(url, data=json.dumps(body), verify=str(d.cert_path), timeout=10)
        assert r.status_code == 200 and r.json()["result"]["total"] == 0
        assert r.headers["Access-Control-Allow-Origin"] == "https://wallet.example"
        r = requests.post(url, data=json.dumps({**body, "params": {"coin": "tBTC-lightning"}}), verify=str(d.cert_path), timeout=10)
        assert (r.status_code, r.json()["error"]) == (404, "No such coin tBTC-lightning")
        # Bad input never takes the daemon down: a body over the limit, junk, a deep nest, a huge batch.
        r = requests.post(url, data=b"{" * (2 << 20), verify=str(d.cert_path), timeout=30)
        assert r.status_code == 500 and "error" in r.json()
        for junk in [b"\xff\xfe", b"[" * 5000, b'{"mmrpc":"2.0","method":' + b'"' + b"a" * 100000 + b'"}', b"null", b"[]"]:
            r = requests.post(url, data=junk, verify=str(d.cert_path), timeout=10)
            assert r.status_code in (200, 400, 403, 500)
        r = requests.post(url, data=json.dumps([body] * 1500), verify=str(d.cert_path), timeout=30)
        assert r.status_code == 200 and len(r.json()) == 1500
        r = requests.post(url, data=json.dumps(body), verify=str(d.cert_path), timeout=10)
        assert r.status_code == 200
    finally:
        d.stop()
