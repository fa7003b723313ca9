"""The `paytrack` CLI against the real paytrackd: alice on --rpclisten, bob on --serve, both in
the daemon's simulated network. Every test runs the CLI binary (PAYTRACK_CLI, default
.build/debug/paytrack) as a user would and checks its JSON output, exit status and stderr;
results are cross-checked with an independent client (grpcio stubs from Protos/) where that
proves more than the CLI agreeing with itself.
"""
import base64
import hashlib
import json
import os
import stat
import subprocess
import time

import pytest

import harness

UNKNOWN_HASH = "00" * 31 + "ff"
KEYSEND_TYPE = 5482373484
MACAROON_HEX_PREFIX = "0201036c6e64"  # v2, location "lnd": the start of every macaroon's hex


def run(args, check=True, timeout=60, stdin=None):
    """Runs paytrack with `args`; returns (returncode, stdout, stderr)."""
    p = subprocess.run([harness.PAYTRACK_CLI] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, input=stdin)
    if check and p.returncode != 0:
        raise AssertionError(f"paytrack {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}\n{p.stdout}")
    return p.returncode, p.stdout, p.stderr


def json_objects(text):
    """Every JSON document in `text` (a stream prints one per message)."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def b64hex(s):
    return base64.b64decode(s).hex()


class Node:
    """CLI global flags for one served node."""

    def __init__(self, datadir, port):
        self.datadir = datadir
        self.port = port

    @property
    def flags(self):
        return ["--rpcserver", f"127.0.0.1:{self.port}", "--datadir", str(self.datadir)]

    def cli(self, *args, **kw):
        return run(self.flags + list(args), **kw)

    def json(self, *args):
        _, out, _ = self.cli(*args)
        return json.loads(out)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """One daemon serving alice (primary) and bob (--serve); yields (daemon, alice, bob)."""
    if not os.path.exists(harness.PAYTRACK_CLI):
        pytest.fail(f"CLI binary missing: {harness.PAYTRACK_CLI} (run `swift build --product paytrack`)")
    tmp = tmp_path_factory.mktemp("cli")
    bob_port = harness.free_port()
    d = harness.Daemon(tmp, "--serve", f"bob=127.0.0.1:{bob_port}").start()
    alice = Node(tmp, d.port)
    bob = Node(tmp / "nodes" / "bob", bob_port)
    deadline = time.time() + 20
    while True:  # bob's listener comes up just after alice's
        rc, _, err = bob.cli("getinfo", check=False)
        if rc == 0:
            break
        if time.time() > deadline:
            raise AssertionError(f"bob never answered: {err}\n{d.read_log()}")
        time.sleep(0.1)
    yield d, alice, bob
    d.stop()


@pytest.fixture(scope="module")
def paid(net):
    """An invoice of bob's paid by alice with payinvoice; yields (invoice JSON, payment JSON)."""
    _, alice, bob = net
    invoice = bob.json("addinvoice", "--amt", "1000", "--memo", "cli test", "--expiry", "3600")
    rc, out, err = alice.cli("payinvoice", invoice["payment_request"], "--fee_limit", "10", "--timeout", "30")
    payment = json.loads(out)
    return invoice, payment


# --- help and usage ------------------------------------------------------------------------------

GLOBAL_FLAGS = ["--rpcserver", "--datadir", "--tlscertpath", "--macaroonpath", "--network", "--no-macaroons",
                "--timeout", "--macaroontimeout", "--macaroonip", "--hexbytes", "--version"]
COMMAND_FLAGS = {
    "getinfo": [],
    "addinvoice": ["--amt", "--amt_msat", "--memo", "--expiry", "--private", "--preimage"],
    "lookupinvoice": ["--rhash"],
    "listinvoices": ["--index_offset", "--max_invoices", "--reversed", "--pending_only"],
    "decodepayreq": ["--pay_req"],
    "payinvoice": ["--amt", "--fee_limit", "--timeout", "--max_parts", "--json"],
    "sendpayment": ["--dest", "--amt", "--keysend", "--payment_hash", "--fee_limit", "--timeout", "--json"],
    "trackpayment": ["--no_inflight_updates"],
    "trackpayments": ["--no_inflight_updates", "--replay-since", "--count"],
    "listpayments": ["--include_incomplete", "--index_offset", "--max_payments", "--reversed", "--count_total_payments"],
    "deletepayments": ["--all", "--failed_htlcs_only", "--payment_hash"],
    "bakemacaroon": ["--root_key_id", "--save_to", "--timeout", "--ip_address"],
    "listpermissions": [],
    "call": ["--list", "--count", "--header"],
}


