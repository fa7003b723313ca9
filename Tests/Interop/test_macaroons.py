"""Macaroon interoperability: PayTrack's macaroons against pymacaroons and LND-style clients.

Two groups:
- offline (no daemon): pymacaroons verifies a macaroon PayTrack mints (the constant
  SWIFT_MINTED_HEX, which Tests/MacaroonsTests/PymacaroonsInteropTests.swift asserts our code
  produces byte for byte), and the fixture that Swift verifies is regenerated here to prove it
  is really pymacaroons output (`python Tests/Interop/test_macaroons.py --print-fixture`).
- daemon (fixture `daemon`): the LND Python sample pattern (TLS cert + ('macaroon', hex)
  metadata) with admin/readonly/invoice macaroons, pymacaroons-attenuated macaroons
  (time-before accepted, then refused once expired), a pymacaroons-minted macaroon with an
  LND identifier and our root key (read test-only from the daemon's root key file), and
  BakeMacaroon output checked by pymacaroons.
"""
import binascii
import hashlib
import hmac
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pymacaroons = pytest.importorskip("pymacaroons")
from pymacaroons import Macaroon, MACAROON_V2, Verifier  # noqa: E402

UNKNOWN_HASH = bytes(range(32))

# Fixed inputs shared with the Swift tests (PymacaroonsInteropTests.swift).
FIXTURE_ROOT_KEY = bytes(range(32))
FIXTURE_NONCE = bytes(range(0xa0, 0xb0))
FIXTURE_CAVEATS = ["time-before 2099-01-01T00:00:00Z", "ipaddr 127.0.0.1"]
# A macaroon minted by PayTrack's Swift code (MacaroonSigner.mint + addFirstPartyCaveat) from
# FIXTURE_ROOT_KEY, nonce FIXTURE_NONCE, storage id "0", ops offchain:read/write and the two
# caveats above. PymacaroonsInteropTests.testSwiftMintedMacaroonMatchesConstant pins it.
SWIFT_MINTED_HEX = (
    "0201036c6e64022f030a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1201301a170a086f6666636861696e1204"
    "726561641205777269746500022074696d652d6265666f726520323039392d30312d30315430303a30303a30"
    "305a000210697061646472203132372e302e302e310000062076bb738b64270905d6dd1eb1fe932324b15424"
    "ee95c91ce9a14e3e754108c514"
)
# pymacaroons output for FIXTURE_* plus 'declared user alice' (make_pymacaroons_fixture); the Swift
# test PymacaroonsInteropTests.testVerifiesPymacaroonsMacaroon verifies these exact bytes.
PYMACAROONS_FIXTURE_HEX = (
    "0201036c6e64022f030a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1201301a170a086f6666636861696e1204"
    "726561641205777269746500022074696d652d6265666f726520323039392d30312d30315430303a30303a30"
    "305a000210697061646472203132372e302e302e310002136465636c61726564207573657220616c69636500"
    "0006208412a8eb492baead06ed2d40893c906178d26cb1c00b739b1250b758bcbfe567"
)


# ---------------------------------------------------------------------------------------------
# LND identifier and root key file helpers (test-only)

def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(num, data):
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def lnd_identifier(nonce, storage_id, ops):
    """Bakery Version3 id: 0x03 || MacaroonId{nonce=1, storageId=2, ops=3 Op{entity=1, actions=2}}.
    `ops` is a list of (entity, [actions]) already canonical."""
    body = _field(1, nonce) + _field(2, storage_id)
    for entity, actions in ops:
        op = _field(1, entity.encode())
        for a in actions:
            op += _field(2, a.encode())
        body += _field(3, op)
    return b"\x03" + body


def read_root_keys(path):
    """Parses the plain `macaroons.rootkeys` file (PTRK1 format, see RootKeyFile.swift). Test-only:
    this is how a test can learn the daemon's root key without an RPC."""
    data = Path(path).read_bytes()
    assert data.startswith(b"PTRK1\n"), "root key file is sealed or unknown"
    data = data[6:]
    keys, i = {}, 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7f) << shift
            if b < 0x80:
                return value
            shift += 7
    while i < len(data):
        n = varint(); key_id = data[i:i + n]; i += n
        n = varint(); keys[key_id] = data[i:i + n]; i += n
    return keys


