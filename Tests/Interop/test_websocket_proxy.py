"""LND's WebSocket proxy served by paytrackd: the seed's JavaScript sample unchanged (Node with
Debian's node-ws), websocket-client for TrackPaymentV2, SendPaymentV2 (POST: the first message is
the body) and TrackPayments, the macaroon as a Sec-WebSocket-Protocol entry (echoed), close 1000
at the end of a stream, ping/pong and the pong timeout, and a browser (headless Chromium) opening
`new WebSocket(url, ['Grpc-Metadata-Macaroon+<hex>'])`.
"""
import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import websocket

import harness
import lnd

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("ws") / "node", "--sim.latency", "50",
                "--ws-ping-interval", "1", "--ws-pong-wait", "1").start()
    yield n
    n.stop()


def b64url(b):
    return base64.urlsafe_b64encode(b).decode()


def ws_url(net, path):
    return f"wss://127.0.0.1:{net.daemon.rest_port}{path}"


def connect(net, path, *, header=True, subprotocols=None, **kw):
    d = net.daemon
    headers = [f"Grpc-Metadata-Macaroon: {d.macaroon_hex()}"] if header else []
    return websocket.create_connection(ws_url(net, path), header=headers, subprotocols=subprotocols,
                                       sslopt={"ca_certs": str(d.cert_path), "check_hostname": False}, timeout=20, **kw)


def read_all(ws):
    """Text messages until the server's close frame; returns (messages, close code)."""
    msgs = []
    while True:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_TEXT:
            msgs.append(json.loads(data))
        elif op == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            return msgs, code
        elif op == websocket.ABNF.OPCODE_PING:
            ws.pong(data)


def paid(net, sat=900):
    inv = net.node("bob").add_invoice(value=sat, memo="ws")
    p = net.alice.send(payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000)
    assert p[-1].status == lnd.SUCCEEDED
    return inv


