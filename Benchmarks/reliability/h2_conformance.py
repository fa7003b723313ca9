#!/usr/bin/env python3
"""Campaign (e) of issue 17: HTTP/2 conformance of paytrackd, the cases of h2spec (RFC 9113 §3-§8 and
HPACK, RFC 7541) written on Python's HTTP/2 stack (h2, hyperframe, hpack) over a raw TLS socket
with ALPN h2.

One command: `Benchmarks/reliability/h2_conformance.py` builds nothing; it starts the debug (or
$PAYTRACKD) daemon on a free port with --no-macaroons in a temporary datadir, runs every case on
a fresh connection, prints a table (section, case, expected, seen, PASS/FAIL) and the pass count,
and exits 1 if any case failed. `--target HOST:PORT` runs against a daemon already listening.

How outcomes are judged (h2spec's rules): a connection error is a GOAWAY with the expected code,
or the connection closed without one (shown as "closed"); a stream error is an RST_STREAM with the
expected code on that stream, or a connection error with that code; "no error" means the server
still answers a PING with the same payload afterwards and sent no GOAWAY or RST_STREAM with an
error. Each expectation waits at most --timeout seconds (default 2, as h2spec's).

The requests use gRPC methods that need no state: grpc.health.v1.Health/Check (unary, answers at
once) and routerrpc.Router/TrackPayments (a server stream that stays open, for the cases that need
a stream open or half-closed (remote)).
"""
import argparse
import os
import shutil
import socket
import ssl
import struct
import sys
import time
from pathlib import Path

from daemon import start_daemon

import h2.config
import h2.connection
import h2.events
from h2.errors import ErrorCodes as E
from h2.settings import SettingCodes as S
import hpack
from hyperframe.frame import SettingsFrame

ROOT = Path(__file__).resolve().parents[2]
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
HEALTH = "/grpc.health.v1.Health/Check"
TRACK_ALL = "/routerrpc.Router/TrackPayments"
GRPC_EMPTY = b"\x00\x00\x00\x00\x00"  # one gRPC message of length 0
TIMEOUT = 2.0


def request_headers(path=HEALTH, extra=()):
    return [(":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers")] + list(extra)


