"""Shared fixtures for the agent tests: one engine over the real tables of this machine."""

import pytest

from pyosquery.sql.engine import Engine


@pytest.fixture(scope="session")
def engine():
    return Engine()


@pytest.fixture()
def query(engine):
    """Run SQL, return rows as dicts."""
    return engine.query_dicts
