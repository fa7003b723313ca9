import pytest

import harness


def pytest_configure(config):
    harness.generate_stubs()


@pytest.fixture
def daemon(tmp_path):
    """A running paytrackd with macaroons on, in a fresh datadir; stopped after the test."""
    d = harness.Daemon(tmp_path / "node").start()
    yield d
    d.stop()