def raw_frame(ftype, flags, stream, payload):
    """A frame header and payload as bytes, whatever the payload (for the malformed cases)."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    """HPACK literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2): sends
    names exactly as given (uppercase too), which a normal encoder would not."""
    def string(s):
        b = s.encode() if isinstance(s, str) else s
        return integer(len(b), 7, 0) + b
    return b"\x00" + string(name) + string(value)


def integer(n, prefix, first):
    limit = (1 << prefix) - 1
    if n < limit:
        return bytes([first | n])
    out = [first | limit]
    n -= limit
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def block(headers):
    return b"".join(literal(n, v) for n, v in headers)


class Closed(Exception):
    pass


class Peer:
    """A raw HTTP/2 client connection over TLS: bytes and frames out, parsed frames in."""

    def __init__(self, host, port):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        self.sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname="localhost")
        assert self.sock.selected_alpn_protocol() == "h2"
        self.buffer = b""
        self.decoder = hpack.Decoder()
        self.encoder = hpack.Encoder()
        self.server_settings = {}
        self.log = []  # what the server sent, for the table

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def frame(self, f):
        self.send(f.serialize())

    def handshake(self, settings=None):
        """Preface and SETTINGS, then waits for the server's SETTINGS and acknowledges it."""
        s = SettingsFrame(0)
        s.settings = dict(settings or {})
        self.send(PREFACE + s.serialize())
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            f = self.read(deadline - time.time())
            if f and f[0] == SETTINGS and not f[1] & ACK:
                self.server_settings = self.parse_settings(f[3])
                self.frame(SettingsFrame(0, flags=["ACK"]))
                return
        raise RuntimeError("no SETTINGS from the server")

    @staticmethod
    def parse_settings(payload):
        return {struct.unpack(">H", payload[i:i + 2])[0]: struct.unpack(">I", payload[i + 2:i + 6])[0]
                for i in range(0, len(payload) - 5, 6)}

    def read(self, timeout):
        """The next frame as (type, flags, stream, payload), None on timeout; raises Closed."""
        self.sock.settimeout(max(timeout, 0.001))
        while len(self.buffer) < 9 or len(self.buffer) < 9 + int.from_bytes(self.buffer[:3], "big"):
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return None
            except (ConnectionError, ssl.SSLError, OSError):
                raise Closed()
            if not chunk:
                raise Closed()
            self.buffer += chunk
        length = int.from_bytes(self.buffer[:3], "big")
        ftype, flags = self.buffer[3], self.buffer[4]
        stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
        payload = self.buffer[9:9 + length]
        self.buffer = self.buffer[9 + length:]
        if ftype in (HEADERS, CONTINUATION) and stream:
            try:
                body = payload
                if ftype == HEADERS and flags & PADDED:
                    body = body[1:len(body) - body[0]]
                if ftype == HEADERS and flags & PRIORITY_FLAG:
                    body = body[5:]
                self.log.append(("HEADERS", stream, dict(self.decoder.decode(body))))
            except Exception:  # noqa: the server's header block continues in a CONTINUATION
                self.log.append(("HEADERS", stream, {}))
        return ftype, flags, stream, payload

    def request(self, stream, headers=None, end_stream=True, path=HEALTH):
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        self.send(raw_frame(HEADERS, flags, stream, self.encoder.encode(headers or request_headers(path))))

    def data(self, stream, payload=GRPC_EMPTY, end_stream=True):
        self.send(raw_frame(DATA, END_STREAM if end_stream else 0, stream, payload))

    # Expectations ----------------------------------------------------------------------------
    def expect_connection_error(self, code):
        deadline = time.time() + TIMEOUT
        try:
            while time.time() < deadline:
                f = self.read(deadline - time.time())
                if f and f[0] == GOAWAY:
                    got = struct.unpack(">I", f[3][4:8])[0]
                    return got == code, f"GOAWAY {name(got)}"
        except Closed:
            return True, "closed"
        return False, "timeout"

    def expect_stream_error(self, stream, code):
        deadline = time.time() + TIMEOUT
        try:
            while time.time() < deadline:
                f = self.read(deadline - time.time())
                if f and f[0] == RST_STREAM and f[2] == stream:
                    got = struct.unpack(">I", f[3])[0]
                    return got == code, f"RST_STREAM {name(got)}"
                if f and f[0] == GOAWAY:
                    got = struct.unpack(">I", f[3][4:8])[0]
                    return got == code, f"GOAWAY {name(got)}"
        except Closed:
            return True, "closed"
        return False, "timeout"

    def expect_alive(self, payload=b"h2spec!!"):
        """No error: the server answers a PING afterwards and sent no GOAWAY / error RST_STREAM."""
        self.send(raw_frame(PING, 0, 0, payload))
        deadline = time.time() + TIMEOUT
        try:
            while time.time() < deadline:
                f = self.read(deadline - time.time())
                if f is None:
                    break
                if f[0] == GOAWAY:
                    return False, f"GOAWAY {name(struct.unpack('>I', f[3][4:8])[0])}"
                if f[0] == RST_STREAM and struct.unpack(">I", f[3])[0] not in (E.NO_ERROR, E.CANCEL):
                    return False, f"RST_STREAM {name(struct.unpack('>I', f[3])[0])}"
                if f[0] == PING and f[1] & ACK and f[3] == payload:
                    return True, "PING ACK"
        except Closed:
            return False, "closed"
        return False, "timeout"

    def expect_frame(self, predicate, what):
        deadline = time.time() + TIMEOUT
        try:
            while time.time() < deadline:
                f = self.read(deadline - time.time())
                if f and predicate(f):
                    return True, what
                if f and f[0] == GOAWAY:
                    return False, f"GOAWAY {name(struct.unpack('>I', f[3][4:8])[0])}"
        except Closed:
            return False, "closed"
        return False, "timeout"

    def expect_response(self, stream):
        return self.expect_frame(lambda f: f[0] == HEADERS and f[2] == stream, "response HEADERS")


def name(code):
    try:
        return E(code).name
    except ValueError:
        return hex(code)


# The cases ---------------------------------------------------------------------------------------
CASES = []


def case(section, title, expected):
    def register(fn):
        CASES.append((section, title, expected, fn))
        return fn
    return register


def closed_stream_outcome(p, stream):
    """RFC 9113 §5.1 "closed": an endpoint MAY treat a frame on a closed stream as a connection
    error of type STREAM_CLOSED (RFC 7540 said MUST; h2spec still expects it). Either that, or the
    frame ignored and the connection still working, is what the RFC allows."""
    ok, seen = p.expect_stream_error(stream, E.STREAM_CLOSED)
    if seen == "timeout":
        return p.expect_alive()
    return ok, seen


# §3.4 / §3.5 Starting HTTP/2, connection preface
@case("3.4", "sends client connection preface", "SETTINGS")
def c_preface(p):
    return True, "SETTINGS"  # handshake() already required the server's SETTINGS


@case("3.4", "sends invalid connection preface", "GOAWAY PROTOCOL_ERROR / close")
def c_bad_preface(p):
    p.send(b"INVALID CONNECTION PREFACE\r\n\r\n")
    return p.expect_connection_error(E.PROTOCOL_ERROR)
c_bad_preface.no_handshake = True


# §4.1 Frame format
@case("4.1", "frame of unknown type", "ignored")
def c_unknown_type(p):
    p.send(raw_frame(0x16, 0, 0, b"\x00" * 8))
    return p.expect_alive()


@case("4.1", "frame with undefined flags (PING 0x16)", "ignored")
def c_undefined_flags(p):
    p.send(raw_frame(PING, 0x16, 0, b"abcdefgh"))
    return p.expect_frame(lambda f: f[0] == PING and f[1] == ACK and f[3] == b"abcdefgh", "PING ACK")


