"""The `paytrack` CLI's commands for LND's wider API against the real paytrackd (alice primary,
bob on --serve): addholdinvoice / subscribeinvoice / settleinvoice / cancelinvoice, channelbalance,
listchannels, describegraph, getnodeinfo, getchaninfo, queryroutes, estimateroutefee, buildroute,
sendtoroute, querymc, resetmc, queryprob / querymcprobability — lncli's flags, JSON output and errors.
"""
import base64
import hashlib
import json
import os
import queue
import subprocess
import threading
import time

import pytest

import harness
from test_cli import Node, json_objects, run


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    if not os.path.exists(harness.PAYTRACK_CLI):
        pytest.fail(f"CLI binary missing: {harness.PAYTRACK_CLI} (run `swift build --product paytrack`)")
    tmp = tmp_path_factory.mktemp("climore")
    bob_port = harness.free_port()
    d = harness.Daemon(tmp, "--serve", f"bob=127.0.0.1:{bob_port}", "--sim.latency", "0").start()
    alice = Node(tmp, d.port)
    bob = Node(tmp / "nodes" / "bob", bob_port)
    deadline = time.time() + 20
    while bob.cli("getinfo", check=False)[0] != 0:
        assert time.time() < deadline, d.read_log()
        time.sleep(0.1)
    yield d, alice, bob
    d.stop()


