"""The real pyosqueryd on a temporary directory: schedule, packs, results, stats, reloads."""

import os
import signal
import time

from daemon_harness import Daemon
from pyosquery.config.shard import machine_shard


def names(rows):
    return sorted(row["name"] for row in rows)


def test_discovery_with_no_rows_keeps_a_pack_off(daemons):
    config = {"schedule": {"ticks": {"query": "SELECT unix_time FROM time", "interval": 1}},
              "packs": {"never": {"discovery": ["SELECT 1 WHERE 0"],
                                  "queries": {"hidden": {"query": "SELECT 1 AS x", "interval": 1}}},
                        "always": {"discovery": ["SELECT 1"],
                                   "queries": {"shown": {"query": "SELECT 2 AS y", "interval": 1}}}}}
    daemon = daemons(config).start()
    daemon.wait_for(daemon.results, "a first result")
    time.sleep(2)
    assert names(daemon.query("SELECT name FROM osquery_schedule")) == ["pack_always_shown", "ticks"]
    packs = {row["name"]: row for row in daemon.query("SELECT * FROM osquery_packs")}
    assert packs["never"]["active"] == "0" and packs["always"]["active"] == "1"
    assert int(packs["never"]["discovery_executions"]) == 1
    assert int(packs["never"]["discovery_cache_hits"]) >= 1
    assert "pack_never_hidden" not in {line["name"] for line in daemon.results()}


def test_shard_below_the_machine_shard_skips_the_query(daemons):
    assert machine_shard("host1") == 89
    config = {"schedule": {"low": {"query": "SELECT 1 AS a", "interval": 1, "shard": 10},
                           "high": {"query": "SELECT 2 AS b", "interval": 1, "shard": 95},
                           "none": {"query": "SELECT 3 AS c", "interval": 1}}}
    daemon = daemons(config, hostname="host1").start()
    daemon.wait_for(lambda: len({line["name"] for line in daemon.results()}) >= 2, "results")
    assert names(daemon.query("SELECT name FROM osquery_schedule")) == ["high", "none"]
    assert daemon.results()[0]["hostIdentifier"] == "host1"


def test_interval_two_runs_on_every_second_step(daemons):
    daemon = daemons({"schedule": {"every2": {"query": "SELECT 1 AS a", "interval": 2}}}).start()

    def runs():
        return daemon.query("SELECT started, lateness_ms FROM osquery_schedule_runs WHERE name = 'every2'")

    daemon.wait_for(lambda: len(runs()) >= 6, "six runs")
    # the step each run was due at (step i is unix second i), whatever lateness a busy machine adds
    due = sorted(round(float(row["started"]) - float(row["lateness_ms"]) / 1000) for row in runs())
    assert all(step % 2 == 0 for step in due), due
    assert [b - a for a, b in zip(due, due[1:])] == [2] * (len(due) - 1), due
    executions = int(daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"])
    assert executions >= len(due)


def test_differential_logs_added_then_removed(daemons, tmp_path):
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "first").write_text("1")
    config = {"schedule": {"files": {"query": "SELECT filename FROM file WHERE directory = '%s'" % watched,
                                     "interval": 1}}}
    daemon = daemons(config).start()
    daemon.wait_for(daemon.results, "the initial results")
    (watched / "second").write_text("2")
    daemon.wait_for(lambda: len(daemon.results()) >= 2, "the added row")
    (watched / "first").unlink()
    daemon.wait_for(lambda: len(daemon.results()) >= 3, "the removed row")
    lines = daemon.results()
    assert [(l["action"], l["columns"]["filename"], l["counter"]) for l in lines[:3]] == [
        ("added", "first", 0), ("added", "second", 1), ("removed", "first", 2)]
    assert list(lines[0]) == ["name", "hostIdentifier", "calendarTime", "unixTime", "epoch", "counter",
                              "numerics", "columns", "action"]
    assert lines[0]["calendarTime"].endswith(" UTC") and isinstance(lines[0]["unixTime"], int)