@case("4.1", "frame with the reserved bit set", "ignored")
def c_reserved_bit(p):
    p.send(raw_frame(PING, 0, 0x80000000, b"reserved"))
    return p.expect_frame(lambda f: f[0] == PING and f[1] == ACK and f[3] == b"reserved", "PING ACK")


# §4.2 Frame size
@case("4.2", "DATA of 2^14 octets", "accepted")
def c_data_max(p):
    p.request(1, end_stream=False)
    p.data(1, b"\x00\x00\x00\x3f\xfb" + b"\x00" * (16384 - 5), end_stream=True)
    return p.expect_response(1)


@case("4.2", "DATA larger than SETTINGS_MAX_FRAME_SIZE", "FRAME_SIZE_ERROR")
def c_data_too_big(p):
    p.request(1, end_stream=False)
    p.data(1, b"\x00" * 16385, end_stream=True)
    return p.expect_stream_error(1, E.FRAME_SIZE_ERROR)


@case("4.2", "HEADERS larger than SETTINGS_MAX_FRAME_SIZE", "GOAWAY FRAME_SIZE_ERROR")
def c_headers_too_big(p):
    hdrs = block(request_headers() + [("x-dummy", "x" * 16384)])  # no Huffman: > 16,384 octets
    assert len(hdrs) > 16384
    p.send(raw_frame(HEADERS, END_HEADERS | END_STREAM, 1, hdrs))
    return p.expect_connection_error(E.FRAME_SIZE_ERROR)


# §4.3 Field section compression and decompression
@case("4.3", "invalid field block fragment", "GOAWAY COMPRESSION_ERROR")
def c_bad_block(p):
    p.send(raw_frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\x40\x0a"))
    return p.expect_connection_error(E.COMPRESSION_ERROR)


@case("4.3", "PRIORITY while sending a field block", "GOAWAY PROTOCOL_ERROR")
def c_priority_in_block(p):
    p.send(raw_frame(HEADERS, END_STREAM, 1, p.encoder.encode(request_headers())))
    p.send(raw_frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00\x10"))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("4.3", "HEADERS on another stream while sending a field block", "GOAWAY PROTOCOL_ERROR")
def c_headers_in_block(p):
    p.send(raw_frame(HEADERS, END_STREAM, 1, p.encoder.encode(request_headers())))
    p.send(raw_frame(HEADERS, END_STREAM | END_HEADERS, 3, p.encoder.encode(request_headers())))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §5.1 Stream states
@case("5.1", "idle: DATA", "GOAWAY PROTOCOL_ERROR")
def c_idle_data(p):
    p.data(1)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("5.1", "idle: RST_STREAM", "GOAWAY PROTOCOL_ERROR")
def c_idle_rst(p):
    p.send(raw_frame(RST_STREAM, 0, 1, struct.pack(">I", E.CANCEL)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("5.1", "idle: WINDOW_UPDATE", "GOAWAY PROTOCOL_ERROR")
def c_idle_wu(p):
    p.send(raw_frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 100)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("5.1", "idle: CONTINUATION", "GOAWAY PROTOCOL_ERROR")
def c_idle_cont(p):
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode(request_headers())))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("5.1", "half closed (remote): DATA", "STREAM_CLOSED")
def c_hcr_data(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=True)
    p.data(1, GRPC_EMPTY, end_stream=False)
    return p.expect_stream_error(1, E.STREAM_CLOSED)


@case("5.1", "half closed (remote): HEADERS", "STREAM_CLOSED")
def c_hcr_headers(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=True)
    p.request(1, path=TRACK_ALL, end_stream=True)
    return p.expect_stream_error(1, E.STREAM_CLOSED)


@case("5.1", "half closed (remote): CONTINUATION", "STREAM_CLOSED / PROTOCOL_ERROR")
def c_hcr_cont(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=True)
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode([("x-a", "b")])))
    ok, seen = p.expect_stream_error(1, E.STREAM_CLOSED)
    return ok or seen == "GOAWAY PROTOCOL_ERROR", seen


@case("5.1", "closed: DATA after RST_STREAM", "STREAM_CLOSED, or ignored (MAY)")
def c_closed_data_rst(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(RST_STREAM, 0, 1, struct.pack(">I", E.CANCEL)))
    p.data(1)
    return closed_stream_outcome(p, 1)


@case("5.1", "closed: HEADERS after RST_STREAM", "STREAM_CLOSED, or ignored (MAY)")
def c_closed_headers_rst(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(RST_STREAM, 0, 1, struct.pack(">I", E.CANCEL)))
    p.request(1)
    return closed_stream_outcome(p, 1)


@case("5.1", "closed: CONTINUATION after RST_STREAM", "STREAM_CLOSED / PROTOCOL_ERROR")
def c_closed_cont_rst(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(RST_STREAM, 0, 1, struct.pack(">I", E.CANCEL)))
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode([("x-a", "b")])))
    ok, seen = p.expect_stream_error(1, E.STREAM_CLOSED)
    return ok or seen == "GOAWAY PROTOCOL_ERROR", seen