def test_seed_javascript_sample_with_node_ws(net):
    inv = paid(net)
    d = net.daemon
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
    out = subprocess.run(["node", str(HERE / "samples/ws_track_payment_v2.js"), f"localhost:{d.rest_port}",
                          str(d.macaroon_path()), b64url(inv.r_hash)], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert not any(l.startswith("Error") for l in lines), out.stdout
    msgs = [json.loads(l) for l in lines if l.startswith("{")]
    assert len(msgs) == 1 and msgs[0]["result"]["status"] == "SUCCEEDED"
    assert lines[-1] == "CLOSE 1000"


def test_track_over_websocket_in_flight_then_succeeded(net):
    inv = net.node("bob").add_invoice(value=1_100, memo="ws live")
    from lnd import rt
    call = net.alice.router.SendPaymentV2(rt.SendPaymentRequest(payment_request=inv.payment_request, timeout_seconds=60,
                                                               fee_limit_sat=1000), timeout=60)
    send = lnd.StreamReader(call)
    send.wait_for(lambda p: p.status == lnd.IN_FLIGHT)
    ws = connect(net, f"/v2/router/track/{b64url(inv.r_hash)}?method=GET")
    msgs, code = read_all(ws)
    assert code == 1000
    statuses = [m["result"]["status"] for m in msgs]
    assert statuses[-1] == "SUCCEEDED" and set(statuses[:-1]) <= {"IN_FLIGHT"}


def test_macaroon_as_subprotocol_is_echoed(net):
    inv = paid(net)
    proto = "Grpc-Metadata-Macaroon+" + net.daemon.macaroon_hex()
    ws = connect(net, f"/v2/router/track/{b64url(inv.r_hash)}", header=False, subprotocols=[proto])
    assert ws.getsubprotocol().lower() == proto.lower()     # websocket-client lowercases what it got
    msgs, code = read_all(ws)
    assert code == 1000 and msgs[0]["result"]["status"] == "SUCCEEDED"


def test_no_macaroon_and_unknown_hash_are_error_messages(net):
    ws = connect(net, f"/v2/router/track/{b64url(os.urandom(32))}", header=False)
    msgs, code = read_all(ws)
    assert msgs == [{"error": {"code": 2, "message": "expected 1 macaroon, got 0", "details": []}}] and code == 1000
    ws = connect(net, f"/v2/router/track/{b64url(os.urandom(32))}")
    msgs, code = read_all(ws)
    assert msgs == [{"error": {"code": 5, "message": "payment isn't initiated", "details": []}}] and code == 1000


def test_send_payment_over_websocket_first_message_is_the_body(net):
    inv = net.node("bob").add_invoice(value=1_300, memo="ws send")
    ws = connect(net, "/v2/router/send?method=POST")
    ws.send(json.dumps({"payment_request": inv.payment_request, "timeout_seconds": 60, "fee_limit_sat": "1000"}))
    msgs, code = read_all(ws)
    assert code == 1000
    assert msgs[0]["result"]["status"] == "IN_FLIGHT" and msgs[-1]["result"]["status"] == "SUCCEEDED"


def test_track_payments_over_websocket(net):
    ws = connect(net, "/v2/router/payments?no_inflight_updates=true")
    inv = paid(net, 1_400)
    deadline = time.time() + 30
    seen = []
    while time.time() < deadline:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_PING:
            ws.pong(data); continue
        if op == websocket.ABNF.OPCODE_TEXT:
            m = json.loads(data)["result"]
            seen.append(m["status"])
            if m["payment_hash"] == inv.r_hash.hex():
                break
    assert seen and seen[-1] == "SUCCEEDED" and "IN_FLIGHT" not in seen
    ws.close()


def test_ping_every_interval_and_pong_timeout(net):
    # Answering pings keeps the stream open past several intervals.
    ws = connect(net, "/v2/router/payments")
    pings = 0
    t0 = time.time()
    while time.time() - t0 < 3.5:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_PING:
            assert data == b"are you there?"
            ws.pong(data)
            pings += 1
    assert pings >= 2
    ws.close()
    # A client that never answers: the server closes after interval + pong wait.
    ws = connect(net, "/v2/router/payments")
    time.sleep(3.5)
    closed = False
    try:
        while True:
            op, data = ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                closed = True
                break
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        closed = True
    assert closed


PAGE = """<!doctype html><html><body><pre id="out"></pre><script>
const out = document.getElementById('out');
const ws = new WebSocket('URL', ['PROTO']);
ws.onopen = () => { out.textContent += 'OPEN ' + ws.protocol + '\\n'; };
ws.onmessage = (e) => { out.textContent += 'MSG ' + e.data + '\\n'; };
ws.onclose = (e) => { out.textContent += 'CLOSE ' + e.code + '\\n'; };
ws.onerror = () => { out.textContent += 'ERROR\\n'; };
</script></body></html>"""


def test_headless_chromium_websocket_with_macaroon_subprotocol(net, tmp_path):
    from browser import Browser
    inv = paid(net)
    proto = "Grpc-Metadata-Macaroon+" + net.daemon.macaroon_hex()
    page = tmp_path / "page.html"
    page.write_text(PAGE.replace("URL", ws_url(net, f"/v2/router/track/{b64url(inv.r_hash)}")).replace("PROTO", proto))
    b = Browser(tmp_path / "profile")
    try:
        b.open(page.as_uri())
        text = b.wait_for("document.getElementById('out').textContent.includes('CLOSE') && "
                          "document.getElementById('out').textContent")
    finally:
        b.close()
    lines = text.splitlines()
    assert lines[0] == "OPEN " + proto, "the browser completed the handshake with the echoed subprotocol"
    assert lines[-1] == "CLOSE 1000"
    msgs = [json.loads(l[4:]) for l in lines if l.startswith("MSG ")]
    assert len(msgs) == 1 and msgs[0]["result"]["status"] == "SUCCEEDED"
