"""LND's WebSocket proxy over HTTP/2 (RFC 8441, extended CONNECT), beyond LND: the REST listener
advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, and a WebSocket opened as `:method CONNECT`,
`:protocol websocket` on any REST path runs that route exactly as an HTTP/1.1 upgrade does, many of
them multiplexed on one TLS connection. The client is Python's `h2` (hyper-h2) over real TLS with
ALPN h2; the RFC 6455 frames inside the stream are built and read here.
"""
import json
import os
import socket
import ssl
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

import lnd
from lnd import rt
from test_websocket_proxy import b64url, paid


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("wsh2") / "node", "--sim.latency", "50",
                "--ws-ping-interval", "1", "--ws-pong-wait", "1").start()
    yield n
    n.stop()


def client_frame(opcode, payload=b""):
    """A masked client frame (RFC 6455 §5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WebSocketStream:
    """One RFC 8441 WebSocket: its response head and the server frames read from its DATA."""

    def __init__(self, conn, stream_id):
        self.conn, self.id = conn, stream_id
        self.status, self.headers = None, {}
        self.buf = b""
        self.frames = []          # (opcode, payload), server frames in order (fragments assembled)
        self.ended = False        # the server's END_STREAM
        self.reset = None         # RST_STREAM error code, if reset
        self._partial = None
        self.pongs = 0            # pings answered so far

    def answer_pings(self):
        """Answers every ping not answered yet with a pong of the same payload; returns them."""
        pings = [p for op, p in self.frames if op == 9][self.pongs:]
        for p in pings:
            self.send(10, p)
        self.pongs += len(pings)
        return pings

    def parse(self):
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            assert b1 & 0x80 == 0, "server frames are not masked"
            n, off = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, off = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
            if len(self.buf) < off + n:
                return
            opcode, payload, fin = b0 & 0x0F, self.buf[off:off + n], b0 & 0x80
            self.buf = self.buf[off + n:]
            if opcode == 0:
                self._partial = (self._partial[0], self._partial[1] + payload)
                if fin:
                    self.frames.append(self._partial)
                    self._partial = None
            elif opcode in (1, 2) and not fin:
                self._partial = (opcode, payload)
            else:
                self.frames.append((opcode, payload))

    def messages(self):
        return [json.loads(p) for op, p in self.frames if op == 1]

    def close_code(self):
        for op, p in self.frames:
            if op == 8:
                return struct.unpack(">H", p[:2])[0] if len(p) >= 2 else None
        return None

    def send(self, opcode, payload=b""):
        self.conn.send_data(self.id, client_frame(opcode, payload))


class H2Client:
    """An h2 client connection to the REST listener over TLS (ALPN h2)."""

    def __init__(self, daemon, port=None):
        ctx = ssl.create_default_context(cafile=str(daemon.cert_path))
        ctx.check_hostname = False
        ctx.set_alpn_protocols(["h2"])
        self.port = port or daemon.rest_port
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=20),
                                    server_hostname="localhost")
        assert self.sock.selected_alpn_protocol() == "h2"
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.streams = {}
        self.responses = {}       # plain requests: id -> [status, headers, body, ended]
        self.remote_settings = None
        self.flush()
        self.pump_until(lambda: self.remote_settings is not None)
        self.macaroon = daemon.macaroon_hex()

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, timeout=20):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        for ev in self.h2.receive_data(data):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                self.remote_settings = {k: v.new_value for k, v in ev.changed_settings.items()}
            elif isinstance(ev, h2.events.ResponseReceived):
                hdrs = dict(ev.headers)
                if ev.stream_id in self.streams:
                    s = self.streams[ev.stream_id]
                    s.status, s.headers = int(hdrs[":status"]), hdrs
                else:
                    self.responses[ev.stream_id][:2] = [int(hdrs[":status"]), hdrs]
            elif isinstance(ev, h2.events.DataReceived):
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if ev.stream_id in self.streams:
                    s = self.streams[ev.stream_id]
                    s.buf += ev.data
                    s.parse()
                else:
                    self.responses[ev.stream_id][2] += ev.data
            elif isinstance(ev, h2.events.StreamEnded):
                if ev.stream_id in self.streams:
                    self.streams[ev.stream_id].ended = True
                else:
                    self.responses[ev.stream_id][3] = True
            elif isinstance(ev, h2.events.StreamReset):
                if ev.stream_id in self.streams:
                    self.streams[ev.stream_id].reset = ev.error_code
                else:
                    self.responses[ev.stream_id][3] = True
        self.flush()

    def pump_until(self, cond, timeout=30):
        deadline = time.time() + timeout
        while not cond():
            assert time.time() < deadline, "timed out"
            self.pump(timeout=max(0.1, deadline - time.time()))

    def websocket(self, path, *, macaroon=True, protocol="websocket", version="13", extra=()):
        sid = self.h2.get_next_available_stream_id()
        headers = [(":method", "CONNECT"), (":protocol", protocol), (":scheme", "https"), (":path", path),
                   (":authority", f"localhost:{self.port}")]
        if version is not None:
            headers.append(("sec-websocket-version", version))
        if macaroon:
            headers.append(("grpc-metadata-macaroon", self.macaroon))
        headers += list(extra)
        self.h2.send_headers(sid, headers)
        self.flush()
        s = self.streams[sid] = WebSocketStream(self.h2, sid)
        return s

    def get(self, path):
        sid = self.h2.get_next_available_stream_id()
        self.responses[sid] = [None, None, b"", False]
        self.h2.send_headers(sid, [(":method", "GET"), (":scheme", "https"), (":path", path),
                                   (":authority", f"localhost:{self.port}"),
                                   ("grpc-metadata-macaroon", self.macaroon)], end_stream=True)
        self.flush()
        return sid

    def finish(self, s, timeout=30):
        """Reads until the server's close frame, answers it, and waits for the server's END_STREAM."""
        self.pump_until(lambda: s.close_code() is not None or s.reset is not None, timeout)
        if s.reset is None:
            s.send(8, struct.pack(">H", s.close_code()))
            self.h2.end_stream(s.id)
            self.flush()
            self.pump_until(lambda: s.ended or s.reset is not None, timeout)

    def close(self):
        try:
            self.h2.close_connection()
            self.flush()
        finally:
            self.sock.close()


def test_rest_listener_offers_extended_connect_and_grpc_does_not(net):
    c = H2Client(net.daemon)
    assert c.remote_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL) == 1
    c.close()
    g = H2Client(net.daemon, port=net.daemon.port)
    assert g.remote_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL, 0) == 0
    g.close()


def test_track_payment_over_http2_websocket_in_flight_then_succeeded(net):
    inv = net.node("bob").add_invoice(value=1_100, memo="ws h2 live")
    call = net.alice.router.SendPaymentV2(rt.SendPaymentRequest(payment_request=inv.payment_request, timeout_seconds=60,
                                                               fee_limit_sat=1000), timeout=60)
    lnd.StreamReader(call).wait_for(lambda p: p.status == lnd.IN_FLIGHT)
    c = H2Client(net.daemon)
    s = c.websocket(f"/v2/router/track/{b64url(inv.r_hash)}?method=GET")
    c.finish(s)
    assert s.status == 200 and "sec-websocket-accept" not in s.headers   # RFC 8441 §5: no key/accept
    assert s.reset is None and s.ended, "closing handshake, then END_STREAM"
    assert s.close_code() == 1000
    statuses = [m["result"]["status"] for m in s.messages()]
    assert statuses[-1] == "SUCCEEDED" and set(statuses[:-1]) <= {"IN_FLIGHT"}
    c.close()


def test_many_websockets_and_rest_calls_share_one_connection(net):
    invs = [paid(net, 700 + i) for i in range(3)]
    c = H2Client(net.daemon)
    socks = [c.websocket(f"/v2/router/track/{b64url(invs[i % 3].r_hash)}") for i in range(24)]
    rest = c.get(f"/v2/router/track/{b64url(invs[0].r_hash)}")
    c.pump_until(lambda: all(s.close_code() is not None for s in socks) and c.responses[rest][3])
    for i, s in enumerate(socks):
        assert s.status == 200 and s.close_code() == 1000
        (m,) = s.messages()
        assert m["result"]["status"] == "SUCCEEDED"
        assert m["result"]["payment_hash"] == invs[i % 3].r_hash.hex()
    status, _, body, _ = c.responses[rest]
    assert status == 200 and json.loads(body.splitlines()[0])["result"]["status"] == "SUCCEEDED"
    for s in socks:
        c.finish(s)
        assert s.ended and s.reset is None
    c.close()


def test_macaroon_as_subprotocol_is_echoed_over_http2(net):
    inv = paid(net)
    proto = "Grpc-Metadata-Macaroon+" + net.daemon.macaroon_hex()
    c = H2Client(net.daemon)
    s = c.websocket(f"/v2/router/track/{b64url(inv.r_hash)}", macaroon=False,
                    extra=[("sec-websocket-protocol", "chat, " + proto)])
    c.finish(s)
    assert s.status == 200 and s.headers.get("sec-websocket-protocol") == proto
    assert s.messages()[0]["result"]["status"] == "SUCCEEDED" and s.close_code() == 1000
    # Without any macaroon: LND's error message, then close 1000.
    s = c.websocket(f"/v2/router/track/{b64url(os.urandom(32))}", macaroon=False)
    c.finish(s)
    assert s.messages() == [{"error": {"code": 2, "message": "expected 1 macaroon, got 0", "details": []}}]
    c.close()


def test_send_payment_over_http2_websocket_first_message_is_the_body(net):
    inv = net.node("bob").add_invoice(value=1_300, memo="ws h2 send")
    c = H2Client(net.daemon)
    s = c.websocket("/v2/router/send?method=POST")
    c.pump_until(lambda: s.status is not None)
    assert s.status == 200
    s.send(1, json.dumps({"payment_request": inv.payment_request, "timeout_seconds": 60,
                          "fee_limit_sat": "1000"}).encode())
    c.flush()
    c.finish(s)
    statuses = [m["result"]["status"] for m in s.messages()]
    assert statuses[-1] == "SUCCEEDED" and s.close_code() == 1000
    c.close()


def test_bad_extended_connects_get_http_answers(net):
    c = H2Client(net.daemon)
    s = c.websocket("/v2/router/payments", version="8")
    c.pump_until(lambda: s.status is not None)
    assert s.status == 426 and s.headers.get("sec-websocket-version") == "13"
    s = c.websocket("/v2/router/payments", version=None)
    c.pump_until(lambda: s.status is not None)
    assert s.status == 426
    s = c.websocket("/no/such/route")
    c.pump_until(lambda: s.status is not None)
    assert s.status == 404
    s = c.websocket("/v2/router/payments", protocol="not-websocket")
    c.pump_until(lambda: s.status is not None)
    assert s.status >= 400
    # The connection still serves a WebSocket after all that.
    inv = paid(net)
    s = c.websocket(f"/v2/router/track/{b64url(inv.r_hash)}")
    c.finish(s)
    assert s.close_code() == 1000 and s.messages()[0]["result"]["status"] == "SUCCEEDED"
    c.close()


def test_bad_frames_and_resets_end_only_their_stream(net):
    c = H2Client(net.daemon)
    keep = c.websocket("/v2/router/payments")        # TrackPayments: stays open
    bad = c.websocket("/v2/router/payments")
    gone = c.websocket("/v2/router/payments")
    c.pump_until(lambda: keep.status == 200 and bad.status == 200 and gone.status == 200)
    # An unmasked client frame is a protocol error: close 1002 on that stream only.
    c.h2.send_data(bad.id, bytes([0x81, 0x02]) + b"hi")
    c.h2.reset_stream(gone.id, error_code=8)
    c.flush()
    c.pump_until(lambda: bad.close_code() is not None)
    assert bad.close_code() == 1002
    # The kept stream still works: it answers pings (interval 1 s) and receives a new payment.
    inv = net.node("bob").add_invoice(value=1_500, memo="ws h2 keep")
    net.alice.send(payment_request=inv.payment_request, timeout_seconds=60, fee_limit_sat=1000)
    deadline = time.time() + 20
    while not any(m.get("result", {}).get("payment_hash") == inv.r_hash.hex() and m["result"]["status"] == "SUCCEEDED"
                  for m in keep.messages()):
        assert time.time() < deadline
        c.pump(timeout=5)
        keep.answer_pings()
        c.flush()
    assert keep.close_code() is None and keep.reset is None
    c.close()


def test_ping_and_pong_timeout_over_http2(net):
    c = H2Client(net.daemon)
    s = c.websocket("/v2/router/payments")
    c.pump_until(lambda: s.status == 200)
    t0 = time.time()
    while time.time() - t0 < 3.5:
        c.pump(timeout=5)
        assert all(p == b"are you there?" for p in s.answer_pings())
        c.flush()
    assert s.pongs >= 2 and s.close_code() is None
    # Never answering: close 1011 after interval + pong wait, then the stream ends.
    quiet = c.websocket("/v2/router/payments")
    c.pump_until(lambda: quiet.close_code() is not None, timeout=10)
    assert quiet.close_code() == 1011
    c.pump_until(lambda: quiet.reset is not None or quiet.ended, timeout=15)
    c.close()


def test_headless_chromium_opens_websockets_over_the_pages_http2_connection(net, tmp_path):
    """A page served by paytrackd (the dashboard, loaded over h2) opens WebSockets to its own origin:
    Chromium sees SETTINGS_ENABLE_CONNECT_PROTOCOL and runs them as RFC 8441 streams on the page's
    connection (its DevTools report the handshake as 200, not 101)."""
    from browser import Browser
    inv = paid(net)
    d = net.daemon
    proto = "Grpc-Metadata-Macaroon+" + d.macaroon_hex()
    b = Browser(tmp_path / "profile")
    try:
        b.call("Network.enable")
        b.open(f"https://127.0.0.1:{d.rest_port}/")
        b.wait_for("document.readyState === 'complete'")
        url = f"wss://127.0.0.1:{d.rest_port}/v2/router/track/{b64url(inv.r_hash)}"
        b.eval("window.out = []; for (let i = 0; i < 3; i++) {"
               f" const w = new WebSocket({json.dumps(url)}, [{json.dumps(proto)}]);"
               " w.onopen = () => out.push('OPEN ' + w.protocol);"
               " w.onmessage = (e) => out.push('MSG ' + e.data);"
               " w.onclose = (e) => out.push('CLOSE ' + e.code); } 1")
        text = b.wait_for("out.filter(l => l.startsWith('CLOSE')).length === 3 && out.join('\\n')")
        handshakes = [e["params"]["response"]["status"] for e in b.events
                      if e["method"] == "Network.webSocketHandshakeResponseReceived"]
        protocols = {e["params"]["response"].get("protocol") for e in b.events
                     if e["method"] == "Network.responseReceived" and e["params"]["response"]["url"].startswith("https://127.0.0.1")}
    finally:
        b.close()
    lines = text.splitlines()
    assert lines.count("OPEN " + proto) == 3 and lines.count("CLOSE 1000") == 3
    msgs = [json.loads(l[4:]) for l in lines if l.startswith("MSG ")]
    assert len(msgs) == 3 and all(m["result"]["status"] == "SUCCEEDED" for m in msgs)
    assert "h2" in protocols, "the page came over HTTP/2"
    assert handshakes == [200, 200, 200], f"WebSocket handshakes as RFC 8441 streams (HTTP/1.1 would be 101): {handshakes}"
