"""The events framework (pyosquery/events): a real hub, a real SQLite buffer, the real engine.

The daemon-level behaviour (scheduled queries across a restart, --disable_events, a burst in a
running worker) is in test_events_daemon.py.
"""

import logging
import threading
import time

import pytest

from event_publisher import TABLE, TestPublisher
from pyosquery import events
from pyosquery.events import registry
from pyosquery.events.hub import Hub
from pyosquery.flags import Values


def make_hub(path, **flags):
    values = Values()
    values.set("disable_events", False)
    for name, value in flags.items():
        values.set(name, value)
    return Hub(values, str(path), classes=[("testpub", TestPublisher)])


@pytest.fixture()
def hubs(tmp_path):
    """hubs(**flags) -> a Hub on tmp_path/events.db, installed for the engine; all stopped after."""
    made = []

    def make(**flags):
        hub = make_hub(tmp_path / "events.db", **flags)
        made.append(hub)
        events.install(hub)
        return hub

    yield make
    events.install(None)
    for hub in made:
        if hub.writer is not None or hub.active:
            hub.stop()


def emit(hub, paths, when=None):
    hub.emit(TABLE, [{"action": "insert", "path": path, "time": when} for path in paths])
    hub.flush()


def paths(engine, where=""):
    return [row[0] for row in engine.query("SELECT path FROM %s %s" % (TABLE, where))[1]]


def scheduled(engine, name, commit=True):
    with events.scheduled(name) as run:
        found = paths(engine)
    if commit:
        run.commit()
    return found


def test_an_ad_hoc_query_returns_every_kept_event_with_increasing_eids(hubs, engine):
    hub = hubs()
    emit(hub, ["a", "b", "c"])
    rows = engine.query_dicts("SELECT path, eid, time FROM %s" % TABLE)
    assert [row["path"] for row in rows] == ["a", "b", "c"]
    assert [row["eid"] for row in rows] == sorted({row["eid"] for row in rows})
    assert all(len(row["eid"]) == 10 and abs(row["time"] - time.time()) < 60 for row in rows)
    assert paths(engine) == ["a", "b", "c"]     # reading changes nothing for ad-hoc queries


def test_a_scheduled_query_gets_each_event_once_even_after_a_restart(hubs, engine, tmp_path):
    hub = hubs()
    emit(hub, ["a", "b"])
    assert scheduled(engine, "q") == ["a", "b"]
    assert scheduled(engine, "q") == []
    assert scheduled(engine, "other") == ["a", "b"]     # marks are per scheduled query
    emit(hub, ["c"])
    hub.stop()
    hub = hubs()                                        # the same database, as after a restart
    assert scheduled(engine, "q") == ["c"]
    emit(hub, ["d"])
    assert scheduled(engine, "q") == ["d"]
    assert paths(engine) == ["a", "b", "c", "d"]


def test_a_query_dropped_from_the_schedule_starts_afresh_when_added_back(hubs, engine):
    hub = hubs()
    emit(hub, ["a"])
    assert scheduled(engine, "q") == ["a"] and scheduled(engine, "kept") == ["a"]
    hub.configure({}, ["kept"])
    assert scheduled(engine, "q") == ["a"] and scheduled(engine, "kept") == []


def test_a_run_whose_rows_were_not_logged_gets_them_again(hubs, engine):
    hub = hubs()
    emit(hub, ["a"])
    assert scheduled(engine, "q", commit=False) == ["a"]
    assert scheduled(engine, "q") == ["a"]
    assert scheduled(engine, "q") == []


def test_one_run_reading_a_table_twice_sees_the_same_events(hubs, engine):
    hub = hubs()
    emit(hub, ["a", "b"])
    with events.scheduled("q") as run:
        rows = engine.query("SELECT count(*) FROM %s x JOIN %s y ON x.eid = y.eid" % (TABLE, TABLE))[1]
    assert rows == [(2,)] and run.evented


def test_events_past_expiry_are_dropped(hubs, engine):
    hub = hubs(events_expiry=60)
    now = int(time.time())
    emit(hub, ["old"], when=now - 120)
    emit(hub, ["new"], when=now)
    assert paths(engine) == ["new"]
    assert hub.buffer.counts[TABLE] == 1        # deleted from the database, not just hidden


def test_events_max_keeps_the_newest(hubs, engine):
    hub = hubs(events_max=3)
    emit(hub, ["e%d" % i for i in range(5)])
    emit(hub, ["e5"])
    assert paths(engine) == ["e3", "e4", "e5"]


def test_time_constraints_reach_the_buffer(hubs, engine):
    hub = hubs(events_expiry=0)
    for when in (100, 200, 300):
        emit(hub, ["t%d" % when], when=when)
    assert paths(engine, "WHERE time > 150") == ["t200", "t300"]
    assert paths(engine, "WHERE time <= 200 AND time >= 200") == ["t200"]
    assert paths(engine, "WHERE time = 200") == ["t200"]        # `additional`: SQLite does not re-check it
    assert paths(engine, "WHERE time IN (100, 300)") == ["t100", "t300"]
    plan = " ".join(str(row) for row in engine.explain("SELECT * FROM %s WHERE time > 150" % TABLE))
    assert "time>" in plan


