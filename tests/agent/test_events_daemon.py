"""Evented tables in a real pyosqueryd: tests/agent/event_publisher.py's thread feeds hardware_events."""

import os

import pytest

from daemon_harness import status_log, wait_until
from event_publisher import TABLE
from pyosquery.events import registry
from pyosquery.events.hub import WRITER_NAME

HERE = os.path.dirname(os.path.abspath(__file__))
EVENTS_ON = ["--disable_events=false", "--schedule_splay_percent=0"]


@pytest.fixture(autouse=True)
def test_publisher(monkeypatch):
    """Daemons started by the test find the test publisher (tests/agent on their PYTHONPATH)."""
    monkeypatch.setenv(registry.ENVIRONMENT, "testpub=event_publisher:TestPublisher")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])))


def config(schedule=True, **test_events):
    queries = {"hw": {"query": "SELECT path, eid FROM %s" % TABLE, "interval": 1}} if schedule else {}
    return {"schedule": queries, "test_events": test_events}


def logged(daemon):
    return [line for line in daemon.results() if line["name"] == "hw"]


def logged_paths(daemon):
    return [line["columns"]["path"] for line in logged(daemon)]


def threads(pid):
    names = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, task), encoding="utf-8") as handle:
                names.append(handle.read().strip())
        except OSError:
            pass    # the thread ended meanwhile
    return names


def kept(daemon):
    return int(daemon.query("SELECT count(*) AS n FROM %s" % TABLE)[0]["n"])


def worker_pid(daemon):
    return int(daemon.query("SELECT pid FROM osquery_info")[0]["pid"])


def test_a_scheduled_query_logs_each_event_once_across_a_restart(daemons):
    daemon = daemons(config(count=20, every=0.05, prefix="a"), extra_flags=EVENTS_ON).start()
    wait_until(lambda: len(logged_paths(daemon)) >= 20, "the 20 first events logged")
    assert daemon.stop() == 0
    daemon.write_config(config(count=3, every=0.05, prefix="b"))
    daemon.start()
    wait_until(lambda: len(logged_paths(daemon)) >= 23, "the 3 events after the restart logged")
    lines = logged(daemon)
    assert sorted(logged_paths(daemon)) == sorted(["a-%d" % i for i in range(20)] + ["b-0", "b-1", "b-2"])
    assert {line["action"] for line in lines} == {"added"}
    counters = sorted({line["counter"] for line in lines})
    assert counters == list(range(1, len(counters) + 1))       # addNewEvents: 1, 2, ... across the restart
    # an ad-hoc query (the socket) gets every event still kept
    assert len(daemon.query("SELECT eid FROM %s" % TABLE)) == 23
    rows = {row["name"]: row for row in daemon.query("SELECT name, publisher, events, active, lost FROM osquery_events")}
    assert rows["testpub"]["active"] == "1" and rows["testpub"]["events"] == "3"
    assert rows[TABLE]["publisher"] == "testpub" and rows[TABLE]["events"] == "3" and rows[TABLE]["lost"] == "0"
    assert WRITER_NAME in threads(worker_pid(daemon))      # what the --disable_events test looks for


def test_disable_events_gives_no_rows_no_thread_and_no_publisher(daemons, tmp_path):
    started = tmp_path / "started"
    daemon = daemons(config(count=5, every=0, started=str(started)), extra_flags=["--schedule_splay_percent=0"])
    daemon.start()
    wait_until(lambda: daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"] not in ("0", "1"),
               "two runs of the scheduled query")
    assert not started.exists() and logged(daemon) == []
    assert daemon.query("SELECT * FROM %s" % TABLE) == []
    assert WRITER_NAME not in threads(worker_pid(daemon))
    assert {row["active"] for row in daemon.query("SELECT active FROM osquery_events")} == {"0"}


def test_a_burst_is_counted_lost_and_logged_and_memory_stays_bounded(daemons):
    # --watchdog_memory_limit=60: the pending list holds 3 MB; the burst is 60 MB of rows. No scheduled
    # query: its first run would hold every kept event at once, which is the query's cost, not the buffer's
    flags = EVENTS_ON + ["--disable_watchdog=true", "--watchdog_memory_limit=60", "--events_max=100000"]
    daemon = daemons(config(schedule=False, burst=60000, burst_bytes=1000), extra_flags=flags).start()
    pid = worker_pid(daemon)
    wait_until(lambda: int(daemon.query("SELECT events FROM osquery_events WHERE name = 'testpub'")[0]["events"])
               >= 60000, "the burst emitted")
    row = daemon.query("SELECT name, events, lost FROM osquery_events WHERE name = '%s'" % TABLE)[0]
    assert int(row["lost"]) > 0 and row["events"] == "60000"
    wait_until(lambda: kept(daemon) + int(row["lost"]) == 60000, "every event kept or counted lost")
    wait_until(lambda: "Events lost: " in status_log(daemon), "the lost events in the status log")
    with open("/proc/%d/status" % pid, encoding="utf-8") as handle:
        peak_kb = int(next(line for line in handle if line.startswith("VmHWM:")).split()[1])
    assert peak_kb < 60 * 1024, "the worker peaked at %d kB with a 3 MB pending bound" % peak_kb