def test_help_lists_every_command_and_flag():
    _, out, _ = run(["--help"])
    for f in GLOBAL_FLAGS:
        assert f in out, f
    for name, flags in COMMAND_FLAGS.items():
        assert f"\n   {name} " in out, name
        _, text, _ = run([name, "--help"])
        assert f"paytrack {name} - " in text
        for f in flags + ["--help"]:
            assert f in text, (name, f)


def test_usage_errors_exit_nonzero_without_touching_the_network():
    rc, out, err = run(["--rpcserver", "127.0.0.1:1", "getinfo", "--bogus"], check=False)
    assert rc != 0 and out == ""
    assert err == "[paytrack] flag provided but not defined: -bogus\n"
    rc, _, err = run(["nosuchcommand"], check=False)
    assert rc != 0 and err.startswith("[paytrack] ")
    rc, _, err = run(["trackpayment"], check=False)
    assert rc != 0 and err == "[paytrack] hash argument missing\n"
    rc, _, err = run(["lookupinvoice", "abcd"], check=False)
    assert rc != 0 and "must be exactly 32 bytes" in err


# --- node info -----------------------------------------------------------------------------------

def test_getinfo_matches_grpcio(net):
    d, alice, bob = net
    info = alice.json("getinfo")
    assert info["alias"] == "alice"
    import lightning_pb2
    import lightning_pb2_grpc
    ref = lightning_pb2_grpc.LightningStub(d.channel()).GetInfo(lightning_pb2.GetInfoRequest())
    assert info["identity_pubkey"] == ref.identity_pubkey
    assert info["block_height"] == ref.block_height
    assert isinstance(info["block_height"], int) and isinstance(info["best_header_timestamp"], str)
    assert bob.json("getinfo")["alias"] == "bob"


# --- invoices and payments -----------------------------------------------------------------------

def test_addinvoice_and_decodepayreq(net, paid):
    _, alice, bob = net
    invoice, _ = paid
    bob_pubkey = bob.json("getinfo")["identity_pubkey"]
    r_hash = b64hex(invoice["r_hash"])
    assert len(r_hash) == 64 and invoice["payment_request"].startswith("lntb10u1")
    assert invoice["add_index"] != "0"
    decoded = alice.json("decodepayreq", invoice["payment_request"])
    assert decoded["destination"] == bob_pubkey
    assert decoded["payment_hash"] == r_hash
    assert decoded["num_satoshis"] == "1000" and decoded["num_msat"] == "1000000"
    assert decoded["description"] == "cli test" and decoded["expiry"] == "3600"


def test_payinvoice_succeeds_and_settles_bobs_invoice(net, paid):
    _, alice, bob = net
    invoice, payment = paid
    r_hash = b64hex(invoice["r_hash"])
    assert payment["status"] == "SUCCEEDED"
    assert payment["payment_hash"] == r_hash
    assert hashlib.sha256(bytes.fromhex(payment["payment_preimage"])).hexdigest() == r_hash
    assert payment["value_sat"] == "1000" and payment["failure_reason"] == "FAILURE_REASON_NONE"
    assert any(h["status"] == "SUCCEEDED" for h in payment["htlcs"])
    looked_up = bob.json("lookupinvoice", r_hash)
    assert looked_up["state"] == "SETTLED" and looked_up["amt_paid_sat"] == "1000"
    assert b64hex(looked_up["r_preimage"]) == payment["payment_preimage"]
    invoices = bob.json("listinvoices")["invoices"]
    assert r_hash in [b64hex(i["r_hash"]) for i in invoices]


def test_payinvoice_json_prints_every_update(net):
    _, alice, bob = net
    invoice = bob.json("addinvoice", "--amt_msat", "2500000")
    _, out, _ = alice.cli("payinvoice", "--json", invoice["payment_request"])
    updates = json_objects(out)
    assert len(updates) >= 2
    assert updates[0]["htlcs"] == [] and updates[0]["status"] in ("IN_FLIGHT", "INITIATED")
    assert updates[-1]["status"] == "SUCCEEDED" and updates[-1]["value_msat"] == "2500000"
    # Paying it again: AlreadyExists, printed as lncli prints gRPC errors.
    rc, out, err = alice.cli("payinvoice", invoice["payment_request"], check=False)
    assert rc != 0 and out == ""
    assert err == "[paytrack] rpc error: code = AlreadyExists desc = invoice is already paid\n"


