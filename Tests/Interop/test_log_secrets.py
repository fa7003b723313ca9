"""Logs on disk (issue 17): paytrackd writes LND's log file DATADIR/logs/bitcoin/<network>/paytrackd.log
beside its console output, and no secret ever reaches either.

One daemon (alice, with bob served, macaroon root keys encrypted with a password file, every
subsystem at debug) gets a full set of calls: GetInfo with each default macaroon, invoices with
chosen preimages, payments and keysend with preimages, tracking, listing, BakeMacaroon, refused
macaroons, mmrpc calls with the KDF userpass (and a wrong one). Then the log file(s) and the
captured stdout/stderr are searched for every macaroon (hex, base64 and its signature), the
passwords and every preimage (hex and base64) used.

The same search runs over every daemon of the whole interop session when it ends (conftest.py,
log_secrets.py): the tests below also show that search finds what this run used, and that it
reports a secret planted in a log (it cannot pass vacuously).
"""
import json

import grpc
import pytest
import requests

import lnd
import log_secrets
from lnd import ln, rt

PASSWORD = "correct horse battery staple 8f3a1c"
_forms = log_secrets.forms


def _signature(raw):
    return log_secrets.macaroon_signature(raw)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    pwfile = root / "password.txt"
    pwfile.write_text(PASSWORD + "\n")
    pwfile.chmod(0o600)
    # The password's key derivation (two nodes) takes ~20 s each on a loaded machine: a longer start.
    net = lnd.Net(root / "node", "--sim.latency", "0", "--macaroon-password-file", str(pwfile), serve=("bob",)).start(timeout=180)
    secrets = {"password": {PASSWORD}}
    try:
        alice, bob = net.alice, net.node("bob")
        for node_name, node in (("alice", alice), ("bob", bob)):
            for mac in ("admin", "readonly", "invoice", "router"):
                raw = node.daemon.macaroon_path(mac).read_bytes()
                secrets[f"{node_name} {mac} macaroon"] = _forms(raw)
                secrets[f"{node_name} {mac} macaroon signature"] = _forms(_signature(raw))
                with node.daemon.channel(macaroon=mac) as ch:
                    if mac == "invoice":
                        lnd.lnstub.LightningStub(ch).ListInvoices(ln.ListInvoiceRequest(), timeout=10)
                    elif mac == "router":
                        with pytest.raises(grpc.RpcError):  # TrackPaymentV2 of an unknown payment
                            lnd.rtstub.RouterStub(ch).TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=bytes(32)), timeout=10).next()
                    else:
                        lnd.lnstub.LightningStub(ch).GetInfo(ln.GetInfoRequest(), timeout=10)
        # Invoices with chosen preimages, paid by alice, then tracked and listed.
        for i in range(3):
            pre, h = lnd.preimage_and_hash()
            secrets[f"invoice preimage {i}"] = _forms(pre)
            inv = bob.add_invoice(value=1_000 + i, memo=f"log test {i}", r_preimage=pre)
            out = alice.send(payment_request=inv.payment_request)
            assert out[-1].status == lnd.SUCCEEDED
            assert bytes.fromhex(out[-1].payment_preimage) == pre
            assert alice.track(h)[-1].status == lnd.SUCCEEDED
        # Keysend: the preimage travels in a custom record.
        pre, h = lnd.preimage_and_hash()
        secrets["keysend preimage"] = _forms(pre)
        out = alice.send(dest=bytes.fromhex(bob.pubkey), amt=2_000, payment_hash=h,
                         dest_custom_records={lnd.KEYSEND_TYPE: pre})
        assert out[-1].status == lnd.SUCCEEDED
        alice.list_payments(include_incomplete=True)
        bob.ln.ListInvoices(ln.ListInvoiceRequest(), timeout=10)
        # A macaroon baked over the API, used once.
        baked = alice.ln.BakeMacaroon(ln.BakeMacaroonRequest(
            permissions=[ln.MacaroonPermission(entity="offchain", action="read")]), timeout=10).macaroon
        secrets["baked macaroon"] = _forms(bytes.fromhex(baked))
        with alice.daemon.channel(macaroon=bytes.fromhex(baked)) as ch:
            lnd.lnstub.LightningStub(ch).ListPayments(ln.ListPaymentsRequest(), timeout=10)
        # The Komodo API with its userpass (the KDF rpc_password), then a wrong one.
        secrets["kdf userpass"] = {alice.daemon.kdf_password}
        for userpass in (alice.daemon.kdf_password, "not the password 9X!"):
            body = {"userpass": userpass, "mmrpc": "2.0", "method": "lightning::payments::list_payments_by_filter",
                    "params": {"coin": "tBTC-lightning"}, "id": 1}
            r = requests.post(alice.daemon.kdf_url, data=json.dumps(body).encode(), timeout=30)
            assert r.status_code == (200 if userpass == alice.daemon.kdf_password else 403), r.text
        # Refused macaroons: bob's admin macaroon on alice (wrong root key), a tampered one.
        bob_admin = bob.daemon.macaroon_path("admin").read_bytes()
        tampered = bytearray(alice.daemon.macaroon_path("admin").read_bytes())
        tampered[-5] ^= 1
        secrets["tampered macaroon"] = _forms(bytes(tampered))
        for bad in (bob_admin, bytes(tampered)):
            with alice.daemon.channel(macaroon=bad) as ch:
                with pytest.raises(grpc.RpcError):
                    lnd.rtstub.RouterStub(ch).TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=h), timeout=10).next()
    finally:
        net.stop()
    logdir = root / "node" / "logs" / "bitcoin" / "testnet"
    files = sorted(logdir.glob("paytrackd.log*"))
    texts = {str(p): p.read_text(errors="replace") for p in files}
    texts["stdout+stderr"] = net.daemon.log_path.read_text(errors="replace")
    return files, texts, secrets, root


