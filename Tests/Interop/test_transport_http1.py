"""Transport's HTTP listener (HTTP/1.1 + WebSocket + h2) against real clients: requests,
websocket-client, curl, raw TLS sockets. Starts Tests/Support/HTTPTestServer (the real Transport
stack over TLS) on loopback with throwaway certificates."""
import base64
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import urllib3
import websocket

from test_transport_fixtures import ROOT, make_certs, wait_for

urllib3.disable_warnings()
HTTP_BIN = Path(os.environ.get("HTTP_TEST_SERVER", ROOT / ".build/debug/HTTPTestServer"))


class HTTPServer:
    """One HTTPTestServer process."""

    def __init__(self, certdir, *extra):
        self.cert, self.key = make_certs(certdir)
        self.args = [str(HTTP_BIN), "--cert", str(self.cert), "--key", str(self.key), "--port", "0", *extra]
        self.log = Path(certdir) / "http-server.log"

    def start(self):
        if not HTTP_BIN.exists():
            raise RuntimeError(f"{HTTP_BIN} missing: run `swift build --product HTTPTestServer`")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("LISTENING"):
            raise RuntimeError(f"server did not start: {line!r} {self.log.read_text()}")
        self.port = int(line.split()[1])
        return self

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc.poll() is None

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def tls_socket(self, alpn=("http/1.1",), timeout=10):
        ctx = ssl.create_default_context(cafile=str(self.cert))
        ctx.check_hostname = False
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return ctx.wrap_socket(raw, server_hostname="localhost")

    def works(self):
        """A fresh connection still gets an answer."""
        r = requests.post(self.url + "/echo", data=b"still here", verify=False, timeout=10)
        return r.status_code == 200 and r.content == b"still here"


@pytest.fixture
def server(tmp_path):
    s = HTTPServer(tmp_path, "--max-body", "65536", "--header-timeout-ms", "700", "--idle-timeout-ms", "1500",
                   "--ping-interval-ms", "300", "--pong-wait-ms", "300").start()
    yield s
    assert s.alive(), s.log.read_text()
    assert s.stop() == 0, s.log.read_text()


def read_until_closed(sock, limit=1 << 20):
    out = b""
    try:
        while len(out) < limit:
            b = sock.recv(65536)
            if not b:
                break
            out += b
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        pass
    return out


