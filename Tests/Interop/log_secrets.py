"""The secrets a paytrackd datadir holds and the log files it wrote, and a search of the one in
the other (issue 17 point 3: no secret ever logged).

`harness.Daemon.start` records every daemon the interop tests start (`harness.STARTED`); at the
end of the session conftest.py collects, from each datadir and its flags, every secret the run
used and greps every log of every daemon for each of them (any daemon's secret in any log):

- macaroons: every `*.macaroon` file (the defaults of every served node and any written by a
  test): hex (both cases), base64 (standard and URL-safe) and the signature in those forms;
- passwords: each node's KDF `rpc_password` (the mmrpc userpass), the files named by
  `--macaroon-password-file` and `--kdf.rpcpassword-file`, as text;
- preimages: every settled HTLC's preimage in `payments.sqlite` and every invoice preimage in
  `invoices.sqlite` (SQLite datadirs; PostgreSQL-backed daemons keep theirs in the database):
  hex (both cases) and base64.

Logs: the console capture `paytrackd.test.log` and every `paytrackd.log*` under the datadir or a
`--logdir`. A secret of all-equal bytes (e.g. a test's zero preimage) is skipped: its hex also
spells a zero hash, which logs may carry legitimately.
"""
import base64
import binascii
import os
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

MIN_TOKEN = 16


def forms(raw):
    """The spellings of a binary secret a log line could contain."""
    return {raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode().rstrip("=")}


def macaroon_signature(raw):
    try:
        from pymacaroons import Macaroon
        return bytes.fromhex(Macaroon.deserialize(binascii.b2a_base64(raw, newline=False).decode()).signature)
    except Exception:  # noqa: not a macaroon pymacaroons reads: its bytes are still searched
        return None


def _flag_values(args, name):
    out = []
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith(name + "="):
            out.append(a.split("=", 1)[1])
    return out


def _sqlite_rows(path, query):
    """Rows of `query` on a copy of the database (its WAL too), so a crashed daemon's files are
    read as they are and never changed."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        for suffix in ("", "-wal"):
            src = Path(str(path) + suffix)
            if src.exists():
                shutil.copyfile(src, str(copy) + suffix)
        try:
            con = sqlite3.connect(copy)
            try:
                return con.execute(query).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return []


def _trivial(raw):
    return len(set(raw)) <= 1


def collect_secrets(datadir, args=()):
    """{description: set of forms} of every secret in `datadir` and named by `args`."""
    datadir = Path(datadir)
    secrets = {}
    if not datadir.exists():
        return secrets
    for p in sorted(datadir.rglob("*.macaroon")):
        raw = p.read_bytes()
        if not raw or _trivial(raw):
            continue
        secrets[f"macaroon {p}"] = forms(raw)
        sig = macaroon_signature(raw)
        if sig and not _trivial(sig):
            secrets[f"macaroon signature {p}"] = forms(sig)
    passwords = sorted(datadir.rglob("rpc_password"))
    passwords += [Path(v) for flag in ("--macaroon-password-file", "--kdf.rpcpassword-file") for v in _flag_values(args, flag)]
    for p in passwords:
        try:
            text = p.read_text().strip()
        except OSError:
            continue
        if text:
            secrets[f"password {p}"] = {text}
    queries = {"payments.sqlite": "SELECT settle_preimage FROM htlc_attempts WHERE settle_preimage IS NOT NULL",
               "invoices.sqlite": "SELECT preimage FROM invoices WHERE preimage IS NOT NULL"}
    for name, query in queries.items():
        for db in sorted(datadir.rglob(name)):
            for (pre,) in _sqlite_rows(db, query):
                pre = bytes(pre)
                if len(pre) == 32 and not _trivial(pre):
                    secrets[f"preimage {pre.hex()[:8]}… {db}"] = forms(pre)
    return secrets


def log_files(datadir, args=()):
    datadir = Path(datadir)
    roots = [datadir] + [Path(d) for d in _flag_values(args, "--logdir")]
    out = set()
    for r in roots:
        if r.exists():
            out.update(r.rglob("paytrackd.log*"))
            out.update(r.rglob("*.test.log"))
    return sorted(p for p in out if p.is_file())


def find_leaks(secrets, texts):
    """[(secret description, log name)] for every form of every secret found in a text.

    Forms made of base64/hex characters and at least 2*Q-1 long (macaroons, preimages,
    signatures) are found through their Q-grams: any occurrence inside a run of such characters in
    a log fully covers a Q-gram of the run starting at a multiple of Q, so only those are looked
    up (then the whole form is compared). Other forms (passwords) are searched as substrings."""
    token_chars = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
    q = MIN_TOKEN
    grams, plain = {}, []
    for what, fs in secrets.items():
        for f in fs:
            if len(f) >= 2 * q - 1 and set(f) <= token_chars:
                for j in range(len(f) - q + 1):
                    grams.setdefault(f[j:j + q], []).append((what, f, j))
            else:
                plain.append((what, f))
    run = re.compile(r"[A-Za-z0-9+/=_-]{%d,}" % q)
    leaks = set()
    for where, text in texts.items():
        for what, f in plain:
            if f in text:
                leaks.add((what, where))
        for m in run.finditer(text):
            r = m.group(0)
            for i in range(0, len(r) - q + 1, q):
                for what, f, j in grams.get(r[i:i + q], ()):
                    if i >= j and r.startswith(f, i - j):
                        leaks.add((what, where))
    return sorted(leaks)


def scan(started):
    """Collects and searches for a list of (datadir, args); returns (secrets, log texts, leaks)."""
    secrets, texts = {}, {}
    for datadir, args in started:
        secrets.update(collect_secrets(datadir, args))
        for p in log_files(datadir, args):
            texts[str(p)] = p.read_text(errors="replace")
    return secrets, texts, find_leaks(secrets, texts)
