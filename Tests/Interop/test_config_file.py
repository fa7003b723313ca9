"""paytrackd.conf (issue 17 point 1): the daemon reads DATADIR/paytrackd.conf (or --configfile) in
lnd.conf's INI syntax, flags override it, and a bad file stops it before it serves anything."""
import subprocess

import harness
import lnd
from lnd import ln


def test_settings_from_the_file_and_flags_over_it(tmp_path):
    datadir = tmp_path / "node"
    datadir.mkdir()
    (datadir / "paytrackd.conf").write_text(
        "; LND-style file\n[Application Options]\nmaxlogfiles=2\nnetwork=simnet\n\n"
        "[routerrpc]\nusestatusinitiated=1\n\n[sim]\nseed=42\n")
    # The harness passes --network testnet: the flag wins over the file's simnet.
    infos = []
    for directory in (datadir, tmp_path / "plain"):
        d = harness.Daemon(directory).start()
        try:
            with d.channel() as ch:
                infos.append(lnd.lnstub.LightningStub(ch).GetInfo(ln.GetInfoRequest(), timeout=10))
        finally:
            d.stop()
    assert [c.network for c in infos[0].chains] == ["testnet"]
    assert (datadir / "logs" / "bitcoin" / "testnet" / "paytrackd.log").exists()
    # The file's [sim] seed=42 gives alice another identity than the default seed 1.
    assert infos[0].identity_pubkey != infos[1].identity_pubkey


def test_a_bad_file_stops_the_daemon_with_file_line_and_key(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[Application Options]\nnetwork=regtest\n\n[sim]\nlatency=fast\n")
    p = subprocess.run([harness.PAYTRACKD, "--datadir", str(tmp_path / "d"), "--configfile", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == f"paytrackd: {conf}:5: sim.latency: --sim.latency wants a number ≥ 0\n"
    assert not (tmp_path / "d" / "tls.cert").exists()
    conf.write_text("[Application Options]\nrpclisten=127.0.0.1:1\n[db]\nnosuchkey=postgres\n")
    p = subprocess.run([harness.PAYTRACKD, "--datadir", str(tmp_path / "d"), "--configfile", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stderr) == (1, f"paytrackd: {conf}:4: db.nosuchkey: unknown option\n")
