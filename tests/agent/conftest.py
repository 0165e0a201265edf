"""Shared fixtures for the agent tests: one engine over the real tables of this machine, a made-up
host for the tables this machine leaves empty, and the guard against loops over no rows."""

import logging

import pytest

import tablecheck
from daemon_harness import daemon_factory
from fakehost import Host
from pyosquery.sql.engine import Engine


@pytest.fixture(scope="session")
def engine():
    return Engine()


@pytest.fixture()
def query(engine):
    """Run SQL, return rows as dicts (a tablecheck.Rows: looping over none of them fails the test)."""
    return lambda sql: tablecheck.Rows(sql, engine.query_dicts(sql))


@pytest.fixture()
def fake_host(tmp_path, monkeypatch):
    """A fakehost.Host under tmp_path: `fake_host.make(table)` gives the table rows of its own."""
    host = Host(tmp_path / "host", monkeypatch)
    yield host
    host.close()


@pytest.fixture(autouse=True)
def agent_logger_restored():
    """The "pyosquery" logger as it was before the test: status.setup() (the daemon's status log)
    stops propagation to the root logger, where caplog listens, and installs file handlers."""
    logger = logging.getLogger("pyosquery")
    saved = logger.propagate, logger.level, list(logger.handlers)
    yield
    logger.propagate, logger.level = saved[0], saved[1]
    for handler in [h for h in logger.handlers if h not in saved[2]]:
        logger.removeHandler(handler)
        handler.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test that looped over a query's or a generator's rows while there were none."""
    del tablecheck.EMPTY_LOOPS[:]
    result = yield
    if tablecheck.EMPTY_LOOPS:
        looped = "; ".join(dict.fromkeys(tablecheck.EMPTY_LOOPS))
        pytest.fail("%s looped over no rows of %s: its checks ran zero times; give the table a fixture "
                    "(fakehost.py) or assert the rows are empty with ==" % (item.name, looped), pytrace=False)
    return result


@pytest.fixture()
def daemons(tmp_path):
    """Make real pyosqueryd processes (daemon_harness.Daemon) under tmp_path; all are stopped after the test."""
    with daemon_factory(tmp_path) as make:
        yield make