@case("5.1", "closed: DATA after END_STREAM both ways", "STREAM_CLOSED, or ignored (MAY)")
def c_closed_data_end(p):
    p.request(1, end_stream=False)
    p.data(1)
    ok, seen = p.expect_frame(lambda f: f[0] == HEADERS and f[2] == 1 and f[1] & END_STREAM, "trailers")
    if not ok:
        return False, seen
    p.data(1)
    return closed_stream_outcome(p, 1)


@case("5.1", "closed: HEADERS after END_STREAM both ways", "STREAM_CLOSED, or ignored (MAY)")
def c_closed_headers_end(p):
    p.request(1, end_stream=False)
    p.data(1)
    ok, seen = p.expect_frame(lambda f: f[0] == HEADERS and f[2] == 1 and f[1] & END_STREAM, "trailers")
    if not ok:
        return False, seen
    p.request(1)
    return closed_stream_outcome(p, 1)


# §5.1.1 Stream identifiers
@case("5.1.1", "even-numbered stream identifier", "GOAWAY PROTOCOL_ERROR")
def c_even(p):
    p.request(2)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("5.1.1", "stream identifier smaller than a previous one", "GOAWAY PROTOCOL_ERROR")
def c_smaller(p):
    p.request(5)
    p.request(3)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §5.1.2 Stream concurrency
@case("5.1.2", "exceeds SETTINGS_MAX_CONCURRENT_STREAMS", "PROTOCOL_ERROR / REFUSED_STREAM")
def c_concurrency(p):
    limit = p.server_settings.get(S.MAX_CONCURRENT_STREAMS)
    if limit is None or limit > 5000:
        return False, f"no usable limit advertised ({limit})"
    out = b""
    for i in range(limit + 1):
        out += raw_frame(HEADERS, END_HEADERS, 1 + 2 * i, p.encoder.encode(request_headers(TRACK_ALL)))
    p.send(out)
    last = 1 + 2 * limit
    ok, seen = p.expect_stream_error(last, E.REFUSED_STREAM)
    return ok or seen in ("RST_STREAM PROTOCOL_ERROR", "GOAWAY PROTOCOL_ERROR"), f"{seen} (limit {limit})"


# §5.3.1 Stream dependencies
@case("5.3.1", "HEADERS depending on itself", "PROTOCOL_ERROR")
def c_self_dep_headers(p):
    hb = p.encoder.encode(request_headers())
    p.send(raw_frame(HEADERS, END_HEADERS | END_STREAM | PRIORITY_FLAG, 1, struct.pack(">IB", 1, 15) + hb))
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


@case("5.3.1", "PRIORITY depending on itself", "PROTOCOL_ERROR")
def c_self_dep_priority(p):
    p.send(raw_frame(PRIORITY, 0, 1, struct.pack(">IB", 1, 15)))
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


# §5.4 Error handling
@case("5.4.1", "invalid PING (stream 1): GOAWAY, then the connection closes", "GOAWAY PROTOCOL_ERROR + close")
def c_goaway_then_close(p):
    p.send(raw_frame(PING, 0, 1, b"12345678"))
    ok, seen = p.expect_connection_error(E.PROTOCOL_ERROR)
    if not ok or seen == "closed":
        return ok, seen
    try:
        while True:
            if p.read(TIMEOUT) is None:
                return False, seen + ", still open"
    except Closed:
        return True, seen + ", closed"


# §5.5 Extending HTTP/2
@case("5.5", "unknown extension frame", "ignored")
def c_extension(p):
    p.send(raw_frame(0xFF, 0, 0, b"unknown!"))
    return p.expect_alive()


@case("5.5", "unknown extension frame in the middle of a field block", "GOAWAY PROTOCOL_ERROR")
def c_extension_in_block(p):
    p.send(raw_frame(HEADERS, END_STREAM, 1, p.encoder.encode(request_headers())))
    p.send(raw_frame(0xFF, 0, 1, b"unknown!"))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §6.1 DATA
@case("6.1", "DATA on stream 0", "GOAWAY PROTOCOL_ERROR")
def c_data_0(p):
    p.data(0)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.1", "DATA on a stream not open or half closed (local)", "STREAM_CLOSED")
def c_data_hcr(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=True)
    p.data(1)
    return p.expect_stream_error(1, E.STREAM_CLOSED)


@case("6.1", "DATA with invalid pad length", "GOAWAY PROTOCOL_ERROR")
def c_data_pad(p):
    p.request(1, end_stream=False)
    p.send(raw_frame(DATA, PADDED | END_STREAM, 1, b"\x06" + b"\x00" * 5))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §6.2 HEADERS