def test_trackpayment_of_completed_payment(net, paid):
    _, alice, _ = net
    invoice, payment = paid
    updates = json_objects(alice.cli("trackpayment", b64hex(invoice["r_hash"]))[1])
    assert len(updates) == 1  # already final: one snapshot, then the stream ends
    assert updates[0]["status"] == "SUCCEEDED"
    assert updates[0]["payment_preimage"] == payment["payment_preimage"]
    updates = json_objects(alice.cli("trackpayment", "--no_inflight_updates", b64hex(invoice["r_hash"]))[1])
    assert [u["status"] for u in updates] == ["SUCCEEDED"]


def test_listpayments(net, paid):
    _, alice, _ = net
    invoice, payment = paid
    listed = alice.json("listpayments", "--count_total_payments")
    hashes = [p["payment_hash"] for p in listed["payments"]]
    assert payment["payment_hash"] in hashes
    assert int(listed["total_num_payments"]) >= len(hashes) >= 1
    one = alice.json("listpayments", "--max_payments", "1", "--reversed")
    assert len(one["payments"]) == 1
    assert one["payments"][0]["payment_index"] == max((p["payment_index"] for p in listed["payments"]), key=int)


def test_unknown_hash_is_an_lncli_shaped_error(net):
    _, alice, _ = net
    rc, out, err = alice.cli("trackpayment", UNKNOWN_HASH, check=False)
    assert rc != 0 and out == ""
    assert err == "[paytrack] rpc error: code = NotFound desc = payment isn't initiated\n"
    assert MACAROON_HEX_PREFIX not in err
    rc, _, err = alice.cli("lookupinvoice", UNKNOWN_HASH, check=False)
    assert rc != 0 and err.startswith("[paytrack] rpc error: code = NotFound desc = ")


def test_keysend_via_sendpayment(net):
    d, alice, bob = net
    bob_pubkey = bob.json("getinfo")["identity_pubkey"]
    _, out, _ = alice.cli("sendpayment", "--dest", bob_pubkey, "--amt", "500", "--keysend")
    payment = json.loads(out)
    assert payment["status"] == "SUCCEEDED" and payment["value_sat"] == "500"
    assert hashlib.sha256(bytes.fromhex(payment["payment_preimage"])).hexdigest() == payment["payment_hash"]
    last_hop = payment["htlcs"][-1]["route"]["hops"][-1]
    assert last_hop["pub_key"] == bob_pubkey
    assert b64hex(last_hop["custom_records"][str(KEYSEND_TYPE)]) == payment["payment_preimage"]
    keysends = [i for i in bob.json("listinvoices")["invoices"] if i["is_keysend"]]
    assert payment["payment_hash"] in [b64hex(i["r_hash"]) for i in keysends]
    # Positional dest and amt (as lncli); two keysends never share a hash (fresh preimages).
    _, out2, _ = alice.cli("sendpayment", bob_pubkey, "300", "--keysend")
    second = json.loads(out2)
    assert second["status"] == "SUCCEEDED" and second["value_sat"] == "300"
    assert second["payment_hash"] != payment["payment_hash"]
    rc, _, err = alice.cli("sendpayment", bob_pubkey, "300", check=False)
    assert rc != 0 and err == "[paytrack] payment hash argument missing\n"
    rc, _, err = alice.cli("sendpayment", "--dest", "02ab", "--amt", "1", "--keysend", check=False)
    assert rc != 0 and err == "[paytrack] dest must be exactly 33 bytes, is instead 2\n"


def test_trackpayments_replay_and_deadline(net, paid):
    _, alice, _ = net
    _, payment = paid
    updates = json_objects(alice.cli("trackpayments", "--replay-since", "0", "--no_inflight_updates",
                                     "--count", "1")[1])
    assert len(updates) == 1 and updates[0]["status"] in ("SUCCEEDED", "FAILED")
    # Without --count the stream never ends by itself: the global --timeout bounds it.
    rc, out, err = alice.cli("--timeout", "500ms", "trackpayments", check=False)
    assert rc != 0 and err.startswith("[paytrack] rpc error: code = DeadlineExceeded")


def test_deletepayments(net):
    _, alice, bob = net
    invoice = bob.json("addinvoice", "--amt", "10")
    paid = json.loads(alice.cli("payinvoice", invoice["payment_request"])[1])
    assert paid["status"] == "SUCCEEDED"
    alice.cli("deletepayments", paid["payment_hash"])
    hashes = [p["payment_hash"] for p in alice.json("listpayments", "--include_incomplete")["payments"]]
    assert paid["payment_hash"] not in hashes
    rc, _, err = alice.cli("deletepayments", check=False)
    assert rc != 0 and "--all" in err


