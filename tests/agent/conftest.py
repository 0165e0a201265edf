"""Shared fixtures for the agent tests: one engine over the real tables of this machine."""

import pytest

from daemon_harness import Daemon
from pyosquery.sql.engine import Engine


@pytest.fixture(scope="session")
def engine():
    return Engine()


@pytest.fixture()
def query(engine):
    """Run SQL, return rows as dicts."""
    return engine.query_dicts


@pytest.fixture()
def daemons(tmp_path):
    """Make real pyosqueryd processes (daemon_harness.Daemon) under tmp_path; all are stopped after the test."""
    started = []

    def make(config, name="d", **kwargs):
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        daemon = Daemon(root, config, **kwargs)
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        daemon.stop()