@case("6.2", "HEADERS with END_HEADERS, then CONTINUATION", "GOAWAY PROTOCOL_ERROR")
def c_headers_cont(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode([("x-a", "b")])))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.2", "HEADERS on stream 0", "GOAWAY PROTOCOL_ERROR")
def c_headers_0(p):
    p.request(0)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.2", "HEADERS with invalid pad length", "GOAWAY PROTOCOL_ERROR")
def c_headers_pad(p):
    hb = p.encoder.encode(request_headers())
    p.send(raw_frame(HEADERS, PADDED | END_HEADERS | END_STREAM, 1, bytes([len(hb) + 1]) + hb))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.2", "HEADERS without END_HEADERS, then DATA", "GOAWAY PROTOCOL_ERROR")
def c_headers_then_data(p):
    p.send(raw_frame(HEADERS, 0, 1, p.encoder.encode(request_headers())))
    p.data(1)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §6.3 PRIORITY
@case("6.3", "PRIORITY on stream 0", "GOAWAY PROTOCOL_ERROR")
def c_priority_0(p):
    p.send(raw_frame(PRIORITY, 0, 0, struct.pack(">IB", 0, 15)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.3", "PRIORITY of length 4", "FRAME_SIZE_ERROR")
def c_priority_len(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00"))
    return p.expect_stream_error(1, E.FRAME_SIZE_ERROR)


@case("6.3", "PRIORITY on an idle stream", "ignored")
def c_priority_idle(p):
    p.send(raw_frame(PRIORITY, 0, 7, struct.pack(">IB", 0, 15)))
    return p.expect_alive()


# §6.4 RST_STREAM
@case("6.4", "RST_STREAM on stream 0", "GOAWAY PROTOCOL_ERROR")
def c_rst_0(p):
    p.send(raw_frame(RST_STREAM, 0, 0, struct.pack(">I", E.CANCEL)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.4", "RST_STREAM on an idle stream", "GOAWAY PROTOCOL_ERROR")
def c_rst_idle(p):
    p.send(raw_frame(RST_STREAM, 0, 3, struct.pack(">I", E.CANCEL)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.4", "RST_STREAM of length 3", "GOAWAY FRAME_SIZE_ERROR")
def c_rst_len(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(RST_STREAM, 0, 1, b"\x00\x00\x08"))
    return p.expect_connection_error(E.FRAME_SIZE_ERROR)


# §6.5 SETTINGS
@case("6.5", "SETTINGS ACK with a payload", "GOAWAY FRAME_SIZE_ERROR")
def c_settings_ack_len(p):
    p.send(raw_frame(SETTINGS, ACK, 0, b"\x00\x01\x00\x00\x10\x00"))
    return p.expect_connection_error(E.FRAME_SIZE_ERROR)


@case("6.5", "SETTINGS on stream 1", "GOAWAY PROTOCOL_ERROR")
def c_settings_stream(p):
    p.send(raw_frame(SETTINGS, 0, 1, b"\x00\x01\x00\x00\x10\x00"))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.5", "SETTINGS of length 3", "GOAWAY FRAME_SIZE_ERROR")
def c_settings_len(p):
    p.send(raw_frame(SETTINGS, 0, 0, b"\x00\x01\x00"))
    return p.expect_connection_error(E.FRAME_SIZE_ERROR)


@case("6.5.2", "SETTINGS_ENABLE_PUSH = 2", "GOAWAY PROTOCOL_ERROR")
def c_enable_push(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.ENABLE_PUSH, 2)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.5.2", "SETTINGS_INITIAL_WINDOW_SIZE = 2^31", "GOAWAY FLOW_CONTROL_ERROR")
def c_initial_window(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.INITIAL_WINDOW_SIZE, 1 << 31)))
    return p.expect_connection_error(E.FLOW_CONTROL_ERROR)


@case("6.5.2", "SETTINGS_MAX_FRAME_SIZE = 16383", "GOAWAY PROTOCOL_ERROR")
def c_max_frame_small(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.MAX_FRAME_SIZE, 16383)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.5.2", "SETTINGS_MAX_FRAME_SIZE = 2^24", "GOAWAY PROTOCOL_ERROR")
def c_max_frame_big(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.MAX_FRAME_SIZE, 1 << 24)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.5.2", "unknown setting", "ignored, ACKed")
def c_unknown_setting(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", 0xFF, 1)))
    return p.expect_frame(lambda f: f[0] == SETTINGS and f[1] & ACK, "SETTINGS ACK")


@case("6.5.3", "SETTINGS is acknowledged", "SETTINGS ACK")
def c_settings_ack(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.HEADER_TABLE_SIZE, 4096)))
    return p.expect_frame(lambda f: f[0] == SETTINGS and f[1] & ACK, "SETTINGS ACK")


# §6.7 PING
@case("6.7", "PING", "PING ACK with the same payload")
def c_ping(p):
    return p.expect_alive(b"\x01\x02\x03\x04\x05\x06\x07\x08")


@case("6.7", "PING with ACK", "no answer")
def c_ping_ack(p):
    p.send(raw_frame(PING, ACK, 0, b"unsolici"))
    ok, seen = p.expect_frame(lambda f: f[0] == PING and f[3] == b"unsolici", "answered the ACK")
    if ok:
        return False, seen
    return p.expect_alive()


@case("6.7", "PING on stream 1", "GOAWAY PROTOCOL_ERROR")
def c_ping_stream(p):
    p.send(raw_frame(PING, 0, 1, b"12345678"))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.7", "PING of length 6", "GOAWAY FRAME_SIZE_ERROR")
def c_ping_len(p):
    p.send(raw_frame(PING, 0, 0, b"123456"))
    return p.expect_connection_error(E.FRAME_SIZE_ERROR)


# §6.8 GOAWAY
@case("6.8", "GOAWAY on stream 1", "GOAWAY PROTOCOL_ERROR")
def c_goaway_stream(p):
    p.send(raw_frame(GOAWAY, 0, 1, struct.pack(">II", 0, 0)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §6.9 WINDOW_UPDATE
@case("6.9", "WINDOW_UPDATE of 0 on the connection", "GOAWAY PROTOCOL_ERROR")
def c_wu_zero_conn(p):
    p.send(raw_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0)))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.9", "WINDOW_UPDATE of 0 on a stream", "PROTOCOL_ERROR")
def c_wu_zero_stream(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0)))
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


@case("6.9", "WINDOW_UPDATE of length 3", "GOAWAY FRAME_SIZE_ERROR")
def c_wu_len(p):
    p.send(raw_frame(WINDOW_UPDATE, 0, 0, b"\x00\x00\x01"))
    return p.expect_connection_error(E.FRAME_SIZE_ERROR)


def _first_data_length(p, stream):
    deadline = time.time() + TIMEOUT
    try:
        while time.time() < deadline:
            f = p.read(deadline - time.time())
            if f and f[0] == DATA and f[2] == stream:
                return len(f[3])
    except Closed:
        return None
    return None


@case("6.9.1", "SETTINGS_INITIAL_WINDOW_SIZE 1: the first DATA has 1 octet", "DATA of length 1")
def c_window_1_len(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.INITIAL_WINDOW_SIZE, 1)))
    p.request(1, end_stream=False)
    p.data(1)
    n = _first_data_length(p, 1)
    return n == 1, f"DATA of length {n}"