# --- macaroons -----------------------------------------------------------------------------------

def test_bakemacaroon_then_use_it(net, tmp_path):
    d, alice, _ = net
    path = tmp_path / "info.macaroon"
    _, out, _ = alice.cli("bakemacaroon", "info:read", "--save_to", path)
    assert out == f"Macaroon saved to {path}\n"  # the secret itself is not printed
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    baked = path.read_bytes()
    assert baked.hex().startswith(MACAROON_HEX_PREFIX)
    info = alice.json("--macaroonpath", path, "getinfo")
    assert info["alias"] == "alice"
    rc, out, err = alice.cli("--macaroonpath", path, "listpayments", check=False)
    assert rc != 0 and out == ""
    assert err == "[paytrack] rpc error: code = Unknown desc = permission denied\n"
    assert baked.hex() not in err
    # The baked macaroon is real: grpcio with it is allowed GetInfo too.
    import lightning_pb2
    import lightning_pb2_grpc
    ref = lightning_pb2_grpc.LightningStub(d.channel(macaroon=baked.hex())).GetInfo(lightning_pb2.GetInfoRequest())
    assert ref.alias == "alice"


def test_bakemacaroon_caveats_and_uri_permission(net, tmp_path):
    _, alice, _ = net
    path = tmp_path / "uri.macaroon"
    alice.cli("bakemacaroon", "uri:/lnrpc.Lightning/ListPayments", "--timeout", "120", "--save_to", path)
    assert "payments" in alice.json("--macaroonpath", path, "listpayments")
    rc, _, err = alice.cli("--macaroonpath", path, "getinfo", check=False)
    assert rc != 0 and err.endswith("permission denied\n")
    expired = tmp_path / "expired.macaroon"
    alice.cli("bakemacaroon", "info:read", "--timeout", "1", "--save_to", expired)
    time.sleep(1.5)
    rc, _, err = alice.cli("--macaroonpath", expired, "getinfo", check=False)
    assert rc != 0 and "macaroon has expired" in err
    rc, _, err = alice.cli("bakemacaroon", "nocolon", check=False)
    assert rc != 0 and "ENTITY:ACTION" in err


def test_missing_macaroon_and_unreachable_server(net, tmp_path):
    _, alice, _ = net
    rc, _, err = alice.cli("--no-macaroons", "getinfo", check=False)
    assert rc != 0 and err == "[paytrack] rpc error: code = Unknown desc = expected 1 macaroon, got 0\n"
    rc, _, err = alice.cli("--macaroonpath", tmp_path / "none.macaroon", "getinfo", check=False)
    assert rc != 0 and "unable to read macaroon path" in err
    rc, _, err = run(["--rpcserver", f"127.0.0.1:{harness.free_port()}", "--datadir", alice.datadir, "getinfo"], check=False)
    assert rc != 0 and err.startswith("[paytrack] rpc error: code = Unavailable desc = connection error")
    assert MACAROON_HEX_PREFIX not in err


def test_listpermissions(net):
    _, alice, _ = net
    perms = alice.json("listpermissions")["method_permissions"]
    assert {"entity": "offchain", "action": "write"} in perms["/routerrpc.Router/SendPaymentV2"]["permissions"]


# --- call (grpcurl-style) ------------------------------------------------------------------------

