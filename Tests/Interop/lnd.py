"""Shared helpers for the payment interop tests (test_track_payment*.py, test_send_payment.py,
test_invoices_rpc.py, test_list_delete_payments.py, test_restart.py, test_seed_sample.py).

- `Net`: one paytrackd serving alice (primary, --rpclisten) and extra simulated nodes via
  `--serve NAME=127.0.0.1:PORT` (each with its own datadir under DATADIR/nodes/NAME, own TLS
  cert and macaroons); `net.alice`, `net.node("bob")` are `Node`s with Lightning and Router stubs.
- The built-in topology (Sources/Simnet/DefaultTopology.swift) restated as data, so tests can
  compute the fees and time locks a route must have from the channel policies, independently of
  the daemon.
- Stream helpers: a background reader that collects a server stream with timestamps.

The stubs come from harness.generate_stubs() (run by conftest's pytest_configure).
"""
import hashlib
import os
import queue
import threading
import time

import grpc

import harness
import lightning_pb2 as ln
import lightning_pb2_grpc as lnstub
from routerrpc import router_pb2 as rt
from routerrpc import router_pb2_grpc as rtstub

ZERO_PREIMAGE = "0" * 64
KEYSEND_TYPE = 5482373484

# Payment.PaymentStatus
UNKNOWN, IN_FLIGHT, SUCCEEDED, FAILED, INITIATED = 0, 1, 2, 3, 4
# HTLCAttempt.HTLCStatus
HTLC_IN_FLIGHT, HTLC_SUCCEEDED, HTLC_FAILED = 0, 1, 2

# ------------------------------------------------------------------------------------------------
# The default topology, restated (DefaultTopology.make): (a, b, capacity sat, balance of a in sat,
# private, policy of a (base msat, ppm, delta), policy of b). Channel n (1-based) has the short
# channel id 700000+n : n : 0.
_DEF = (1000, 1, 40)
TOPOLOGY = [
    ("alice", "carol", 5_000_000, 4_000_000, False, _DEF, (1000, 100, 40)),
    ("alice", "dave", 2_000_000, 1_500_000, False, _DEF, (0, 50, 144)),
    ("alice", "erin", 1_000_000, 800_000, False, _DEF, (500, 10, 40)),
    ("carol", "bob", 3_000_000, 2_500_000, False, (1000, 500, 40), _DEF),
    ("dave", "bob", 2_000_000, 1_200_000, False, (0, 50, 144), _DEF),
    ("erin", "frank", 1_000_000, 700_000, False, (500, 10, 40), _DEF),
    ("frank", "bob", 1_000_000, 600_000, False, (500, 10, 40), _DEF),
    ("carol", "grace", 200_000, 150_000, False, (100, 1, 18), _DEF),
    ("grace", "bob", 200_000, 150_000, False, (100, 1, 18), _DEF),
    ("dave", "heidi", 300_000, 200_000, False, (0, 50, 144), _DEF),
    ("heidi", "bob", 300_000, 250_000, False, (200, 5, 40), _DEF),
    ("heidi", "grace", 1_000_000, 500_000, False, _DEF, _DEF),
    ("frank", "carol", 1_000_000, 500_000, False, _DEF, _DEF),
    ("erin", "grace", 500_000, 250_000, False, _DEF, _DEF),
    ("bob", "ivan", 2_000_000, 1_000_000, False, _DEF, _DEF),
    ("ivan", "judy", 1_000_000, 500_000, False, _DEF, _DEF),
    ("judy", "mallory", 500_000, 400_000, True, (1000, 100, 40), _DEF),
]
START_HEIGHT = 800_000


def scid(n):
    """Short channel id of topology channel n (1-based): block 700000+n, tx n, output 0."""
    return ((700_000 + n) << 40) | (n << 16)


CHANNELS = {scid(i + 1): c for i, c in enumerate(TOPOLOGY)}


def policy_of(chan_id, alias):
    """(base_msat, ppm, delta) that `alias` charges to forward over `chan_id`."""
    a, b, _, _, _, pa, pb = CHANNELS[chan_id]
    assert alias in (a, b), f"{alias} is not an end of channel {chan_id}"
    return pa if alias == a else pb


def other_end(chan_id, alias):
    a, b = CHANNELS[chan_id][:2]
    assert alias in (a, b), f"{alias} is not an end of channel {chan_id} ({a}-{b})"
    return b if alias == a else a


def route_aliases(route, source="alice"):
    """Walks the route's channels from `source`: the alias of every hop, in order."""
    names, here = [], source
    for hop in route.hops:
        here = other_end(hop.chan_id, here)
        names.append(here)
    return names