@case("6.9.1", "connection window above 2^31-1", "GOAWAY FLOW_CONTROL_ERROR")
def c_conn_window_overflow(p):
    p.send(raw_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)))
    return p.expect_connection_error(E.FLOW_CONTROL_ERROR)


@case("6.9.1", "stream window above 2^31-1", "FLOW_CONTROL_ERROR")
def c_stream_window_overflow(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0x7FFFFFFF)))
    return p.expect_stream_error(1, E.FLOW_CONTROL_ERROR)


@case("6.9.2", "INITIAL_WINDOW_SIZE raised after HEADERS: DATA resumes", "DATA of length 1")
def c_window_raised(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.INITIAL_WINDOW_SIZE, 0)))
    p.request(1, end_stream=False)
    p.data(1)
    p.expect_response(1)
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.INITIAL_WINDOW_SIZE, 1)))
    n = _first_data_length(p, 1)
    return n == 1, f"DATA of length {n}"


@case("6.9.2", "window made negative by SETTINGS, then reopened", "DATA of length 1")
def c_window_negative(p):
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.INITIAL_WINDOW_SIZE, 3)))
    p.request(1, end_stream=False)
    p.data(1)
    n = _first_data_length(p, 1)
    if n != 3:
        return False, f"first DATA of length {n}"
    p.send(raw_frame(SETTINGS, 0, 0, struct.pack(">HI", S.INITIAL_WINDOW_SIZE, 2)))  # window now -1
    p.send(raw_frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 2)))                       # window now 1
    n = _first_data_length(p, 1)
    return n == 1, f"DATA of length {n}"


# §6.10 CONTINUATION
@case("6.10", "HEADERS then several CONTINUATION frames", "response")
def c_cont_many(p):
    hb = p.encoder.encode(request_headers())
    p.send(raw_frame(HEADERS, END_STREAM, 1, hb[:4]) + raw_frame(CONTINUATION, 0, 1, hb[4:10])
           + raw_frame(CONTINUATION, END_HEADERS, 1, hb[10:]))
    return p.expect_response(1)


@case("6.10", "CONTINUATION followed by a frame other than CONTINUATION", "GOAWAY PROTOCOL_ERROR")
def c_cont_then_data(p):
    hb = p.encoder.encode(request_headers())
    p.send(raw_frame(HEADERS, 0, 1, hb[:4]) + raw_frame(CONTINUATION, 0, 1, hb[4:]))
    p.data(1)
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.10", "CONTINUATION on stream 0", "GOAWAY PROTOCOL_ERROR")
def c_cont_0(p):
    hb = p.encoder.encode(request_headers())
    p.send(raw_frame(HEADERS, END_STREAM, 1, hb[:4]) + raw_frame(CONTINUATION, END_HEADERS, 0, hb[4:]))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.10", "CONTINUATION after HEADERS with END_HEADERS", "GOAWAY PROTOCOL_ERROR")
