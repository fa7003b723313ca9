"""LND's REST bindings of the wider payment and invoice API, through paytrackd's REST gateway (the
same handlers as gRPC): the legacy `POST /v1/channels/transactions` (SendPaymentSync) as apps for
LND <= 0.20 call it, hold invoices over `/v2/invoices/*`, channel balance and routes.
"""
import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
import requests

import harness
import lnd


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    bob_rest = harness.free_port()
    n = lnd.Net(tmp_path_factory.mktemp("restmore") / "node", "--sim.latency", "0",
                "--serve-rest", f"bob=127.0.0.1:{bob_rest}").start()
    n.bob_rest = f"127.0.0.1:{bob_rest}"
    yield n
    n.stop()


def _kw(datadir, cert):
    mac = (Path(datadir) / "data/chain/bitcoin/testnet/admin.macaroon").read_bytes().hex()
    return {"verify": str(cert), "headers": {"Grpc-Metadata-macaroon": mac}, "timeout": 30}


def alice(net):
    d = net.daemon
    return d.rest_url, _kw(d.datadir, d.cert_path)


def bob(net):
    d = net.datadir / "nodes" / "bob"
    return f"https://{net.bob_rest}", _kw(d, d / "tls.cert")


def b64(b):
    return base64.b64encode(b).decode()


def test_legacy_send_payment_sync_over_rest(net):
    burl, bkw = bob(net)
    inv = requests.post(burl + "/v1/invoices", json={"value": "1500"}, **bkw).json()
    url, kw = alice(net)
    r = requests.post(url + "/v1/channels/transactions", json={"payment_request": inv["payment_request"]}, **kw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["payment_error"] == ""
    assert body["payment_hash"] == inv["r_hash"]
    assert hashlib.sha256(base64.b64decode(body["payment_preimage"])).digest() == base64.b64decode(inv["r_hash"])
    assert body["payment_route"]["hops"][-1]["amt_to_forward_msat"] == "1500000"
    # Paying it again: HTTP 200 with the reason in payment_error and no route (EmitUnpopulated).
    again = requests.post(url + "/v1/channels/transactions", json={"payment_request": inv["payment_request"]}, **kw).json()
    assert again["payment_error"] == "invoice is already paid"
    assert again["payment_route"] is None and again["payment_preimage"] == ""
    # The old hex twins of the bytes fields.
    h = os.urandom(32)
    pub = net.node("bob").pubkey
    fail = requests.post(url + "/v1/channels/transactions",
                         json={"dest_string": pub, "amt": "1000", "payment_hash_string": hashlib.sha256(h).hexdigest()},
                         **kw).json()
    assert fail["payment_error"] == "incorrect_payment_details"


def test_hold_invoice_over_rest(net):
    burl, bkw = bob(net)
    pre = os.urandom(32)
    h = hashlib.sha256(pre).digest()
    add = requests.post(burl + "/v2/invoices/hodl", json={"hash": b64(h), "value": "2000"}, **bkw)
    assert add.status_code == 200, add.text
    url, kw = alice(net)
    pay = requests.post(url + "/v2/router/send", json={"payment_request": add.json()["payment_request"],
                                                       "timeout_seconds": 60, "fee_limit_sat": "100"}, stream=True, **kw)
    lines = pay.iter_lines()
    statuses = []
    for line in lines:
        if not line:
            continue
        p = json.loads(line)["result"]
        statuses.append(p["status"])
        if p["htlcs"]:
            break
    lookup = lnd.wait_until(lambda: (lambda j: j if j.get("state") == "ACCEPTED" else None)(
        requests.get(burl + "/v2/invoices/lookup", params={"payment_hash": b64(h)}, **bkw).json()), what="ACCEPTED")
    assert lookup["amt_paid_msat"] == "2000000"
    s = requests.post(burl + "/v2/invoices/settle", json={"preimage": b64(pre)}, **bkw)
    assert s.status_code == 200 and s.json() == {}
    for line in lines:
        if line:
            statuses.append(json.loads(line)["result"]["status"])
    assert statuses[-1] == "SUCCEEDED" and "IN_FLIGHT" in statuses
    c = requests.post(burl + "/v2/invoices/cancel", json={"payment_hash": b64(h)}, **bkw)
    assert c.status_code == 500 and c.json()["message"] == "invoice already settled"


def test_channel_balance_and_query_routes_over_rest(net):
    url, kw = alice(net)
    bal = requests.get(url + "/v1/balance/channels", **kw).json()
    assert int(bal["local_balance"]["sat"]) > 0 and bal["custom_channel_data"] == b64(bytes([3, 0, 0, 0, 0]))
    pub = net.node("bob").pubkey
    routes = requests.get(f"{url}/v1/graph/routes/{pub}/1000", **kw).json()
    assert len(routes["routes"]) == 1 and routes["success_prob"] == 1
    assert routes["routes"][0]["hops"][-1]["pub_key"] == pub