def check_route_policies(route, amount_msat, source="alice"):
    """Asserts the route's amounts, per-hop fees, expiries and totals follow the default
    topology's policies exactly (LND's fee = base + amt_to_forward * ppm / 1e6, rounded down;
    hop i's fee is charged by hop i's node for forwarding over hop i+1's channel).
    Returns the hop aliases."""
    names = route_aliases(route, source)
    hops = route.hops
    assert hops[-1].amt_to_forward_msat == amount_msat
    assert hops[-1].fee_msat == 0
    # hops[i] is node i: it receives over hops[i].chan_id and forwards hops[i].amt_to_forward
    # over hops[i+1].chan_id, charging its policy there on that outgoing amount (LND HopFee).
    for i in range(len(hops) - 1):
        base, ppm, delta = policy_of(hops[i + 1].chan_id, names[i])
        out_amt = hops[i].amt_to_forward_msat
        expect_fee = base + out_amt * ppm // 1_000_000
        assert hops[i].fee_msat == expect_fee, (i, names, hops[i].fee_msat, expect_fee)
        assert out_amt == hops[i + 1].amt_to_forward_msat + hops[i + 1].fee_msat
        # Node i+1's incoming expiry (hops[i].expiry) exceeds its outgoing one by its delta;
        # the final node has no outgoing channel.
        if i + 2 < len(hops):
            _, _, next_delta = policy_of(hops[i + 2].chan_id, names[i + 1])
        else:
            next_delta = 0
        assert hops[i].expiry == hops[i + 1].expiry + next_delta, (i, names)
    for h in hops:
        assert h.fee == h.fee_msat // 1000
        assert h.amt_to_forward == h.amt_to_forward_msat // 1000
    total_fees = sum(h.fee_msat for h in hops)
    assert route.total_fees_msat == total_fees
    assert route.total_fees == total_fees // 1000
    assert route.total_amt_msat == amount_msat + total_fees
    assert route.total_amt == route.total_amt_msat // 1000
    # §7: chan_capacity is the hop's incoming amount in sat (LND's approximation).
    incoming = route.total_amt_msat
    for h in hops:
        assert h.chan_capacity == incoming // 1000
        assert h.tlv_payload is True
        incoming = h.amt_to_forward_msat
    # The sender's HTLC expiry: first hop's outgoing expiry plus its node's delta.
    if len(hops) > 1:
        _, _, d0 = policy_of(hops[1].chan_id, names[0])
        assert route.total_time_lock == hops[0].expiry + d0
    else:
        assert route.total_time_lock == hops[0].expiry
    return names


# ------------------------------------------------------------------------------------------------
class Node:
    """One served node: a TLS channel with the admin macaroon and the two stubs."""

    def __init__(self, daemon, options=None):
        self.daemon = daemon
        self.channel = daemon.channel(options=options)
        self.ln = lnstub.LightningStub(self.channel)
        self.router = rtstub.RouterStub(self.channel)
        self._pubkey = None

    @property
    def pubkey(self):
        if self._pubkey is None:
            self._pubkey = self.ln.GetInfo(ln.GetInfoRequest(), timeout=10).identity_pubkey
        return self._pubkey

    def close(self):
        self.channel.close()

    # Convenience calls -------------------------------------------------------------------------
    def add_invoice(self, **kw):
        return self.ln.AddInvoice(ln.Invoice(**kw), timeout=10)

    def send(self, timeout=60, **kw):
        """SendPaymentV2 to completion: the list of streamed payments."""
        kw.setdefault("timeout_seconds", 30)
        kw.setdefault("fee_limit_sat", 100_000)
        return list(self.router.SendPaymentV2(rt.SendPaymentRequest(**kw), timeout=timeout))

    def send_error(self, **kw):
        """SendPaymentV2 that must fail at once: the grpc.RpcError."""
        kw.setdefault("timeout_seconds", 30)
        try:
            out = list(self.router.SendPaymentV2(rt.SendPaymentRequest(**kw), timeout=20))
        except grpc.RpcError as e:
            return e
        raise AssertionError(f"SendPaymentV2 succeeded unexpectedly: {out}")

    def track(self, payment_hash, no_inflight_updates=False, timeout=60):
        return list(self.router.TrackPaymentV2(
            rt.TrackPaymentRequest(payment_hash=payment_hash, no_inflight_updates=no_inflight_updates),
            timeout=timeout))

    def list_payments(self, **kw):
        return self.ln.ListPayments(ln.ListPaymentsRequest(**kw), timeout=10)


