#!/usr/bin/env python3
"""Independent BOLT 11 reference decoder (pure Python: bech32, tagged fields, secp256k1).

Written from the BOLT 11 text, sharing no code with the Swift implementation, so that invoices
PayTrack writes can be checked by a second reader.

Usage:
  bolt11_ref.py INVOICE...      decode each argument, print one JSON object per line
  bolt11_ref.py -               read invoices from stdin, one per line

Each output line is {"ok": true, ...fields...} or {"ok": false, "error": "..."}.
"""
import hashlib
import json
import sys

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
GEN = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]

# secp256k1 domain parameters (SEC 2).
P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


class DecodeError(Exception):
    pass


# ---- elliptic curve arithmetic (affine, None = point at infinity) ----

def ec_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def ec_mul(k, pt):
    result = None
    addend = pt
    while k:
        if k & 1:
            result = ec_add(result, addend)
        addend = ec_add(addend, addend)
        k >>= 1
    return result


def lift_x(x, odd):
    if x >= P:
        return None
    y2 = (pow(x, 3, P) + 7) % P
    y = pow(y2, (P + 1) // 4, P)
    if y * y % P != y2:
        return None
    if (y & 1) != odd:
        y = P - y
    return (x, y)


def parse_pubkey(b):
    if len(b) != 33 or b[0] not in (2, 3):
        return None
    return lift_x(int.from_bytes(b[1:], "big"), b[0] == 3)


def ser_pubkey(pt):
    return bytes([2 + (pt[1] & 1)]) + pt[0].to_bytes(32, "big")


def ecdsa_recover(msg32, r, s, recid):
    if not (0 < r < N and 0 < s < N):
        return None
    x = r + N * (recid >> 1)
    R = lift_x(x, recid & 1)
    if R is None:
        return None
    e = int.from_bytes(msg32, "big")
    rinv = pow(r, -1, N)
    Q = ec_add(ec_mul(s * rinv % N, R), ec_mul((-e * rinv) % N, G))
    return Q


def ecdsa_verify(msg32, r, s, Q):
    if not (0 < r < N and 0 < s < N):
        return False
    e = int.from_bytes(msg32, "big")
    w = pow(s, -1, N)
    X = ec_add(ec_mul(e * w % N, G), ec_mul(r * w % N, Q))
    return X is not None and X[0] % N == r


# ---- bech32 ----

def polymod(values):
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= GEN[i]
    return chk


def bech32_decode(s):
    if s.lower() != s and s.upper() != s:
        raise DecodeError("mixed case")
    s = s.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s):
        raise DecodeError("no separator or too short")
    hrp = s[:pos]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise DecodeError("bad hrp character")
    try:
        data = [CHARSET.index(c) for c in s[pos + 1:]]
    except ValueError:
        raise DecodeError("bad data character")
    if polymod([ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data) != 1:
        raise DecodeError("bad checksum")
    return hrp, data[:-6]


def to_bytes(values, strict=True):
    acc = bits = 0
    out = bytearray()
    for v in values:
        acc = (acc << 5) | v
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if strict:
        if bits >= 5 or (acc & ((1 << bits) - 1)):
            raise DecodeError("non-zero padding")
    elif bits:
        out.append((acc << (8 - bits)) & 0xFF)
    return bytes(out)


def to_int(values):
    n = 0
    for v in values:
        n = n * 32 + v
    return n


def feature_bits(values):
    n = to_int(values)
    return [i for i in range(len(values) * 5) if (n >> i) & 1]


# ---- BOLT 11 ----

PREFIXES = {"lnbcrt": "regtest", "lntbs": "signet", "lnbc": "bitcoin", "lntb": "testnet", "lnsb": "simnet"}
MULT_PICO = {"m": 10 ** 9, "u": 10 ** 6, "n": 10 ** 3, "p": 1}
KNOWN_FEATURES = {8, 9, 14, 15, 16, 17, 30, 31, 48, 49}


def decode(invoice):
    hrp, data = bech32_decode(invoice)
    if len(data) < 104 + 7:
        raise DecodeError("too short")
    prefix = next((p for p in sorted(PREFIXES, key=len, reverse=True) if hrp.startswith(p)), None)
    if prefix is None:
        raise DecodeError("unknown prefix")
    rest = hrp[len(prefix):]
    amount_msat = None
    if rest:
        mult = None
        if rest[-1] in MULT_PICO:
            mult, rest = rest[-1], rest[:-1]
        if not rest.isdigit():
            raise DecodeError("bad amount")
        pico = int(rest) * (MULT_PICO[mult] if mult else 10 ** 12)
        if pico % 10:
            raise DecodeError("sub-millisatoshi amount")
        amount_msat = pico // 10
    # A currency prefix that is a prefix of another (lnbc/lnbcrt, lntb/lntbs) was matched longest-first;
    # any other letters left over are an unknown currency.
    if rest and not rest[0].isdigit():
        raise DecodeError("unknown currency")

    body, sig = data[:-104], data[-104:]
    timestamp = to_int(body[:7])
    out = {"network": PREFIXES[prefix], "amount_msat": amount_msat, "timestamp": timestamp,
           "payment_hash": None, "payment_secret": None, "description": None, "description_hash": None,
           "payee_field": None, "expiry": 3600, "min_final_cltv_expiry": 18, "fallbacks": [], "route_hints": [],
           "features": [], "metadata": None, "tags": []}
    seen = set()
    i = 7
    counts = {"p": 0, "s": 0, "d": 0}
    while i < len(body):
        if i + 3 > len(body):
            raise DecodeError("truncated field")
        tag = CHARSET[body[i]]
        length = body[i + 1] * 32 + body[i + 2]
        value = body[i + 3:i + 3 + length]
        if len(value) != length:
            raise DecodeError("truncated field")
        i += 3 + length
        first = tag not in seen
        if tag == "p" and length == 52:
            counts["p"] += 1
            if first:
                out["payment_hash"] = to_bytes(value).hex()
        elif tag == "s" and length == 52:
            counts["s"] += 1
            if first:
                out["payment_secret"] = to_bytes(value).hex()
        elif tag == "h" and length == 52:
            counts["d"] += 1
            if first:
                out["description_hash"] = to_bytes(value).hex()
        elif tag == "n" and length == 53:
            if first:
                out["payee_field"] = to_bytes(value).hex()
        elif tag == "d":
            counts["d"] += 1
            if first:
                out["description"] = to_bytes(value).decode("utf-8")
        elif tag == "x":
            if first:
                out["expiry"] = to_int(value)
        elif tag == "c":
            if first:
                out["min_final_cltv_expiry"] = to_int(value)
        elif tag == "f" and length >= 1 and value[0] <= 18:
            out["fallbacks"].append({"version": value[0], "program": to_bytes(value[1:]).hex()})
        elif tag == "r":
            raw = to_bytes(value)
            if len(raw) % 51:
                raise DecodeError("bad route hint length")
            hops = []
            for k in range(0, len(raw), 51):
                h = raw[k:k + 51]
                if parse_pubkey(h[:33]) is None:
                    raise DecodeError("bad route hint key")
                hops.append({"node_id": h[:33].hex(), "scid": int.from_bytes(h[33:41], "big"),
                             "fee_base_msat": int.from_bytes(h[41:45], "big"),
                             "fee_ppm": int.from_bytes(h[45:49], "big"),
                             "cltv_expiry_delta": int.from_bytes(h[49:51], "big")})
            out["route_hints"].append(hops)
        elif tag == "9":
            if first:
                out["features"] = feature_bits(value)
        elif tag == "m":
            if first:
                out["metadata"] = to_bytes(value).hex()
        else:
            out["tags"].append("?")
            continue
        seen.add(tag)
        out["tags"].append(tag)
    if counts["p"] != 1 or counts["d"] != 1 or counts["s"] != 1:
        raise DecodeError("need exactly one p, one d or h, one s")
    if any(b % 2 == 0 and b not in KNOWN_FEATURES for b in out["features"]):
        raise DecodeError("unknown even feature bit")
    if not ({14, 15} & set(out["features"])):
        raise DecodeError("payment_secret feature missing")

    sigbytes = to_bytes(sig)
    r = int.from_bytes(sigbytes[:32], "big")
    s = int.from_bytes(sigbytes[32:64], "big")
    recid = sigbytes[64]
    if recid > 3:
        raise DecodeError("bad recovery id")
    msg = hashlib.sha256(hrp.encode() + to_bytes(body, strict=False)).digest()
    if out["payee_field"] is not None:
        Q = parse_pubkey(bytes.fromhex(out["payee_field"]))
        if Q is None or s > N // 2 or not ecdsa_verify(msg, r, s, Q):
            raise DecodeError("invalid signature for n")
        payee = out["payee_field"]
    else:
        Q = ecdsa_recover(msg, r, s, recid)
        if Q is None:
            raise DecodeError("signature not recoverable")
        payee = ser_pubkey(Q).hex()
    out["payee"] = payee
    out["signature"] = sigbytes[:64].hex()
    out["recovery_id"] = recid
    out["signing_hash"] = msg.hex()
    return out


def main(argv):
    items = argv[1:]
    if items == ["-"]:
        items = [line.strip() for line in sys.stdin if line.strip()]
    for inv in items:
        try:
            res = decode(inv)
            res["ok"] = True
        except (DecodeError, UnicodeDecodeError, ValueError) as e:
            res = {"ok": False, "error": str(e)}
        print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