def deserialize(raw):
    return Macaroon.deserialize(binascii.b2a_base64(raw, newline=False).decode())


def raw_bytes(mac):
    import base64
    s = mac.serialize()
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def time_before(delta_seconds):
    t = datetime.now(timezone.utc) + timedelta(seconds=delta_seconds)
    return "time-before " + t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_pymacaroons_fixture():
    """The fixture that Swift verifies (PymacaroonsInteropTests.swift): pymacaroons output."""
    ident = lnd_identifier(FIXTURE_NONCE, b"0", [("offchain", ["read", "write"])])
    m = Macaroon(location="lnd", identifier=ident, key=FIXTURE_ROOT_KEY, version=MACAROON_V2)
    for c in FIXTURE_CAVEATS:
        m.add_first_party_caveat(c)
    m.add_first_party_caveat("declared user alice")
    return raw_bytes(m)


# ---------------------------------------------------------------------------------------------
# Offline: no daemon needed

def _accept_all(_):
    return True


def test_pymacaroons_verifies_swift_minted_macaroon():
    raw = bytes.fromhex(SWIFT_MINTED_HEX)
    m = deserialize(raw)
    assert m.location == "lnd"
    assert m.identifier_bytes == lnd_identifier(FIXTURE_NONCE, b"0", [("offchain", ["read", "write"])])
    assert [c.caveat_id_bytes.decode() for c in m.first_party_caveats()] == FIXTURE_CAVEATS
    v = Verifier()
    v.satisfy_general(_accept_all)
    assert v.verify(m, FIXTURE_ROOT_KEY)
    with pytest.raises(Exception):
        Verifier().verify(m, bytes(32))  # wrong root key
    assert raw_bytes(m) == raw  # pymacaroons re-serializes our bytes identically


def test_fixture_is_pymacaroons_output():
    assert make_pymacaroons_fixture().hex() == PYMACAROONS_FIXTURE_HEX


# ---------------------------------------------------------------------------------------------
# Against the real daemon

def _router(daemon, macaroon):
    import grpc  # noqa: F401
    from routerrpc import router_pb2_grpc
    return router_pb2_grpc.RouterStub(daemon.channel(macaroon=macaroon))


def _track(daemon, macaroon):
    """Calls TrackPaymentV2 for an unknown hash; returns (code, details)."""
    import grpc
    from routerrpc import router_pb2
    stub = _router(daemon, macaroon)
    try:
        for _ in stub.TrackPaymentV2(router_pb2.TrackPaymentRequest(payment_hash=UNKNOWN_HASH), timeout=10):
            pass
    except grpc.RpcError as e:
        return e.code(), e.details()
    return grpc.StatusCode.OK, ""


def _root_key(daemon):
    path = daemon.macaroon_path("admin").parent / "macaroons.rootkeys"
    return read_root_keys(path)[b"0"]


def test_lnd_sample_client_admin_and_readonly_pass_auth(daemon):
    import grpc
    for name in ("admin", "readonly"):
        assert _track(daemon, name) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated"), name


def test_invoice_macaroon_refused(daemon):
    import grpc
    assert _track(daemon, "invoice") == (grpc.StatusCode.UNKNOWN, "permission denied")


def test_router_macaroon_tracks(daemon):
    import grpc
    assert _track(daemon, "router") == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")


def test_no_macaroon_and_garbage(daemon):
    import grpc
    from routerrpc import router_pb2
    stub = _router(daemon, None)
    with pytest.raises(grpc.RpcError) as e:
        for _ in stub.TrackPaymentV2(router_pb2.TrackPaymentRequest(payment_hash=UNKNOWN_HASH), timeout=10):
            pass
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.UNKNOWN, "expected 1 macaroon, got 0")
    assert _track(daemon, "0g") == (grpc.StatusCode.UNKNOWN, "encoding/hex: invalid byte: U+0067 'g'")


def test_admin_file_modes(daemon):
    d = daemon.macaroon_path("admin").parent
    assert (d / "admin.macaroon").stat().st_mode & 0o777 == 0o640
    for name in ("readonly", "invoice", "router"):
        assert (d / f"{name}.macaroon").stat().st_mode & 0o777 == 0o644
    assert (d / "macaroons.rootkeys").stat().st_mode & 0o777 == 0o600


