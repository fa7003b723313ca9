"""The `paytrack` CLI's commands for LND's wider API against the real paytrackd (alice primary,
bob on --serve): addholdinvoice / subscribeinvoice / settleinvoice / cancelinvoice, channelbalance,
listchannels, describegraph, getnodeinfo, getchaninfo, queryroutes, estimateroutefee, buildroute,
sendtoroute, querymc, resetmc, queryprob / querymcprobability — lncli's flags, JSON output and errors.
"""
import base64
import hashlib
import json
import os
import subprocess
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


def test_hold_invoice_commands(net):
    _, alice, bob = net
    pre = os.urandom(32)
    h = hashlib.sha256(pre).hexdigest()
    added = bob.json("addholdinvoice", h, "--amt", "7000", "--memo", "held")
    assert added["payment_request"].startswith("lntb") and int(added["add_index"]) > 0
    watch = popen(bob, "subscribeinvoice", h)
    # Wait for its first message (the current state, OPEN) before paying: the CLI process may
    # start after the payment otherwise, and would then begin with a later state.
    first = []
    for line in watch.stdout:
        first.append(line)
        if line.rstrip() == "}":
            break
    assert json.loads("".join(first))["state"] == "OPEN"
    pay = popen(alice, "payinvoice", added["payment_request"], "--timeout", "60")
    deadline = time.time() + 20
    while bob.json("lookupinvoice", h)["state"] != "ACCEPTED":
        assert time.time() < deadline
        time.sleep(0.05)
    assert pay.poll() is None, "payinvoice returned while the HTLC is held"
    assert bob.json("settleinvoice", pre.hex()) == {}
    out, err = pay.communicate(timeout=30)
    assert pay.returncode == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    wout, werr = watch.communicate(timeout=30)
    assert watch.returncode == 0, werr
    assert [i["state"] for i in json_objects("".join(first) + wout)] == ["OPEN", "ACCEPTED", "SETTLED"]
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
