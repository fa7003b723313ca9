"""The PyPI library `lnd-grpc-client` (lndgrpc), unchanged, against paytrackd: its send_payment
(lnrpc SendPaymentSync, which failed with UNIMPLEMENTED before), send_payment_v2, send_payment_v1,
subscribe_single_invoice, channel_balance, list_channels, query_routes, and a hold invoice (plus
LookupInvoiceV2) through its own compiled invoicesrpc messages and stubs: its add_hold_invoice,
settle_invoice and lookup_invoice_v2 helpers are empty or broken in 0.6.0, and it has no
track_payment_v2 helper (its router stub is used). The session runs in its own process
(samples/lnd_grpc_client_session.py).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lnd

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = lnd.Net(tmp_path_factory.mktemp("lndgrpc") / "node", "--sim.latency", "0").start()
    yield n
    n.stop()


def test_lnd_grpc_client_session(net):
    bob_dir = net.datadir / "nodes" / "bob"
    out = subprocess.run([sys.executable, str(HERE / "samples/lnd_grpc_client_session.py"),
                          f"127.0.0.1:{net.daemon.port}", str(net.datadir), f"127.0.0.1:{net.ports['bob']}", str(bob_dir)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["channel_balance_local_sat"] > 0
    assert sorted(r["list_channels"]) == sorted([lnd.scid(1), lnd.scid(2), lnd.scid(3)])
    assert r["query_routes_last_hop"] == net.node("bob").pubkey
    assert r["send_payment"] == {"error": "", "preimage_ok": True}
    assert r["subscribe_single_invoice_state"] == 1                       # SETTLED
    assert r["send_payment_v2_statuses"][0] == lnd.IN_FLIGHT and r["send_payment_v2_statuses"][-1] == lnd.SUCCEEDED
    assert r["send_payment_v1_states"][0] == 0 and r["send_payment_v1_states"][-1] == 1   # IN_FLIGHT ... SUCCEEDED
    assert r["hold_open_state"] == 0 and r["hold_accepted_state"] == 3
    assert r["track_payment_v2_first_status"] == lnd.IN_FLIGHT
    assert r["sync_call_still_blocked"] is True
    assert r["hold_paid_preimage_ok"] is True
    assert r["subscribe_single_invoice_after_settle"] == 1
    assert r["lookup_invoice_v2_state"] == 1