def test_pymacaroons_attenuates_admin_with_time_before(daemon):
    import grpc
    admin = deserialize(daemon.macaroon_path("admin").read_bytes())
    # pymacaroons can verify it given the root key (read test-only from the datadir).
    v = Verifier()
    v.satisfy_general(_accept_all)
    assert v.verify(admin, _root_key(daemon))

    ok = admin.copy()
    ok.add_first_party_caveat(time_before(60))
    assert _track(daemon, raw_bytes(ok)) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")

    soon = admin.copy()
    cond = time_before(1.5)
    soon.add_first_party_caveat(cond)
    assert _track(daemon, raw_bytes(soon)) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
    time.sleep(2.0)
    assert _track(daemon, raw_bytes(soon)) == (
        grpc.StatusCode.UNKNOWN, f'caveat "{cond}" not satisfied: macaroon has expired')

    other_ip = admin.copy()
    other_ip.add_first_party_caveat("ipaddr 10.1.2.3")
    assert _track(daemon, raw_bytes(other_ip)) == (
        grpc.StatusCode.UNKNOWN,
        'caveat "ipaddr 10.1.2.3" not satisfied: macaroon locked to different IP address')
    local_ip = admin.copy()
    local_ip.add_first_party_caveat("ipaddr 127.0.0.1")
    assert _track(daemon, raw_bytes(local_ip)) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")


def test_pymacaroons_minted_lnd_identifier_accepted(daemon):
    import grpc
    key = _root_key(daemon)
    ident = lnd_identifier(os.urandom(16), b"0", [("offchain", ["read"])])
    m = Macaroon(location="lnd", identifier=ident, key=key, version=MACAROON_V2)
    assert _track(daemon, raw_bytes(m)) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
    # uri: permission works too (LND's fallback).
    ident = lnd_identifier(os.urandom(16), b"0", [("uri", ["/routerrpc.Router/TrackPaymentV2"])])
    m = Macaroon(location="lnd", identifier=ident, key=key, version=MACAROON_V2)
    assert _track(daemon, raw_bytes(m)) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
    # Same identifier signed with another key: refused.
    forged = Macaroon(location="lnd", identifier=ident, key=os.urandom(32), version=MACAROON_V2)
    assert _track(daemon, raw_bytes(forged)) == (
        grpc.StatusCode.UNKNOWN, "verification failed: signature mismatch after caveat verification")
    # Unknown root key id.
    ident = lnd_identifier(os.urandom(16), b"77", [("offchain", ["read"])])
    m = Macaroon(location="lnd", identifier=ident, key=key, version=MACAROON_V2)
    assert _track(daemon, raw_bytes(m)) == (
        grpc.StatusCode.UNKNOWN,
        "cannot retrieve macaroon: cannot get macaroon: root key with id 77 doesn't exist")


def test_bake_macaroon_verified_by_pymacaroons(daemon):
    import grpc
    import lightning_pb2
    import lightning_pb2_grpc
    stub = lightning_pb2_grpc.LightningStub(daemon.channel(macaroon="admin"))
    resp = stub.BakeMacaroon(lightning_pb2.BakeMacaroonRequest(
        permissions=[lightning_pb2.MacaroonPermission(entity="offchain", action="read")], root_key_id=5))
    m = deserialize(bytes.fromhex(resp.macaroon))
    assert m.identifier_bytes[0] == 3 and m.location == "lnd"
    assert _track(daemon, bytes.fromhex(resp.macaroon)) == (grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
    keys = read_root_keys(daemon.macaroon_path("admin").parent / "macaroons.rootkeys")
    v = Verifier()
    v.satisfy_general(_accept_all)
    assert v.verify(m, keys[b"5"])
    with pytest.raises(grpc.RpcError) as e:
        stub.BakeMacaroon(lightning_pb2.BakeMacaroonRequest(
            permissions=[lightning_pb2.MacaroonPermission(entity="bogus", action="read")]))
    assert e.value.code() == grpc.StatusCode.UNKNOWN
    assert e.value.details().startswith("invalid permission entity. supported actions are [read write generate]")


if __name__ == "__main__" and "--print-fixture" in sys.argv:
    print(make_pymacaroons_fixture().hex())