def c_cont_after_end(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode([("x-a", "b")])))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.10", "CONTINUATION after CONTINUATION with END_HEADERS", "GOAWAY PROTOCOL_ERROR")
def c_cont_after_cont_end(p):
    hb = p.encoder.encode(request_headers(TRACK_ALL))
    p.send(raw_frame(HEADERS, 0, 1, hb[:4]) + raw_frame(CONTINUATION, END_HEADERS, 1, hb[4:]))
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode([("x-a", "b")])))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.10", "CONTINUATION after DATA", "GOAWAY PROTOCOL_ERROR")
def c_cont_after_data(p):
    p.request(1, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=False)
    p.send(raw_frame(CONTINUATION, END_HEADERS, 1, p.encoder.encode([("x-a", "b")])))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("6.10", "CONTINUATION on a different stream", "GOAWAY PROTOCOL_ERROR")
def c_cont_other_stream(p):
    hb = p.encoder.encode(request_headers())
    p.send(raw_frame(HEADERS, END_STREAM, 1, hb[:4]) + raw_frame(CONTINUATION, END_HEADERS, 3, hb[4:]))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


# §7 Error codes
@case("7", "GOAWAY with an unknown error code", "no connection error")
def c_goaway_unknown(p):
    p.send(raw_frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0xFF)))
    ok, seen = p.expect_alive()
    return ok or seen in ("closed", "GOAWAY NO_ERROR"), seen


@case("7", "RST_STREAM with an unknown error code", "no connection error")
def c_rst_unknown(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(RST_STREAM, 0, 1, struct.pack(">I", 0xFF)))
    return p.expect_alive()


# §8.1 HTTP message framing
@case("8.1", "second HEADERS without END_STREAM (trailers must end the stream)", "PROTOCOL_ERROR")
def c_trailers_no_end(p):
    p.request(1, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=False)
    p.send(raw_frame(HEADERS, END_HEADERS, 1, block([("x-trailer", "1")])))
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


@case("8.1.1", "content-length 1 with 5 octets of DATA", "PROTOCOL_ERROR")
def c_content_length(p):
    p.send(raw_frame(HEADERS, END_HEADERS, 1, p.encoder.encode(request_headers(extra=[("content-length", "1")]))))
    p.data(1)
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


@case("8.1.1", "content-length 10 with DATA frames totalling 5", "PROTOCOL_ERROR")
def c_content_length_frames(p):
    p.send(raw_frame(HEADERS, END_HEADERS, 1, p.encoder.encode(request_headers(extra=[("content-length", "10")]))))
    p.data(1, b"\x00\x00", end_stream=False)
    p.data(1, b"\x00\x00\x00", end_stream=True)
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


def malformed(section, title, headers):
    @case(section, title, "PROTOCOL_ERROR")
    def run(p):
        p.send(raw_frame(HEADERS, END_HEADERS | END_STREAM, 1, block(headers)))
        return p.expect_stream_error(1, E.PROTOCOL_ERROR)
    return run


BASE = request_headers()
without = lambda n: [h for h in BASE if h[0] != n]  # noqa: E731
malformed("8.2", "field name in uppercase", BASE + [("X-Upper", "a")])
malformed("8.2.1", "field value with NUL", BASE + [("x-a", "a\x00b")])
malformed("8.2.1", "field value with CR LF", BASE + [("x-a", "a\r\nb")])
malformed("8.2.1", "field value with leading space", BASE + [("x-a", " a")])
malformed("8.2.1", "field value with trailing tab", BASE + [("x-a", "a\t")])
malformed("8.2.1", "field name with a space", BASE + [("x a", "b")])
malformed("8.2.1", "empty field name", BASE + [("", "b")])
malformed("8.2.2", "connection-specific field: connection", BASE + [("connection", "keep-alive")])
malformed("8.2.2", "connection-specific field: transfer-encoding", BASE + [("transfer-encoding", "chunked")])
malformed("8.2.2", "connection-specific field: upgrade", BASE + [("upgrade", "h2c")])
malformed("8.2.2", "TE other than trailers", [h for h in BASE if h[0] != "te"] + [("te", "trailers, deflate")])
malformed("8.3", "unknown pseudo-header", BASE + [(":foo", "bar")])
malformed("8.3", "response pseudo-header in a request", BASE + [(":status", "200")])
malformed("8.3", "pseudo-header after a regular field", BASE[:3] + [("x-a", "b")] + BASE[3:4] + BASE[4:])
malformed("8.3.1", "empty :path", [(":path", "") if h[0] == ":path" else h for h in BASE])
malformed("8.3.1", "no :method", without(":method"))
malformed("8.3.1", "no :scheme", without(":scheme"))
malformed("8.3.1", "no :path", without(":path"))
malformed("8.3.1", "duplicate :method", BASE[:1] + BASE)
malformed("8.3.1", "duplicate :scheme", BASE[:2] + [(":scheme", "https")] + BASE[2:])
malformed("8.3.1", "duplicate :path", BASE[:3] + [(":path", HEALTH)] + BASE[3:])


