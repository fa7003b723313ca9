"""Prometheus metrics (issue 17 point 2) scraped from the real daemon with the Python
`prometheus_client` text parser: after gRPC, REST, WebSocket and mmrpc calls (OK and failing ones,
refused macaroons, wrong userpass) the counters moved by exactly the expected amounts with the
right labels; histograms are well-formed; the open-streams gauge goes up and back down; payments
by status, store commits and the fan-out are counted; the scrape listener answers bad requests
with HTTP errors; `--prometheus.enable` off means nothing listens; `[prometheus]` in the config
file works like the flags.
"""
import base64
import collections
import json
import os
import socket
import time

import grpc
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import harness
import lnd
from lnd import ln, rt
from invoicesrpc import invoices_pb2 as inv
from invoicesrpc import invoices_pb2_grpc as invstub
from test_websocket_proxy import connect as ws_connect, read_all as ws_read_all

TICKER = "tBTC-lightning"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    port = harness.free_port()
    n = lnd.Net(tmp_path_factory.mktemp("metrics") / "node", "--sim.latency", "0",
                "--prometheus.enable", "--prometheus.listen", f"127.0.0.1:{port}",
                channel_options=lnd.NO_BDP_PROBE).start()
    n.metrics_port = port
    yield n
    n.stop()


# --- scraping ------------------------------------------------------------------------------------

class Scrape:
    """One scrape, parsed by prometheus_client: samples by (name, labels)."""

    def __init__(self, port):
        r = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert r.status_code == 200, r.text
        self.content_type = r.headers["Content-Type"]
        self.text = r.text
        self.families = {f.name: f for f in text_string_to_metric_families(r.text)}
        self.samples = {}
        for f in self.families.values():
            for s in f.samples:
                self.samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def get(self, name, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def series(self, name):
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == name]


def scrape(net):
    return Scrape(net.metrics_port)


def delta(before, after, name, **labels):
    return after.get(name, **labels) - before.get(name, **labels)


def go_code(e):
    """grpc-go's name of a Python StatusCode (the `code` label)."""
    if e.code() == grpc.StatusCode.CANCELLED:
        return "Canceled"
    return "".join(w.capitalize() for w in e.code().name.split("_"))


REQ = "paytrack_rpc_requests_total"
DUR = "paytrack_rpc_duration_seconds_count"
STREAMS = "paytrack_rpc_open_streams"
GETINFO = "/lnrpc.Lightning/GetInfo"
TRACK = "/routerrpc.Router/TrackPaymentV2"
SEND = "/routerrpc.Router/SendPaymentV2"


def rest(net, path, macaroon=None):
    d = net.daemon
    mac = macaroon if macaroon is not None else d.macaroon_hex()
    return requests.get(d.rest_url + path, verify=str(d.cert_path), headers={"Grpc-Metadata-Macaroon": mac}, timeout=10)


def mmrpc(net, method, params, password=None):
    body = {"mmrpc": "2.0", "method": method, "params": params, "id": 1}
    if password is not False:
        body["userpass"] = password or net.daemon.kdf_password
    r = requests.post(net.daemon.kdf_url, data=json.dumps(body).encode(), timeout=30)
    return r.status_code, r.json()


def tampered_admin(net):
    raw = bytearray(net.daemon.macaroon_path("admin").read_bytes())
    raw[-5] ^= 1
    return bytes(raw)


# --- tests ---------------------------------------------------------------------------------------