class Net:
    """paytrackd serving alice on its --rpclisten plus `serve` nodes on their own ports."""

    def __init__(self, datadir, *flags, serve=("bob",), channel_options=None):
        self.datadir = datadir
        self.channel_options = channel_options
        self.ports = {name: harness.free_port() for name in serve}
        args = []
        for name in serve:
            args += ["--serve", f"{name}=127.0.0.1:{self.ports[name]}"]
        self.daemon = harness.Daemon(datadir, *args, *flags)
        self.nodes = {}

    def start(self, timeout=30):
        """`timeout`: seconds for the daemon to be ready (more where startup is slow by design,
        e.g. a macaroon password's key derivation on a loaded machine)."""
        self.daemon.start(timeout=timeout)
        sub = {}
        for name, port in self.ports.items():
            d = harness.Daemon(self.datadir / "nodes" / name)
            d.port = port
            deadline = time.time() + max(20, timeout)
            while not (d.cert_path.exists() and d._tls_ready()):
                if time.time() > deadline:
                    raise TimeoutError(f"{name} did not listen:\n{self.daemon.read_log()}")
                time.sleep(0.05)
            sub[name] = d
        self.nodes = {"alice": Node(self.daemon, self.channel_options)}
        self.nodes.update({name: Node(d, self.channel_options) for name, d in sub.items()})
        return self

    @property
    def alice(self):
        return self.nodes["alice"]

    def node(self, name):
        return self.nodes[name]

    def close_channels(self):
        for n in self.nodes.values():
            n.close()
        self.nodes = {}

    def stop(self):
        self.close_channels()
        return self.daemon.stop()

    def kill9(self):
        self.close_channels()
        self.daemon.kill9()

    def read_log(self):
        return self.daemon.read_log()


# ------------------------------------------------------------------------------------------------
# grpcio's BDP probe pings the server whenever it receives data; see test_track_payments.py
# test_default_grpcio_channel_survives_a_busy_stream for why some modules turn it off.
NO_BDP_PROBE = [("grpc.http2.bdp_probe", 0)]


class StreamReader:
    """Reads a server stream on a thread; `items` gets (monotonic time, message) pairs; `error`
    the terminating RpcError (None if the stream ended OK); `done` is set when it ended."""

    def __init__(self, call):
        self.call = call
        self.items = []
        self.q = queue.Queue()
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for msg in self.call:
                self.items.append((time.monotonic(), msg))
                self.q.put(msg)
        except grpc.RpcError as e:
            self.error = e
        finally:
            self.done.set()

    def next(self, timeout=20):
        return self.q.get(timeout=timeout)

    def wait_for(self, pred, timeout=30):
        """Messages until one satisfies pred; returns that one."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no matching stream message")
            msg = self.q.get(timeout=left)
            if pred(msg):
                return msg

    def no_message_for(self, seconds):
        try:
            msg = self.q.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected stream message: {msg}")

    def cancel(self):
        self.call.cancel()
        self.done.wait(10)

    @property
    def messages(self):
        return [m for _, m in self.items]


def preimage_and_hash(seed=None):
    pre = os.urandom(32) if seed is None else hashlib.sha256(seed).digest()
    return pre, hashlib.sha256(pre).digest()


def wait_until(pred, timeout=30, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def assert_rpc_error(err, code, details):
    assert isinstance(err, grpc.RpcError), err
    assert (err.code(), err.details()) == (code, details)


def check_payment_common(p, *, value_msat, payment_request=""):
    """§7 marshalling facts every snapshot has."""
    assert len(p.payment_hash) == 64 and p.payment_hash == p.payment_hash.lower()
    bytes.fromhex(p.payment_hash)
    assert p.value_msat == value_msat
    assert p.value_sat == value_msat // 1000
    assert p.value == value_msat // 1000
    assert p.creation_time_ns > 0
    assert p.creation_date == p.creation_time_ns // 1_000_000_000
    assert abs(p.creation_date - time.time()) < 600
    assert p.payment_request == payment_request
    assert p.payment_index > 0
    assert len(p.payment_preimage) == 64
    # Fees only over settled attempts.
    settled_fees = sum(h.route.total_fees_msat for h in p.htlcs if h.status == HTLC_SUCCEEDED)
    assert p.fee_msat == settled_fees
    assert p.fee_sat == settled_fees // 1000
    assert p.fee == settled_fees // 1000
    for h in p.htlcs:
        assert h.attempt_time_ns > 0
        if h.status == HTLC_IN_FLIGHT:
            assert h.resolve_time_ns == 0
            assert not h.HasField("failure")
            assert h.preimage == b""
        elif h.status == HTLC_SUCCEEDED:
            assert h.resolve_time_ns >= h.attempt_time_ns
            assert len(h.preimage) == 32
            assert not h.HasField("failure")
        else:
            assert h.resolve_time_ns >= h.attempt_time_ns
            assert h.HasField("failure")
    if p.status == SUCCEEDED:
        assert any(h.status == HTLC_SUCCEEDED for h in p.htlcs)
        pre = bytes.fromhex(p.payment_preimage)
        assert hashlib.sha256(pre).hexdigest() == p.payment_hash
        for h in p.htlcs:
            if h.status == HTLC_SUCCEEDED:
                assert h.preimage == pre
    else:
        assert p.payment_preimage == ZERO_PREIMAGE