@case("8.1", "pseudo-header in trailers", "PROTOCOL_ERROR")
def c_pseudo_trailers(p):
    p.request(1, end_stream=False)
    p.data(1, GRPC_EMPTY, end_stream=False)
    p.send(raw_frame(HEADERS, END_HEADERS | END_STREAM, 1, block([(":method", "POST")])))
    return p.expect_stream_error(1, E.PROTOCOL_ERROR)


@case("8.4", "client sends PUSH_PROMISE", "GOAWAY PROTOCOL_ERROR")
def c_push_promise(p):
    p.request(1, path=TRACK_ALL, end_stream=False)
    p.send(raw_frame(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2) + p.encoder.encode(request_headers())))
    return p.expect_connection_error(E.PROTOCOL_ERROR)


@case("8", "valid request through the h2 library", "response :status 200")
def c_h2_library(p):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    # p has already done its own preface; use a fresh socket for the library's connection.
    q = Peer(*p.address)
    try:
        q.send(conn.data_to_send())
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, request_headers())
        conn.send_data(sid, GRPC_EMPTY, end_stream=True)
        q.send(conn.data_to_send())
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            q.sock.settimeout(TIMEOUT)
            data = q.sock.recv(65536)
            if not data:
                return False, "closed"
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers).get(":status")
                    return status == "200", f":status {status}"
            q.send(conn.data_to_send())
        return False, "timeout"
    finally:
        q.close()


# HPACK (RFC 7541)
def hpack_case(section, title, payload):
    @case(section, title, "GOAWAY COMPRESSION_ERROR")
    def run(p):
        p.send(raw_frame(HEADERS, END_HEADERS | END_STREAM, 1, payload))
        return p.expect_connection_error(E.COMPRESSION_ERROR)
    return run


hpack_case("HPACK 2.3.3", "index beyond the static and dynamic tables", b"\xbe")
hpack_case("HPACK 4.2", "dynamic table size update at the end of a block", block(BASE) + b"\x3f\xe1\x1f")
hpack_case("HPACK 5.2", "Huffman string with EOS", b"\x00\x84\xff\xff\xff\xff\x01a")
hpack_case("HPACK 5.2", "Huffman padding longer than 7 bits", b"\x00\x82\x1f\xff\x01a")
hpack_case("HPACK 5.2", "Huffman padding not the EOS prefix", b"\x00\x81\x18\x01a")
hpack_case("HPACK 6.1", "indexed field with index 0", b"\x80")
hpack_case("HPACK 6.3", "dynamic table size update above SETTINGS_HEADER_TABLE_SIZE", b"\x3f\xe2\x1f" + block(BASE))


# Runner ------------------------------------------------------------------------------------------
def main():
    global TIMEOUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", help="HOST:PORT of a running paytrackd (default: start one)")
    ap.add_argument("--paytrackd", default=os.environ.get("PAYTRACKD", str(ROOT / ".build/debug/paytrackd")))
    ap.add_argument("--timeout", type=float, default=TIMEOUT)
    ap.add_argument("-k", help="only cases whose section or title contains this text")
    args = ap.parse_args()
    TIMEOUT = args.timeout
    proc = work = None
    if args.target:
        host, port = args.target.rsplit(":", 1)
        port = int(port)
    else:
        host = "127.0.0.1"
        proc, port, work = start_daemon(args.paytrackd, ready=lambda port: Peer("127.0.0.1", port).close())
    results = []
    try:
        for section, title, expected, fn in CASES:
            if args.k and args.k not in section and args.k not in title:
                continue
            p = Peer(host, port)
            p.address = (host, port)
            try:
                if not getattr(fn, "no_handshake", False):
                    p.handshake()
                ok, seen = fn(p)
            except Exception as e:  # noqa: a case that cannot run is a failure, with its reason
                ok, seen = False, f"{type(e).__name__}: {e}"
            finally:
                p.close()
            results.append((section, title, expected, seen, ok))
        alive = proc is None or proc.poll() is None
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=15)
    w = max(len(t) for _, t, _, _, _ in results)
    print(f"{'section':<12} {'case':<{w}}  {'expected':<32} {'seen':<32} result")
    for section, title, expected, seen, ok in results:
        print(f"{section:<12} {title:<{w}}  {expected:<32} {seen:<32} {'PASS' if ok else 'FAIL'}")
    passed = sum(1 for r in results if r[4])
    print(f"\n{passed}/{len(results)} cases passed; daemon {'still running at the end' if alive else 'DIED'}"
          f"{' (stopped cleanly)' if proc and proc.returncode == 0 else ''}")
    if work:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if passed == len(results) and alive else 1)


if __name__ == "__main__":
    main()