def read_response(sock, buf=b""):
    """Reads one Content-Length response from sock; returns (status, headers, body, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"closed early: {buf!r}"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return status, headers, rest[:n], rest[n:]


# MARK: real clients


def test_requests_keep_alive_reuses_one_connection(server):
    with requests.Session() as s:
        peers = set()
        for i in range(5):
            r = s.post(server.url + "/echo", data=f"msg {i}".encode(), verify=False, timeout=10)
            assert r.status_code == 200 and r.content == f"msg {i}".encode()
            info = s.get(server.url + "/info", verify=False, timeout=10).text
            assert info.startswith("http/1.1 ")
            peers.add(info.split()[1])
        assert len(peers) == 1, peers


def test_requests_stream_iter_lines_like_the_seed_sample(server):
    # The seed's REST sample: requests.get(..., stream=True) then iter_lines().
    r = requests.get(server.url + "/stream?n=2000&size=100", stream=True, verify=False, timeout=30)
    assert r.status_code == 200
    assert r.headers["Transfer-Encoding"] == "chunked"
    lines = [line for line in r.iter_lines() if line]
    assert len(lines) == 2000
    assert lines[0].startswith(b'{"result":{"i":0,') and lines[-1].startswith(b'{"result":{"i":1999,')


def test_curl_http1_and_http2(server):
    for flag, proto in (("--http1.1", "http/1.1"), ("--http2", "h2")):
        out = subprocess.run(["curl", "-sS", "--cacert", str(server.cert), "--resolve", f"localhost:{server.port}:127.0.0.1",
                              flag, f"https://localhost:{server.port}/info"], capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(proto + " "), out.stdout
    out = subprocess.run(["curl", "-sS", "-k", "--http2", "--data-binary", "@-", server.url + "/echo"], input="h2 body",
                         capture_output=True, text=True, timeout=20)
    assert out.stdout == "h2 body"
    out = subprocess.run(["curl", "-sS", "-k", "--http1.1", "-N", server.url + "/stream?n=3"], capture_output=True, text=True, timeout=20)
    assert out.stdout.count("\n") == 3
    out = subprocess.run(["curl", "-sS", "-k", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/missing"],
                         capture_output=True, text=True, timeout=20)
    assert out.stdout == "404"


def test_no_alpn_is_http1(server):
    s = server.tls_socket(alpn=None)
    assert s.selected_alpn_protocol() is None
    s.sendall(b"GET /info HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body, _ = read_response(s)
    assert status == 200 and body.startswith(b"http/1.1 ")
    s.close()


def test_pipelined_requests_answered_in_order(server):
    s = server.tls_socket()
    reqs = b"".join(f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {len(str(i))}\r\n\r\n{i}".encode() for i in range(20))
    s.sendall(reqs)
    rest = b""
    for i in range(20):
        status, _, body, rest = read_response(s, rest)
        assert status == 200 and body == str(i).encode()
    s.close()


def test_chunked_upload_and_expect_continue(server):
    def gen():
        for i in range(10):
            yield f"part{i};".encode()
    r = requests.post(server.url + "/echo", data=gen(), verify=False, timeout=10)
    assert r.content == b"".join(f"part{i};".encode() for i in range(10))
    out = subprocess.run(["curl", "-sS", "-k", "--http1.1", "-H", "Expect: 100-continue", "--data-binary", "@-",
                          server.url + "/echo", "-v"], input="x" * 2000, capture_output=True, text=True, timeout=20)
    assert out.stdout == "x" * 2000
    assert "100 Continue" in out.stderr


# MARK: WebSocket


def test_websocket_client_echo_subprotocol_and_close(server):
    ws = websocket.create_connection(server.url.replace("https", "wss") + "/ws",
                                     sslopt={"cert_reqs": ssl.CERT_NONE},
                                     subprotocols=["Grpc-Metadata-Macaroon+0201abcd"])
    assert ws.getsubprotocol() == "grpc-metadata-macaroon+0201abcd"  # websocket-client lowercases it
    ws.send("hello")
    assert ws.recv() == "hello"
    ws.send("ünïcødé ✓")
    assert ws.recv() == "ünïcødé ✓"
    ws.send_binary(bytes(range(256)))
    assert ws.recv() == bytes(range(256))
    ws.send("stream 500")
    got = []
    while True:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            assert struct.unpack("!H", data[:2])[0] == 1000
            break
        if op == websocket.ABNF.OPCODE_TEXT:
            got.append(data)
    assert len(got) == 500
    ws.close()


def ws_handshake(server, extra=b""):
    s = server.tls_socket()
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s, rest


def frame(opcode, payload, masked=True):
    b = bytes([0x80 | opcode])
    n = len(payload)
    m = 0x80 if masked else 0
    b += bytes([m | n]) if n < 126 else bytes([m | 126]) + struct.pack("!H", n) if n < 65536 else bytes([m | 127]) + struct.pack("!Q", n)
    if masked:
        mask = os.urandom(4)
        return b + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return b + payload


def read_frames(s, buf, until_close=True):
    frames = []
    while True:
        while True:
            if len(buf) >= 2:
                n = buf[1] & 0x7f
                p = 2
                if n == 126 and len(buf) >= 4:
                    n = struct.unpack("!H", buf[2:4])[0]; p = 4
                elif n == 127 and len(buf) >= 10:
                    n = struct.unpack("!Q", buf[2:10])[0]; p = 10
                if len(buf) >= p + n and (buf[1] & 0x7f) < 126 or len(buf) >= p + n and p > 2:
                    frames.append((buf[0] & 0x0f, buf[p:p + n]))
                    buf = buf[p + n:]
                    if frames[-1][0] == 8 and until_close:
                        return frames, buf
                    continue
            break
        chunk = s.recv(65536)
        if not chunk:
            return frames, buf
        buf += chunk


def test_websocket_server_pings_and_closes_without_pong(server):
    s, rest = ws_handshake(server)
    frames, _ = read_frames(s, rest)
    ops = [op for op, _ in frames]
    assert ops[0] == 9 and frames[0][1] == b"are you there?"
    assert ops[-1] == 8 and struct.unpack("!H", frames[-1][1][:2])[0] == 1011
    assert read_until_closed(s) == b""
    s.close()


def test_websocket_client_answering_pings_stays_connected(server):
    ws = websocket.create_connection(server.url.replace("https", "wss") + "/ws", sslopt={"cert_reqs": ssl.CERT_NONE})
    pings = 0
    ws.settimeout(5)
    end = time.time() + 1.5
    while time.time() < end:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_PING:
            assert data == b"are you there?"
            pings += 1
            ws.pong(data)
    assert pings >= 2
    ws.send("still open")
    while True:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_TEXT:
            assert data == b"still open"
            break
    ws.close()


def test_websocket_bad_frames_get_close_codes(server):
    cases = [
        (frame(1, b"\xc3\x28"), 1007),                 # invalid UTF-8
        (frame(1, b"unmasked", masked=False), 1002),   # client frames must be masked
        (frame(2, b"x" * 70000), None),                # under 4 MiB: echoed
    ]
    for data, code in cases:
        s, rest = ws_handshake(server)
        s.sendall(data)
        if code is None:
            frames, _ = read_frames(s, rest, until_close=False) if False else (None, None)
            buf = rest
            while len(buf) < 70000:
                buf += s.recv(65536)
            assert buf[0] & 0x0f == 2
        else:
            frames, _ = read_frames(s, rest)
            closes = [p for op, p in frames if op == 8]
            assert closes and struct.unpack("!H", closes[0][:2])[0] == code
        s.close()
    assert server.works()


@pytest.fixture
def quiet_server(tmp_path):
    """The server with the default ping interval (30 s): for tests whose raw client answers no ping."""
    s = HTTPServer(tmp_path).start()
    yield s
    assert s.alive(), s.log.read_text()
    assert s.stop() == 0, s.log.read_text()


def test_websocket_message_over_4MiB_is_1009(quiet_server):
    server = quiet_server
    s, rest = ws_handshake(server)
    s.sendall(frame(2, b"\0" * (4 * 1024 * 1024 + 1)))
    frames, _ = read_frames(s, rest)
    closes = [p for op, p in frames if op == 8]
    assert closes and struct.unpack("!H", closes[0][:2])[0] == 1009
    s.close()


# MARK: bad clients


def test_slowloris_gets_408_and_others_are_untouched(server):
    slow = server.tls_socket()
    slow.sendall(b"GET /info HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    # Another client is served meanwhile.
    assert server.works()
    for _ in range(3):
        try:
            slow.sendall(b"a")
        except OSError:
            break
        time.sleep(0.1)
    out = read_until_closed(slow)
    assert out.startswith(b"HTTP/1.1 408 "), out
    slow.close()
    assert server.works()


def test_idle_keep_alive_connection_is_closed(server):
    s = server.tls_socket()
    s.sendall(b"GET /info HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, _, rest = read_response(s)
    assert status == 200
    assert read_until_closed(s) == b"", "closed without another byte"
    s.close()


def test_oversize_header_is_431(server):
    s = server.tls_socket()
    s.sendall(b"GET /info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    out = read_until_closed(s)
    assert out.startswith(b"HTTP/1.1 431 "), out[:100]
    s.close()
    assert server.works()


def test_oversize_body_is_413(server):
    r = requests.post(server.url + "/echo", data=b"x" * 70000, verify=False, timeout=10)
    assert r.status_code == 413
    s = server.tls_socket()
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    try:
        for _ in range(20):
            s.sendall(b"1000\r\n" + b"y" * 4096 + b"\r\n")
    except OSError:
        pass
    assert read_until_closed(s).startswith(b"HTTP/1.1 413 ")
    s.close()
    assert server.works()


@pytest.mark.parametrize("garbage", [b"\x16\x03\x01garbage\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                                     b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", bytes(range(256)) * 4])
def test_garbage_is_400_and_close(server, garbage):
    s = server.tls_socket()
    s.sendall(garbage)
    out = read_until_closed(s)
    assert out.startswith(b"HTTP/1.1 400 "), out[:100]
    s.close()
    assert server.works()


def test_client_that_never_reads_is_bounded(server):
    base = server.rss_kib()
    s = server.tls_socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # About 1 GB of response that the client never reads.
    s.sendall(b"GET /stream?n=1000000&size=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
    for _ in range(20):
        assert server.works(), "other connections are served meanwhile"
    grown = server.rss_kib() - base
    assert grown < 64 * 1024, f"server RSS grew by {grown} KiB for one stuck reader"
    s.close()
    assert wait_for(server.works)