def test_exposition_is_prometheus_text_and_histograms_are_well_formed(net):
    net.alice.ln.GetInfo(ln.GetInfoRequest(), timeout=10)
    s = scrape(net)
    assert s.content_type == "text/plain; version=0.0.4; charset=utf-8"
    hist = [f for f in s.families.values() if f.type == "histogram"]
    names = {f.name for f in hist}
    assert {"paytrack_rpc_duration_seconds", "paytrack_store_commit_seconds", "paytrack_store_commit_group_size",
            "paytrack_fanout_delivery_seconds"} <= names
    checked = 0
    for f in hist:
        groups = {}
        for smp in f.samples:
            labels = {k: v for k, v in smp.labels.items() if k != "le"}
            key = tuple(sorted(labels.items()))
            g = groups.setdefault(key, {"buckets": [], "count": None, "sum": None})
            if smp.name.endswith("_bucket"):
                g["buckets"].append((float(smp.labels["le"]), smp.value))
            elif smp.name.endswith("_count"):
                g["count"] = smp.value
            elif smp.name.endswith("_sum"):
                g["sum"] = smp.value
        for key, g in groups.items():
            bounds = [b for b, _ in g["buckets"]]
            counts = [c for _, c in g["buckets"]]
            assert bounds == sorted(bounds) and bounds[-1] == float("inf"), (f.name, key)
            assert all(a <= b for a, b in zip(counts, counts[1:])), (f.name, key, counts)   # cumulative
            assert counts[-1] == g["count"], (f.name, key)                                   # +Inf = count
            assert g["sum"] is not None and g["sum"] >= 0
            checked += 1
    assert checked >= 4
    # Process gauges of every Prometheus client.
    assert s.get("process_resident_memory_bytes") > 1_000_000
    assert s.get("process_open_fds") > 5
    # The closed label sets are exported from the start.
    assert {l["reason"] for l, _ in s.series("paytrack_macaroon_refusals_total")} >= {
        "missing", "signature_mismatch", "permission_denied", "caveat_not_satisfied", "malformed"}
    assert {l["reason"] for l, _ in s.series("paytrack_userpass_refusals_total")} == {"not_set", "invalid", "banned"}
    assert {l["listener"] for l, _ in s.series("paytrack_connections_accepted_total")} == {"grpc", "rest", "kdf", "metrics"}