def test_splay_spreads_intervals_both_ways(daemons):
    # interval 4 splayed by 100%: each query gets its own interval in 1..8, kept while it runs
    queries = {"q%02d" % number: {"query": "SELECT %d AS n" % number, "interval": 4} for number in range(30)}
    daemon = daemons({"schedule": queries}, extra_flags=["--schedule_splay_percent=100"]).start()

    def due_steps():
        steps = {}
        for row in daemon.query("SELECT name, started, lateness_ms FROM osquery_schedule_runs"):
            steps.setdefault(row["name"], []).append(round(float(row["started"]) - float(row["lateness_ms"]) / 1000))
        return steps

    daemon.wait_for(lambda: len([s for s in due_steps().values() if len(s) >= 2]) == len(queries),
                    "two runs of every query")
    intervals = {name: sorted(steps)[1] - sorted(steps)[0] for name, steps in due_steps().items()}
    assert set(intervals.values()) <= set(range(1, 9)), intervals
    # 30 draws from 1..8: none below 4 or none above it by chance: a probability under 1e-6
    assert min(intervals.values()) < 4 < max(intervals.values()), intervals


def _watch(tmp_path, files):
    """A directory holding `files` (empty files), for a query whose rows follow them."""
    watched = tmp_path / "watched"
    watched.mkdir()
    for name in files:
        (watched / name).write_text("")
    return watched


def actions(daemon, name):
    return [(line["action"], line["columns"]) for line in daemon.results() if line["name"] == name]


def test_differential_counts_duplicate_rows(daemons, tmp_path):
    watched = _watch(tmp_path, ["a", "b"])
    # one identical row per file: a multiset, not a set
    config = {"schedule": {"same": {"query": "SELECT 'x' AS v FROM file WHERE directory = '%s'" % watched,
                                    "interval": 1}}}
    daemon = daemons(config).start()
    daemon.wait_for(lambda: len(actions(daemon, "same")) == 2, "two identical rows added")
    (watched / "c").write_text("")
    daemon.wait_for(lambda: len(actions(daemon, "same")) == 3, "a third identical row added")
    for name in ("a", "b"):
        (watched / name).unlink()
    daemon.wait_for(lambda: len(actions(daemon, "same")) == 5, "two identical rows removed")
    assert actions(daemon, "same") == [("added", {"v": "x"})] * 3 + [("removed", {"v": "x"})] * 2