def test_call_generic_unary_and_stream(net, paid):
    _, alice, _ = net
    invoice, payment = paid
    assert alice.json("call", "/lnrpc.Lightning/GetInfo")["identity_pubkey"] == alice.json("getinfo")["identity_pubkey"]
    listed = alice.json("call", "lnrpc.Lightning.ListPayments", '{"maxPayments": 1, "reversed": true}')
    assert len(listed["payments"]) == 1
    # bytes fields take base64, as the REST gateway does; a stream prints one object per message.
    req = json.dumps({"payment_hash": invoice["r_hash"], "no_inflight_updates": True})
    updates = json_objects(alice.cli("call", "/routerrpc.Router/TrackPaymentV2", req)[1])
    assert [u["status"] for u in updates] == ["SUCCEEDED"]
    assert updates[0]["payment_preimage"] == payment["payment_preimage"]
    # Request from stdin, a method's error status, bad JSON, unknown method.
    _, out, _ = alice.cli("call", "/lnrpc.Lightning/DecodePayReq", "-", stdin=json.dumps({"pay_req": invoice["payment_request"]}))
    assert json.loads(out)["payment_hash"] == b64hex(invoice["r_hash"])
    rc, _, err = alice.cli("call", "/routerrpc.Router/TrackPaymentV2",
                           json.dumps({"payment_hash": base64.b64encode(bytes.fromhex(UNKNOWN_HASH)).decode()}), check=False)
    assert rc != 0 and err == "[paytrack] rpc error: code = NotFound desc = payment isn't initiated\n"
    rc, _, err = alice.cli("call", "/lnrpc.Lightning/GetInfo", '{"nope": 1}', check=False)
    assert rc != 0 and 'unknown field "nope"' in err
    rc, _, err = alice.cli("call", "/lnrpc.Lightning/GetInfo", '{"unterminated', check=False)
    assert rc != 0 and "invalid JSON" in err
    rc, _, err = alice.cli("call", "/lnrpc.Lightning/Nope", check=False)
    assert rc != 0 and "unknown method" in err
    _, out, _ = alice.cli("call", "--list")
    assert "/routerrpc.Router/SendPaymentV2 (routerrpc.SendPaymentRequest) returns (stream lnrpc.Payment)" in out
    skeleton = json.loads(alice.cli("call", "--describe", "/routerrpc.Router/TrackPaymentV2")[1])
    assert skeleton == {"payment_hash": "", "no_inflight_updates": False}
    # The skeleton, filled in, is a valid request.
    skeleton.update(payment_hash=invoice["r_hash"], no_inflight_updates=True)
    updates = json_objects(alice.cli("call", "/routerrpc.Router/TrackPaymentV2", json.dumps(skeleton))[1])
    assert [u["status"] for u in updates] == ["SUCCEEDED"]


def test_call_send_payment_v2_stream(net):
    _, alice, bob = net
    invoice = bob.json("addinvoice", "--amt", "42")
    req = json.dumps({"payment_request": invoice["payment_request"], "timeout_seconds": 30, "fee_limit_sat": "10"})
    updates = json_objects(alice.cli("call", "/routerrpc.Router/SendPaymentV2", req)[1])
    assert updates[-1]["status"] == "SUCCEEDED" and updates[-1]["value_sat"] == "42"


# --- a node without macaroons --------------------------------------------------------------------

def test_no_macaroons_node(tmp_path):
    d = harness.Daemon(tmp_path / "nomac", no_macaroons=True).start()
    try:
        flags = ["--rpcserver", d.target, "--datadir", d.datadir, "--no-macaroons"]
        _, out, _ = run(flags + ["getinfo"])
        assert json.loads(out)["alias"] == "alice"
    finally:
        d.stop()


def test_failed_payment_exits_nonzero_with_reason(net):
    _, alice, bob = net
    invoice = bob.json("addinvoice", "--amt", "2000")
    # bob is two hops away and the middle hop charges a fee: a zero fee limit leaves no route.
    rc, out, err = alice.cli("payinvoice", "--fee_limit", "0", invoice["payment_request"], check=False)
    assert rc != 0
    payment = json.loads(out)
    assert payment["status"] == "FAILED" and payment["failure_reason"] == "FAILURE_REASON_NO_ROUTE"
    assert err == "[paytrack] payment failed: FAILURE_REASON_NO_ROUTE\n"


