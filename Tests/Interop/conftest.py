import pytest

import harness
import log_secrets


def pytest_configure(config):
    harness.generate_stubs()


@pytest.fixture
def daemon(tmp_path):
    """A running paytrackd with macaroons on, in a fresh datadir; stopped after the test."""
    d = harness.Daemon(tmp_path / "node").start()
    yield d
    d.stop()


_LOG_SECRETS = {}


def pytest_sessionfinish(session, exitstatus):
    """No secret in any log of the run (issue 17 point 3): every macaroon, password and preimage
    of every daemon the session started, searched in every log of every one of them. A leak, or a
    run that started daemons but found no secret or no log to search, fails the session."""
    if not harness.STARTED:
        return
    secrets, texts, leaks = log_secrets.scan(harness.STARTED)
    _LOG_SECRETS.update(daemons=len(harness.STARTED), secrets=len(secrets), logs=len(texts),
                        bytes=sum(len(t) for t in texts.values()), leaks=leaks)
    if leaks or not secrets or not texts:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    r = _LOG_SECRETS
    if not r:
        return
    terminalreporter.write_sep("=", "secrets in logs")
    terminalreporter.write_line(f"{r['daemons']} daemons, {r['secrets']} secrets (macaroons, passwords, preimages), "
                                f"{r['logs']} log files ({r['bytes']:,} bytes): {len(r['leaks'])} leaks")
    for what, where in r["leaks"]:
        terminalreporter.write_line(f"LEAK: {what} in {where}", red=True)
    if not r["secrets"] or not r["logs"]:
        terminalreporter.write_line("FAIL: daemons ran but no secret or no log was found to search", red=True)
