"""Logs on disk (issue 17): paytrackd writes LND's log file DATADIR/logs/bitcoin/<network>/paytrackd.log
beside its console output, and no secret ever reaches either.

One daemon (alice, with bob served, macaroon root keys encrypted with a password file, every
subsystem at debug) gets a full set of calls: GetInfo with each default macaroon, invoices with
chosen preimages, payments and keysend with preimages, tracking, listing, BakeMacaroon, refused
macaroons. Then the log file(s) and the captured stdout/stderr are searched for every macaroon
(hex, base64 and its signature), the password and every preimage (hex and base64) used.
"""
import base64
import binascii

import grpc
import pytest
from pymacaroons import Macaroon

import lnd
from lnd import ln, rt

PASSWORD = "correct horse battery staple 8f3a1c"


def _forms(raw):
    """The spellings of a secret a log line could contain."""
    return {raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")}


def _signature(raw):
    return bytes.fromhex(Macaroon.deserialize(binascii.b2a_base64(raw, newline=False).decode()).signature)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    pwfile = root / "password.txt"
    pwfile.write_text(PASSWORD + "\n")
    pwfile.chmod(0o600)
    net = lnd.Net(root / "node", "--sim.latency", "0", "--macaroon-password-file", str(pwfile), serve=("bob",)).start()
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
    return files, texts, secrets


def test_log_file_is_written_beside_the_console(run):
    files, texts, _ = run
    assert [p.name for p in files] == ["paytrackd.log"]
    log = texts[str(files[0])]
    assert "[INF] LTND: ready" in log and "published payment" in log
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    # Every line of the file was also written to the console.
    console = texts["stdout+stderr"]
    assert all(line in console for line in log.splitlines())


def test_no_secret_in_any_log(run):
    _, texts, secrets = run
    assert len(secrets) >= 20
    leaks = [(what, where) for what, forms in secrets.items() for form in forms
             for where, text in texts.items() if form in text]
    assert leaks == []