def test_trackpayments_streams_live_updates(net):
    _, alice, bob = net
    invoice = bob.json("addinvoice", "--amt", "77")
    watcher = subprocess.Popen([harness.PAYTRACK_CLI] + alice.flags + ["trackpayments", "--count", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # let the subscription start before the payment does
        paid = json.loads(alice.cli("payinvoice", invoice["payment_request"])[1])
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, err
    updates = json_objects(out)
    assert len(updates) == 3
    assert all(u["payment_hash"] == paid["payment_hash"] for u in updates)
    assert updates[0]["htlcs"] == []  # the INITIATED/IN_FLIGHT snapshot comes first
    assert updates[-1]["status"] in ("IN_FLIGHT", "SUCCEEDED")


def test_output_is_pretty_printed_like_lncli(net):
    """Four-space indented, `"key": value`, empty containers inline: byte-identical to
    json.dumps(indent=4) of the same document, including string escaping."""
    _, alice, bob = net
    memo = 'naïve "quoted" \\ back\nslash\ttab ✓'
    _, out, _ = bob.cli("addinvoice", "--amt", "5", "--memo", memo)
    r_hash = b64hex(json.loads(out)["r_hash"])
    _, out, _ = bob.cli("lookupinvoice", r_hash)
    doc = json.loads(out)
    assert doc["memo"] == memo
    assert out == json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    _, out, _ = alice.cli("getinfo")
    assert out == json.dumps(json.loads(out), indent=4, ensure_ascii=False) + "\n"


def test_global_timeout_durations():
    rc, _, err = run(["--timeout", "soon", "getinfo"], check=False)
    assert rc != 0 and err == '[paytrack] invalid duration "soon" for --timeout\n'
    rc, _, err = run(["--rpcserver", "nocolon", "getinfo"], check=False)
    assert rc != 0 and "HOST:PORT" in err
    rc, _, err = run(["--network", "moon", "getinfo"], check=False)
    assert rc != 0 and 'unknown network "moon"' in err


def test_timeout_duration_forms_are_accepted(net):
    _, alice, _ = net
    for t in ["1m30s", "2500ms", "10", "1.5"]:
        assert alice.json("--timeout", t, "getinfo")["alias"] == "alice"


def test_ctrl_c_cancels_a_stream_quietly(net):
    import signal
    _, alice, _ = net
    watcher = subprocess.Popen([harness.PAYTRACK_CLI] + alice.flags + ["trackpayments"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert watcher.poll() is None  # TrackPayments stays open
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=10)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 130 and err == ""
    # The daemon is unaffected and still answers on the same listener.
    assert alice.json("getinfo")["alias"] == "alice"


def test_deletepayments_all_removes_only_failed(net):
    _, alice, bob = net
    failed_invoice = bob.json("addinvoice", "--amt", "3000")
    rc, out, _ = alice.cli("payinvoice", "--fee_limit", "0", failed_invoice["payment_request"], check=False)
    failed = json.loads(out)
    assert rc != 0 and failed["status"] == "FAILED"
    ok_invoice = bob.json("addinvoice", "--amt", "30")
    succeeded = json.loads(alice.cli("payinvoice", ok_invoice["payment_request"])[1])
    alice.cli("deletepayments", "--all")
    hashes = [p["payment_hash"] for p in alice.json("listpayments", "--include_incomplete", "--max_payments", "1000")["payments"]]
    assert failed["payment_hash"] not in hashes
    assert succeeded["payment_hash"] in hashes
    rc, _, err = alice.cli("deletepayments", "--all", succeeded["payment_hash"], check=False)
    assert rc != 0 and "cannot use --all and a payment hash together" in err


def test_hexbytes_shows_bytes_fields_as_hex_like_lncli(net):
    _, alice, bob = net
    bob_pubkey = bob.json("getinfo")["identity_pubkey"]
    payment = json.loads(alice.cli("--hexbytes", "sendpayment", "--dest", bob_pubkey, "--amt", "21", "--keysend")[1])
    hop = payment["htlcs"][-1]["route"]["hops"][-1]
    assert hop["custom_records"][str(KEYSEND_TYPE)] == payment["payment_preimage"]  # map value: hex
    assert payment["htlcs"][-1]["preimage"] == payment["payment_preimage"]          # nested bytes: hex
    # The same document without --hexbytes differs exactly in those values (base64 there).
    req = json.dumps({"payment_hash": base64.b64encode(bytes.fromhex(payment["payment_hash"])).decode(),
                      "no_inflight_updates": True})
    plain = json_objects(alice.cli("call", "/routerrpc.Router/TrackPaymentV2", req)[1])[-1]
    hexed = json_objects(alice.cli("--hexbytes", "call", "/routerrpc.Router/TrackPaymentV2", req)[1])[-1]
    assert b64hex(plain["htlcs"][-1]["preimage"]) == hexed["htlcs"][-1]["preimage"]
    assert plain["payment_hash"] == hexed["payment_hash"]  # a string field in the proto: untouched

    def strip_bytes(doc):
        d = json.loads(json.dumps(doc))
        for h in d["htlcs"]:
            h["preimage"] = None
            for hop in h["route"]["hops"]:
                hop["custom_records"] = None
                if hop["mpp_record"]:
                    hop["mpp_record"]["payment_addr"] = None
        return d
    assert strip_bytes(plain) == strip_bytes(hexed)
    invoice = json.loads(bob.cli("--hexbytes", "addinvoice", "--amt", "1")[1])
    assert len(invoice["r_hash"]) == 64 and len(invoice["payment_addr"]) == 64
    int(invoice["r_hash"], 16)