def test_log_file_is_written_beside_the_console(run):
    files, texts, _, _ = run
    assert [p.name for p in files] == ["paytrackd.log"]
    log = texts[str(files[0])]
    assert "[INF] LTND: ready" in log and "published payment" in log
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    # Every line of the file was also written to the console.
    console = texts["stdout+stderr"]
    assert all(line in console for line in log.splitlines())


def test_no_secret_in_any_log(run):
    _, texts, secrets, _ = run
    assert len(secrets) >= 20
    leaks = [(what, where) for what, forms in secrets.items() for form in forms
             for where, text in texts.items() if form in text]
    assert leaks == []


def test_the_session_search_finds_what_this_run_used(run):
    """log_secrets (the end-of-session search over every daemon) collects this run's secrets from
    the datadir alone: every default macaroon, both passwords, every preimage."""
    _, _, used, root = run
    found = log_secrets.collect_secrets(root / "node", ["--macaroon-password-file", str(root / "password.txt")])
    all_found = set().union(*found.values())
    for what, fs in used.items():
        if what.startswith(("baked", "tampered")):
            continue   # not in the datadir: this module's own search above covers them
        assert fs <= all_found, what
    kinds = {w.split(" ")[0] for w in found}
    assert kinds == {"macaroon", "password", "preimage"}
    assert sum(w.startswith("password") for w in found) >= 2       # alice's rpc_password, the macaroon password
    assert sum(w.startswith("preimage") for w in found) >= 4       # 3 invoices + keysend (payer and payee sides)
    logs = log_secrets.log_files(root / "node")
    assert {p.name for p in logs} >= {"paytrackd.log", "paytrackd.test.log"}


def test_the_search_reports_a_planted_secret(run, tmp_path):
    """Non-vacuity: the logs are clean, and planting any one secret (inside a longer line, a
    longer hex run, or alone) makes the search report exactly it."""
    _, texts, _, root = run
    secrets = log_secrets.collect_secrets(root / "node", ["--macaroon-password-file", str(root / "password.txt")])
    assert log_secrets.find_leaks(secrets, texts) == []
    by_kind = {}
    for what, fs in secrets.items():
        by_kind.setdefault(what.split(" ")[0], (what, sorted(fs)))
    clean = next(iter(texts.values()))
    for kind, (what, fs) in by_kind.items():
        for f in fs:
            for planted in (f"{clean}\n2026-12-06 [DBG] RPCS: value {f} seen\n", f"{clean}deadbeef{f}cafe\n"):
                leaks = log_secrets.find_leaks(secrets, {"planted": planted})
                assert (what, "planted") in leaks, (kind, f)
                # Anything else reported is also in the planted text (a macaroon carries its signature).
                assert all(where == "planted" and any(g in planted for g in secrets[w]) for w, where in leaks), (kind, f, leaks)
    # Through the files too, as the session search reads them.
    d = tmp_path / "daemon"
    (d / "logs" / "bitcoin" / "testnet").mkdir(parents=True)
    (d / "logs" / "bitcoin" / "testnet" / "paytrackd.log").write_text(clean + by_kind["password"][1][0] + "\n")
    _, found_texts, leaks = log_secrets.scan([(root / "node", ["--macaroon-password-file", str(root / "password.txt")]),
                                             (d, [])])
    planted_log = str(d / "logs" / "bitcoin" / "testnet" / "paytrackd.log")
    assert planted_log in found_texts
    assert leaks == [(by_kind["password"][0], planted_log)]