def test_a_burst_beyond_the_pending_bound_is_counted_lost_and_said_once_a_second(hubs, caplog):
    hub = hubs()
    hub.bound = 50 * 1000
    row = {"action": "burst", "model": "x" * 1000}
    caplog.set_level(logging.WARNING, logger="pyosquery.events")
    hub.emit(TABLE, [row] * 200)
    assert hub.pending_bytes <= hub.bound and len(hub.pending) < 50
    first = 200 - len(hub.pending)
    hub.flush()
    hub.emit(TABLE, [row] * 100)       # within the same second: counted, not said yet
    lost = first + 100 - len(hub.pending)
    hub.flush()
    warnings = [r.getMessage() for r in caplog.records if "Events lost" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("Events lost: %d %s events" % (first, TABLE))
    _, subscribers = hub.counts()
    assert subscribers[TABLE]["lost"] == lost
    assert subscribers[TABLE]["events"] == 300


def test_the_config_can_disable_a_subscriber(hubs, engine):
    hub = hubs()
    hub.configure({"events": {"disable_subscribers": [TABLE]}})
    emit(hub, ["a"])
    assert paths(engine) == []
    hub.configure({"events": {"disable_subscribers": [TABLE], "enable_subscribers": [TABLE]}})
    emit(hub, ["b"])
    assert paths(engine) == ["b"]


def test_publishers_start_emit_and_stop(hubs, engine):
    hub = hubs()
    hub.configure({"test_events": {"count": 3, "every": 0}})
    hub.start()
    publisher = hub.publishers["testpub"]
    deadline = time.time() + 10
    while publisher.emitted < 3 and time.time() < deadline:
        time.sleep(0.01)
    hub.stop()      # writes what is pending
    assert not publisher.thread.is_alive() and not hub.active
    assert [t for t in threading.enumerate() if t.name == "events-writer"] == []
    assert hub.received == {TABLE: 3}


def test_a_publisher_that_cannot_start_is_an_error_and_inactive(hubs, caplog):
    hub = hubs()
    hub.configure({"test_events": {"fail": "the kernel says no"}})
    hub.start()
    assert "Event publisher testpub cannot start: the kernel says no" in caplog.text
    publishers, _ = hub.counts()
    assert publishers["testpub"]["active"] == 0


def test_the_registry_reads_extra_publishers_and_skips_missing_modules(caplog):
    caplog.set_level(logging.DEBUG, logger="pyosquery.events")
    environ = {registry.ENVIRONMENT: "testpub=event_publisher:TestPublisher,gone=no_such_module:X,bad"}
    assert registry.entries(environ)["testpub"] == "event_publisher:TestPublisher"
    assert "gone" in registry.entries(environ)
    found = dict(registry.publisher_classes(environ))
    assert found["testpub"] is TestPublisher and "gone" not in found
    assert "Event publisher gone: no module no_such_module; skipped" in caplog.text
    assert "'bad' is not name=module:Class" in caplog.text


def test_an_ephemeral_store_buffers_events_in_memory(engine):
    from pyosquery.events.buffer import store_path   # pylint: disable=import-outside-toplevel
    from pyosquery.store.db import Store   # pylint: disable=import-outside-toplevel
    store = Store(":memory:")
    assert store_path(store) == ":memory:"
    hub = make_hub(":memory:")
    events.install(hub)
    try:
        emit(hub, ["a"])
        assert paths(engine) == ["a"]
    finally:
        events.install(None)
        hub.stop()
        store.close()


def test_a_database_that_cannot_hold_events_falls_back_to_memory(tmp_path, caplog):
    from pyosquery.events.buffer import open_buffer   # pylint: disable=import-outside-toplevel
    path = str(tmp_path / "no" / "such" / "events.db")
    buffer = open_buffer(path)
    try:
        assert buffer.path == ":memory:"
        assert "Cannot keep events in the database %s" % path in caplog.text
    finally:
        buffer.close()


def test_the_scheduler_logs_new_events_as_osquerys_add_new_events(hubs, tmp_path):
    from test_scheduler import Agent, one_query   # pylint: disable=import-outside-toplevel
    hub = hubs()
    agent = Agent(tmp_path, one_query("SELECT path FROM %s" % TABLE))
    query = next(iter(agent.packs.all_queries()))

    def run():
        agent.scheduler.execute(query, int(time.time()))
        return [(line["columns"]["path"], line["action"], line["counter"]) for line in agent.results()]

    emit(hub, ["a", "b"])
    assert run() == [("a", "added", 1), ("b", "added", 1)]
    assert run() == [("a", "added", 1), ("b", "added", 1)]     # no new event: nothing logged
    emit(hub, ["c"])
    assert run()[2:] == [("c", "added", 2)]
    agent.values.set("schedule_epoch", 7)
    emit(hub, ["d"])
    assert run()[3:] == [("d", "added", 1)]                       # a new epoch starts at 1 again
    agent.values.set("events_optimize", False)
    assert [row[:2] for row in run()[4:]] == [("a", "added"), ("b", "added"), ("c", "added"), ("d", "added")]


@pytest.mark.parametrize("sql, enforce, denied", [
    ("SELECT path FROM %s h WHERE h.time > 0" % TABLE, False, False),     # events only: the denial ends
    ("SELECT path FROM %s h WHERE h.time > 0" % TABLE, True, True),       # --events_enforce_denylist
    ("SELECT path FROM %s JOIN time" % TABLE, False, True),               # another table too
])
def test_a_denylisted_query_reading_only_evented_tables_runs_anyway(tmp_path, sql, enforce, denied):
    from test_scheduler import Agent, one_query   # pylint: disable=import-outside-toplevel
    agent = Agent(tmp_path, one_query(sql), "--events_enforce_denylist=%s" % str(enforce).lower())
    query = next(iter(agent.packs.all_queries()))
    now = int(time.time())
    agent.store.deny(query.name, now + 86400)
    assert agent.schedule()[query.name]["denylisted"] == int(denied)
    assert agent.scheduler.denylisted(query, now) is denied
    assert (query.name in agent.store.denylist()) is denied