def test_grpc_calls_by_method_and_code(net):
    alice = net.alice
    before = scrape(net)
    for _ in range(3):
        alice.ln.GetInfo(ln.GetInfoRequest(), timeout=10)
    with pytest.raises(grpc.RpcError) as e:
        alice.ln.LookupInvoice(ln.PaymentHash(r_hash=os.urandom(32)), timeout=10)
    lookup_code = go_code(e.value)
    assert lookup_code != "OK"
    unknown = alice.channel.unary_unary("/lnrpc.Lightning/NoSuchMethod", request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as e2:
        unknown(b"", timeout=10)
    assert e2.value.code() == grpc.StatusCode.UNIMPLEMENTED
    after = scrape(net)
    assert delta(before, after, REQ, api="grpc", method=GETINFO, code="OK") == 3
    assert delta(before, after, DUR, api="grpc", method=GETINFO) == 3
    assert delta(before, after, REQ, api="grpc", method="/lnrpc.Lightning/LookupInvoice", code=lookup_code) == 1
    assert delta(before, after, REQ, api="grpc", method="unknown", code="Unimplemented") == 1
    # The client's path never becomes a label.
    assert not any("NoSuchMethod" in l["method"] for l, _ in after.series(REQ))
    assert after.get("paytrack_connections_open", listener="grpc") >= 1


def test_refused_macaroons_by_reason_on_grpc_and_rest(net):
    d = net.daemon
    before = scrape(net)
    with d.channel(macaroon=tampered_admin(net)) as ch:
        with pytest.raises(grpc.RpcError) as e:
            lnd.lnstub.LightningStub(ch).GetInfo(ln.GetInfoRequest(), timeout=10)
    tampered_code = go_code(e.value)
    with d.channel(macaroon=None) as ch:
        with pytest.raises(grpc.RpcError) as e:
            lnd.lnstub.LightningStub(ch).GetInfo(ln.GetInfoRequest(), timeout=10)
    assert e.value.details() == "expected 1 macaroon, got 0"
    with d.channel(macaroon="readonly") as ch:   # valid, but AddInvoice needs invoices:write
        with pytest.raises(grpc.RpcError) as e:
            lnd.lnstub.LightningStub(ch).AddInvoice(ln.Invoice(value=1), timeout=10)
    assert e.value.details() == "permission denied"
    r = rest(net, "/v1/getinfo", macaroon=tampered_admin(net).hex())
    assert r.status_code == 500
    after = scrape(net)
    refusals = "paytrack_macaroon_refusals_total"
    assert delta(before, after, refusals, reason="signature_mismatch") == 2
    assert delta(before, after, refusals, reason="missing") == 1
    assert delta(before, after, refusals, reason="permission_denied") == 1
    assert sum(v for _, v in after.series(refusals)) - sum(v for _, v in before.series(refusals)) == 4
    assert delta(before, after, REQ, api="grpc", method=GETINFO, code=tampered_code) == 2
    assert delta(before, after, REQ, api="grpc", method="/lnrpc.Lightning/AddInvoice", code="Unknown") == 1
    assert delta(before, after, REQ, api="rest", method=GETINFO, code="Unknown") == 1


def test_rest_and_websocket_calls(net):
    alice, bob = net.alice, net.node("bob")
    invoice = bob.add_invoice(value=1_000, memo="metrics ws")
    assert alice.send(payment_request=invoice.payment_request)[-1].status == lnd.SUCCEEDED
    before = scrape(net)
    for _ in range(2):
        assert rest(net, "/v1/getinfo").status_code == 200
    assert rest(net, "/v1/no/such/path").status_code == 404
    assert rest(net, "/v1/no/such/path/again").status_code == 404
    h = base64.urlsafe_b64encode(invoice.r_hash).decode()
    ws = ws_connect(net, f"/v2/router/track/{h}?method=GET")
    msgs, close_code = ws_read_all(ws)
    ws.close()
    assert close_code == 1000
    assert msgs[-1]["result"]["status"] == "SUCCEEDED"
    after = lnd.wait_until(lambda: (lambda s: s if delta(before, s, REQ, api="ws", method=TRACK, code="OK") == 1 else None)(scrape(net)),
                           what="the WebSocket call counted")
    assert delta(before, after, REQ, api="rest", method=GETINFO, code="OK") == 2
    assert delta(before, after, DUR, api="rest", method=GETINFO) == 2
    assert delta(before, after, REQ, api="rest", method="unknown", code="NotFound") == 2
    assert delta(before, after, REQ, api="ws", method=TRACK, code="OK") == 1
    assert delta(before, after, DUR, api="ws", method=TRACK) == 1
    assert after.get(STREAMS, api="ws", method=TRACK) == 0
    assert not any("no/such" in l["method"] for l, _ in after.series(REQ))


def test_mmrpc_calls_and_userpass_refusals(net):
    before = scrape(net)
    status, body = mmrpc(net, "lightning::payments::list_payments_by_filter", {"coin": TICKER})
    assert status == 200, body
    missing = os.urandom(32).hex()
    status404, body = mmrpc(net, "lightning::payments::get_payment_details", {"coin": TICKER, "payment_hash": missing})
    assert status404 == 404 and body["error_type"] == "NoSuchPayment"
    bad_status, body = mmrpc(net, "lightning::payments::list_payments_by_filter", {"coin": TICKER}, password="wrong password 1A!")
    assert body["error_type"] == "UserpassIsInvalid", body
    unset_status, body = mmrpc(net, "lightning::payments::list_payments_by_filter", {"coin": TICKER}, password=False)
    assert body["error_type"] == "UserpassIsNotSet", body
    no_method_status, body = mmrpc(net, "lightning::payments::no_such_thing", {"coin": TICKER})
    big = requests.post(net.daemon.kdf_url, data=b"[" + b"1," * (600 * 1024) + b"1]", timeout=30)
    assert big.status_code == 500 and "too large" in big.text   # answered by the listener itself
    after = scrape(net)
    lpf, gpd = "lightning::payments::list_payments_by_filter", "lightning::payments::get_payment_details"
    expected = collections.Counter([200, bad_status, unset_status])   # the three list_payments_by_filter calls
    for code, n in expected.items():
        assert delta(before, after, REQ, api="mmrpc", method=lpf, code=str(code)) == n, code
    assert delta(before, after, REQ, api="mmrpc", method=gpd, code="404") == 1
    unknown = collections.Counter([no_method_status, 500])
    for code, n in unknown.items():
        assert delta(before, after, REQ, api="mmrpc", method="unknown", code=str(code)) == n, code
    assert delta(before, after, DUR, api="mmrpc", method=lpf) == 3
    assert delta(before, after, "paytrack_userpass_refusals_total", reason="invalid") == 1
    assert delta(before, after, "paytrack_userpass_refusals_total", reason="not_set") == 1
    assert delta(before, after, "paytrack_userpass_refusals_total", reason="banned") == 0
    assert not any("no_such_thing" in l["method"] for l, _ in after.series(REQ))


def test_streams_gauge_payments_store_and_fanout(net):
    alice, bob = net.alice, net.node("bob")
    bob_inv = invstub.InvoicesStub(bob.channel)
    pre, h = lnd.preimage_and_hash()
    added = bob_inv.AddHoldInvoice(inv.AddHoldInvoiceRequest(hash=h, value=5_000, memo="metrics hold"), timeout=10)
    before = scrape(net)
    assert before.get(STREAMS, api="grpc", method=TRACK) == 0
    pay = lnd.StreamReader(alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=added.payment_request, timeout_seconds=60, fee_limit_sat=1000), timeout=60))
    pay.wait_for(lambda p: p.status == lnd.IN_FLIGHT and p.htlcs)
    tracks = [lnd.StreamReader(alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=h), timeout=60))
              for _ in range(2)]
    for t in tracks:
        assert t.next().status == lnd.IN_FLIGHT
    during = scrape(net)
    assert during.get(STREAMS, api="grpc", method=TRACK) == 2
    assert during.get(STREAMS, api="grpc", method=SEND) == before.get(STREAMS, api="grpc", method=SEND) + 1
    assert delta(before, during, "paytrack_payments_total", status="initiated") == 1
    assert delta(before, during, "paytrack_payments_total", status="in_flight") == 1
    bob_inv.CancelInvoice(inv.CancelInvoiceMsg(payment_hash=h), timeout=10)
    for t in tracks + [pay]:
        t.done.wait(20)
        assert t.error is None and t.messages[-1].status == lnd.FAILED
    after = lnd.wait_until(lambda: (lambda s: s if s.get(STREAMS, api="grpc", method=TRACK) == 0
                                    and delta(before, s, REQ, api="grpc", method=TRACK, code="OK") == 2 else None)(scrape(net)),
                           what="the streams gauge back to 0")
    assert after.get(STREAMS, api="grpc", method=SEND) == before.get(STREAMS, api="grpc", method=SEND)
    assert delta(before, after, REQ, api="grpc", method=SEND, code="OK") == 1
    assert delta(before, after, "paytrack_payments_total", status="failed") == 1
    assert delta(before, after, "paytrack_payments_total", status="succeeded") == 0
    # The payment's commits (init, attempt, its failure, the payment's failure) went through the writer.
    commits = delta(before, after, "paytrack_store_commit_seconds_count")
    assert commits >= 3
    assert delta(before, after, "paytrack_store_commit_group_size_count") == commits
    assert delta(before, after, "paytrack_store_commit_group_size_sum") >= commits
    # The two TrackPaymentV2 streams share one fan-out group: at least the terminal update went out.
    assert delta(before, after, "paytrack_fanout_delivery_seconds_count") >= 1


