"""Shared fixtures for the agent tests: one engine over the real tables of this machine."""

import pytest

from daemon_harness import daemon_factory
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
    with daemon_factory(tmp_path) as make:
        yield make