def popen(node, *args):
    return subprocess.Popen([harness.PAYTRACK_CLI] + node.flags + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class StreamReader:
    """The JSON messages a streaming CLI command prints (lncli's pretty JSON: a message ends
    with a `}` alone at the start of a line), read on a thread so that a test waits for the
    next message itself, not for a guessed time; a command that ends instead shows its stderr."""

    def __init__(self, proc):
        self.proc = proc
        self.messages = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                self.messages.put(json.loads("".join(lines)))
                lines = []
        self.messages.put(None if not "".join(lines).strip() else "".join(lines))

    def next(self, timeout=120):
        """The next message (waits up to `timeout` s: a guard against a hang, not a timing check)."""
        try:
            m = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message from {self.proc.args[-2:]} in {timeout} s") from None
        assert isinstance(m, dict), f"stream ended (rc {self.proc.wait()}): {m!r} {self.proc.stderr.read()}"
        return m

    def end(self, timeout=120):
        """Waits for the command to exit after its last message; returns (returncode, stderr)."""
        assert self.messages.get(timeout=timeout) is None, "a message after the last one"
        rc = self.proc.wait(timeout=timeout)
        return rc, self.proc.stderr.read()


def test_hold_invoice_commands(net):
    _, alice, bob = net
    pre = os.urandom(32)
    h = hashlib.sha256(pre).hexdigest()
    added = bob.json("addholdinvoice", h, "--amt", "7000", "--memo", "held")
    assert added["payment_request"].startswith("lntb") and int(added["add_index"]) > 0
    watch = StreamReader(popen(bob, "subscribeinvoice", h))
    # Each step waits for the stream's next message, the event it is about: first the current
    # state (OPEN) — paying before it arrives would let the CLI begin with a later state —, then
    # ACCEPTED when the payer's HTLC is held.
    states = [watch.next()["state"]]
    assert states == ["OPEN"]
    pay = popen(alice, "payinvoice", added["payment_request"], "--timeout", "60")
    states.append(watch.next()["state"])
    assert states == ["OPEN", "ACCEPTED"]
    assert bob.json("lookupinvoice", h)["state"] == "ACCEPTED"
    assert pay.poll() is None, "payinvoice returned while the HTLC is held"
    assert bob.json("settleinvoice", pre.hex()) == {}
    out, err = pay.communicate(timeout=120)
    assert pay.returncode == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    states.append(watch.next()["state"])
    assert states == ["OPEN", "ACCEPTED", "SETTLED"]
    rc, werr = watch.end()
    assert rc == 0, werr
    # cancelinvoice on a settled invoice: LND's text.
    rc, _, err = bob.cli("cancelinvoice", h, check=False)
    assert rc == 1 and err.strip() == "[paytrack] rpc error: code = Unknown desc = invoice already settled"
    h2 = hashlib.sha256(os.urandom(32)).hexdigest()
    bob.json("addholdinvoice", h2, "1000")
    assert bob.json("cancelinvoice", "--paymenthash", h2) == {}
    assert bob.json("lookupinvoice", h2)["state"] == "CANCELED"
    rc, _, err = bob.cli("settleinvoice", "00" * 32, check=False)
    assert rc == 1 and err.strip() == "[paytrack] rpc error: code = Unknown desc = unable to locate invoice"


def test_channel_and_graph_commands(net):
    _, alice, bob = net
    bal = alice.json("channelbalance")
    assert int(bal["local_balance"]["sat"]) > 0 and set(bal) >= {"remote_balance", "unsettled_local_balance"}
    chans = alice.json("listchannels")["channels"]
    assert len(chans) == 3 and all(c["peer_alias"] for c in chans)
    carol = [c for c in chans if c["peer_alias"] == "carol"][0]
    only = alice.json("listchannels", "--peer", carol["remote_pubkey"], "--skip_peer_alias_lookup")["channels"]
    assert [c["chan_id"] for c in only] == [carol["chan_id"]] and only[0]["peer_alias"] == ""
    graph = alice.json("describegraph")
    assert len(graph["nodes"]) == 11
    edge = alice.json("getchaninfo", carol["chan_id"])
    assert edge["channel_id"] == carol["chan_id"] and edge["chan_point"] == carol["channel_point"]
    assert alice.json("getchaninfo", "--chan_point", carol["channel_point"]) == edge
    info = alice.json("getnodeinfo", carol["remote_pubkey"], "--include_channels")
    assert info["node"]["alias"] == "carol" and info["num_channels"] == len(info["channels"])
    rc, _, err = alice.cli("getnodeinfo", "02" + "11" * 32, check=False)
    assert rc == 1 and err.strip() == "[paytrack] rpc error: code = NotFound desc = unable to find node"


def test_route_commands(net):
    _, alice, bob = net
    bob_pub = bob.json("getinfo")["identity_pubkey"]
    routes = alice.json("queryroutes", bob_pub, "2000")
    assert len(routes["routes"]) == 1 and routes["success_prob"] == 1
    assert routes["routes"][0]["hops"][-1]["pub_key"] == bob_pub
    fee = alice.json("estimateroutefee", "--dest", bob_pub, "--amt", "2000")
    assert fee["failure_reason"] == "FAILURE_REASON_NONE" and int(fee["routing_fee_msat"]) >= 0
    inv = bob.json("addinvoice", "--amt", "2000")
    probe = alice.json("estimateroutefee", "--pay_req", inv["payment_request"])
    assert probe["failure_reason"] == "FAILURE_REASON_NONE"
    carol = [c for c in alice.json("listchannels")["channels"] if c["peer_alias"] == "carol"][0]
    h = base64.b64decode(inv["r_hash"]).hex()
    built = alice.json("buildroute", "--amt", "2000", "--hops", f"{carol['remote_pubkey']},{bob_pub}",
                       "--payment_addr", base64.b64decode(inv["payment_addr"]).hex())
    assert [h_["pub_key"] for h_ in built["route"]["hops"]] == [carol["remote_pubkey"], bob_pub]
    # sendtoroute reads buildroute's output from stdin, as lncli does.
    _, out, _ = run(alice.flags + ["sendtoroute", "--payment_hash", h, "-"], stdin=json.dumps(built))
    attempt = json.loads(out)
    assert attempt["status"] == "SUCCEEDED" and attempt["preimage"]
    assert bob.json("lookupinvoice", h)["state"] == "SETTLED"
    mc = alice.json("querymc")
    assert mc["pairs"]
    pair = mc["pairs"][0]
    frm, to = base64.b64decode(pair["node_from"]).hex(), base64.b64decode(pair["node_to"]).hex()
    prob = alice.json("queryprob", frm, to, "1")
    assert prob == alice.json("querymcprobability", frm, to, "1")
    assert 0 <= prob["probability"] <= 1
    assert alice.json("resetmc") == {}
    assert alice.json("querymc")["pairs"] == []
    rc, _, err = alice.cli("buildroute", check=False)
    assert rc == 1 and "hops must be specified" in err


def test_help_lists_the_new_commands(net):
    _, out, _ = run(["--help"])
    for c in ["addholdinvoice", "settleinvoice", "cancelinvoice", "subscribeinvoice", "estimateroutefee", "queryroutes",
              "buildroute", "sendtoroute", "channelbalance", "listchannels", "describegraph", "getnodeinfo",
              "getchaninfo", "querymc", "resetmc", "queryprob", "querymcprobability"]:
        assert f"   {c} " in out, c