def test_connections_by_listener(net):
    before = scrape(net)
    for _ in range(3):
        requests.get(f"http://127.0.0.1:{net.metrics_port}/metrics", timeout=10).close()
    after = scrape(net)
    # Each requests.get above and the scrape itself opened one connection of its own.
    assert delta(before, after, "paytrack_connections_accepted_total", listener="metrics") == 4
    assert after.get("paytrack_connections_open", listener="metrics") >= 1


def _raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_bad_requests_get_http_errors(net):
    base = f"http://127.0.0.1:{net.metrics_port}"
    r = requests.get(base + "/", timeout=10)
    assert r.status_code == 404 and "/metrics" in r.text
    r = requests.get(base + "/metricsx", timeout=10)
    assert r.status_code == 404
    r = requests.post(base + "/metrics", data=b"x", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = requests.delete(base + "/metrics", timeout=10)
    assert r.status_code == 405
    r = requests.head(base + "/metrics", timeout=10)
    assert r.status_code == 200 and r.text == "" and int(r.headers["Content-Length"]) > 1000
    out = _raw(net.metrics_port, b"\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")
    out = _raw(net.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")
    # The listener still serves afterwards.
    assert scrape(net).get("process_open_fds") > 0


def _refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def test_nothing_listens_without_prometheus_enable(tmp_path):
    port = harness.free_port()
    d = harness.Daemon(tmp_path / "node", "--prometheus.listen", f"127.0.0.1:{port}", "--nokdf", "--norest").start()
    try:
        assert _refused(port)
        assert "Prometheus" not in d.read_log()
    finally:
        d.stop()


def test_prometheus_section_of_the_config_file(tmp_path):
    port = harness.free_port()
    datadir = tmp_path / "node"
    datadir.mkdir()
    (datadir / "paytrackd.conf").write_text(f"[Application Options]\nnokdf=true\n\n[prometheus]\nenable=true\nlisten=127.0.0.1:{port}\n")
    d = harness.Daemon(datadir, "--norest").start()
    try:
        s = Scrape(port)
        assert s.get("paytrack_connections_accepted_total", listener="metrics") >= 1
        assert f"Prometheus metrics listening on http://127.0.0.1:{port}/metrics" in d.read_log()
    finally:
        d.stop()
    # A bad value there is refused with the file, the line and the key.
    (datadir / "paytrackd.conf").write_text("[prometheus]\nenable=true\nlisten=nowhere\n")
    bad = harness.Daemon(datadir, "--norest", "--nokdf")
    with pytest.raises(RuntimeError) as e:
        bad.start(timeout=20)
    assert f"{datadir / 'paytrackd.conf'}:3" in str(e.value) and "prometheus.listen" in str(e.value)