def test_removed_false_logs_additions_only(daemons, tmp_path):
    watched = _watch(tmp_path, ["a"])
    config = {"schedule": {"adds": {"query": "SELECT filename FROM file WHERE directory = '%s'" % watched,
                                    "interval": 1, "removed": False}}}
    daemon = daemons(config).start()
    daemon.wait_for(lambda: actions(daemon, "adds"), "the initial row")
    (watched / "a").unlink()
    daemon.wait_for(lambda: int(daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"]) >= 3,
                    "runs after the removal")
    (watched / "b").write_text("")
    daemon.wait_for(lambda: len(actions(daemon, "adds")) >= 2, "the added row")
    assert actions(daemon, "adds") == [("added", {"filename": "a"}), ("added", {"filename": "b"})]


def test_a_new_epoch_logs_every_row_again(daemons):
    config = {"schedule": {"rows": {"query": "SELECT 1 AS a UNION ALL SELECT 2", "interval": 1}}}
    daemon = daemons(config, extra_flags=["--schedule_epoch=7"]).start()
    daemon.wait_for(lambda: len(daemon.results()) >= 2, "the initial rows")
    assert daemon.stop() == 0
    daemon.extra_flags = ["--schedule_epoch=8"]
    daemon.start()
    # nothing changed but the epoch: every row is new again, counted from 0
    daemon.wait_for(lambda: len(daemon.results()) >= 4, "the rows again under the new epoch")
    lines = daemon.results()
    assert [(l["epoch"], l["counter"], l["action"], l["columns"]["a"]) for l in lines] == [
        (7, 0, "added", "1"), (7, 0, "added", "2"), (8, 0, "added", "1"), (8, 0, "added", "2")]


def test_snapshot_logs_every_run_whole(daemons):
    config = {"schedule": {"snap": {"query": "SELECT 1 AS a UNION ALL SELECT 2", "interval": 1, "snapshot": True}}}
    daemon = daemons(config).start()
    daemon.wait_for(lambda: daemon.log("pyosqueryd.snapshots.log").count("\n") >= 2, "two snapshots")
    import json   # pylint: disable=import-outside-toplevel
    line = json.loads(daemon.log("pyosqueryd.snapshots.log").splitlines()[0])
    assert list(line)[:3] == ["snapshot", "action", "name"]
    assert line["snapshot"] == [{"a": "1"}, {"a": "2"}] and line["action"] == "snapshot"


def test_stats_are_real_and_survive_a_restart(daemons):
    config = {"schedule": {"work": {"query": "SELECT count(*) AS n FROM file WHERE path LIKE '/usr/lib/%%'",
                                    "interval": 1}}}
    daemon = daemons(config).start()
    daemon.wait_for(lambda: int(daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"]) >= 2,
                    "two executions")
    before = daemon.query("SELECT * FROM osquery_schedule")[0]
    assert int(before["wall_time_ms"]) > 0 and int(before["output_size"]) > 0
    assert int(before["user_time"]) + int(before["system_time"]) > 0
    runs = daemon.query("SELECT * FROM osquery_schedule_runs")
    assert len(runs) >= 2 and all(float(r["wall_ms"]) > 0 and r["rows"] == "1" for r in runs)
    assert daemon.stop() == 0
    assert not os.path.exists(daemon.paths["pidfile"])
    daemon.start()
    after = daemon.query("SELECT * FROM osquery_schedule")[0]
    assert int(after["executions"]) >= int(before["executions"])
    assert len(daemon.query("SELECT * FROM osquery_schedule_runs")) >= len(runs)


def test_changed_sql_resets_the_stats(daemons):
    daemon = daemons({"schedule": {"q": {"query": "SELECT 1 AS a", "interval": 1}}}).start()
    daemon.wait_for(lambda: int(daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"]) >= 2,
                    "two executions")
    daemon.write_config({"schedule": {"q": {"query": "SELECT 2 AS a", "interval": 3600}}})
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: daemon.query("SELECT query FROM osquery_schedule")[0]["query"] == "SELECT 2 AS a",
                    "the new config")
    assert daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"] == "0"


def test_sighup_with_a_broken_config_keeps_the_old_schedule(daemons):
    daemon = daemons({"schedule": {"keep": {"query": "SELECT 1 AS a", "interval": 1}}}).start()
    daemon.wait_for(daemon.results, "a first result")
    daemon.write_config('{"schedule": {"keep": ')
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: "Error reading config" in daemon.log("pyosqueryd.ERROR"), "the error in the log")
    assert names(daemon.query("SELECT name FROM osquery_schedule")) == ["keep"]
    count = int(daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"])
    daemon.wait_for(lambda: int(daemon.query("SELECT executions FROM osquery_schedule")[0]["executions"]) > count,
                    "the old schedule to keep running")
    assert daemon.proc.poll() is None


def test_a_second_daemon_on_the_same_pidfile_refuses(daemons):
    first = daemons({"schedule": {}}).start()
    second = Daemon(first.root, {"schedule": {}})
    second.paths["pidfile"] = first.paths["pidfile"]
    try:
        second.start(wait_socket=False)
        assert second.proc.wait(20) == 1
    finally:
        second.close()
    assert b"Pidfile check failed" in second.proc.stderr.read()


def test_the_daemon_describes_itself(daemons):
    daemon = daemons({"schedule": {"a": {"query": "SELECT 1 AS a", "interval": 60}}}).start()
    info = daemon.query("SELECT * FROM osquery_info")[0]
    # answered by the daemon itself, or by its worker when a watcher runs it
    assert daemon.proc.pid in (int(info["pid"]), int(info["watcher"]))
    assert len(info["config_hash"]) == 40
    assert info["config_valid"] == "1" and info["extensions"] == "active"
    flag = daemon.query("SELECT value, default_value FROM osquery_flags WHERE name = 'config_path'")[0]
    assert flag["value"] == daemon.paths["config_path"] and flag["default_value"] == "/etc/pyosquery/pyosquery.conf"
    core = daemon.query("SELECT * FROM osquery_extensions WHERE uuid = 0")[0]
    assert core["type"] == "core" and core["path"] == daemon.paths["extensions_socket"]
    tables = {row["name"] for row in daemon.query("SELECT name FROM osquery_registry WHERE registry = 'table'")}
    assert {"processes", "osquery_schedule", "osquery_schedule_runs"} <= tables
