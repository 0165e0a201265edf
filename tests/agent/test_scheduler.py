"""The scheduler without a daemon: the real engine, a real store file and a real results log in a
temporary directory, driven step by step (step i is unix second i), so each rule of osquery's
schedule (due steps, splay, denylist, differentials, counters) is checked in milliseconds.
test_daemon.py checks the same through a running pyosqueryd."""

import json
import logging
import random
import threading
import time

import pytest

from pyosquery import config as config_lib
from pyosquery import flags
from pyosquery.logger.results import ResultsLog
from pyosquery.scheduler import diff
from pyosquery.scheduler.cost import Cost, fold, measured
from pyosquery.scheduler.packs import PackSet
from pyosquery.scheduler.runner import MARKER, Scheduler
from pyosquery.scheduler.splay import effective_percent, splay, splayed_interval
from pyosquery.sql.engine import Engine
from pyosquery.store.db import STAT_COLUMNS, Store


class Agent:
    """A scheduler over `config` with the real engine, a store file and a results log under `root`."""

    def __init__(self, root, config, *extra_flags, store=None):
        self.root = root
        path = root / "pyosquery.conf"
        path.write_text(json.dumps(config))
        self.values, _ = flags.parse(["--flagfile=/dev/null", "--config_path=%s" % path,
                                      "--logger_path=%s" % root] + list(extra_flags), "pyosqueryd")
        self.store = store or Store(str(root / "db" / "pyosquery.db"))
        self.packs = PackSet(config_lib.load(str(path), self.values), self.values)
        self.scheduler = Scheduler(Engine(), self.store, ResultsLog(self.values), self.values, self.packs,
                                   lambda: "host1")
        self.scheduler.use(self.packs)

    def results(self):
        path = self.root / "pyosqueryd.results.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def executions(self, name):
        return self.scheduler.stats[name]["executions"]

    def schedule(self):
        return {row["name"]: row for row in self.scheduler.schedule_rows()}


def one_query(sql="SELECT 1 AS a", **options):
    return {"schedule": {"q": dict({"query": sql, "interval": 1}, **options)}}


# splay

def draws(interval, percent, count=3000):
    random.seed(1)
    return {splay(interval, percent) for _ in range(count)}


def test_splay_draws_every_interval_within_the_percent_both_ways():
    assert draws(10, 10) == {9, 10, 11}
    assert draws(4, 100) == set(range(1, 9))
    assert draws(20, 25) == set(range(15, 26))
    assert draws(99, 1, 200) == {99} and draws(100, 1) == {99, 100, 101}     # d = int(i * p / 100), cut


def test_splay_never_goes_below_one_second():
    assert draws(1, 100) == {1, 2}
    assert draws(2, 100) == {1, 2, 3, 4}


@pytest.mark.parametrize("percent", [0, -5, 101, 1000])
def test_splay_out_of_range_keeps_the_interval(percent):
    assert draws(60, percent, 50) == {60}


def test_a_splay_percent_of_one_or_less_is_osquerys_ten():
    assert [effective_percent(p) for p in (0, 1, 2, 50)] == [10, 10, 2, 50]


def test_the_splayed_interval_is_kept_in_the_store_until_the_interval_changes(tmp_path):
    path = str(tmp_path / "db")
    store = Store(path)
    random.seed(3)
    first = splayed_interval(store, "q", 1000, 50)
    assert 500 <= first <= 1500 and store.get("interval.q") == "1000:%d" % first
    store.close()
    store = Store(path)
    # reused after a restart, whatever the percent says now
    assert {splayed_interval(store, "q", 1000, 50) for _ in range(20)} == {first}
    changed = {splayed_interval(store, "q", 2000, 50)}
    assert store.get("interval.q").startswith("2000:")
    changed |= {splayed_interval(store, "q", 2000, 50) for _ in range(5)}
    assert len(changed) == 1 and 1000 <= changed.pop() <= 3000


def test_a_damaged_stored_splay_is_drawn_again(tmp_path):
    store = Store(str(tmp_path / "db"))
    for damaged in ("1000:x", "1000:", "1000", ""):
        store.put("interval.q", damaged)
        value = splayed_interval(store, "q", 1000, 100)
        assert 1 <= value <= 2000 and store.get("interval.q") == "1000:%d" % value


# differential results

def test_rows_are_kept_typed_with_null_as_empty_text():
    records = diff.as_records(["a", "b", "c", "d"], [(None, b"caf\xc3\xa9\xff", 3, 2.5)])
    assert records == [{"a": "", "b": "caf\u00e9\ufffd", "c": 3, "d": 2.5}]
    assert diff.as_text(records[0]) == {"a": "", "b": "caf\u00e9\ufffd", "c": "3", "d": "2.5"}
    assert diff.cell_text(0.1) == "0.1" and diff.cell_text(1e16) == "1e+16" and diff.cell_text(7) == "7"


def test_output_size_counts_osquerys_way():
    # per row: the names' lengths (1 + 2 + 3), 8 for each number, the text's length, NULL as nothing
    assert diff.output_size(["a", "bb", "ccc"], [(1, "xyz", None), (2.5, "", 7)]) == 6 + 8 + 3 + 6 + 8 + 8
    assert diff.output_size(["a"], []) == 0


def test_differential_is_a_multiset_diff():
    x, y = {"v": "x"}, {"v": "y"}
    assert diff.differential([x, x], [x, x, x]) == ([x], [])
    assert diff.differential([x, x, y], [x]) == ([], [x, y])
    assert diff.differential([x, x, x], [x]) == ([], [x, x])
    assert diff.differential([x], [y]) == ([y], [x])
    assert diff.differential([x], [x]) == ([], [])
    # a row stored before numbers were typed matches its typed successor
    assert diff.differential([{"n": "1"}], [{"n": 1}]) == ([], [])


# one query's counters

def test_fold_adds_rounded_times_and_averages_memory():
    stats = dict.fromkeys(STAT_COLUMNS, 0)
    fold(stats, Cost(0.0, 1499.6, 2.5, 0.4, 1000), 10, 100.9)
    assert stats == dict(stats, executions=1, last_executed=100, wall_time=1, wall_time_ms=1500,
                         last_wall_time_ms=1500, user_time=2, last_user_time=2, system_time=0, last_system_time=0,
                         average_memory=1000, last_memory=1000, output_size=10)
    fold(stats, Cost(0.0, 999.0, 3.0, 2.0, 4000), 5, 200.0)
    assert (stats["wall_time"], stats["wall_time_ms"], stats["last_wall_time_ms"]) == (1, 2499, 999)
    assert (stats["user_time"], stats["last_user_time"], stats["system_time"], stats["last_system_time"]) == (5, 3, 2, 2)
    assert (stats["average_memory"], stats["last_memory"], stats["executions"]) == (2500, 4000, 2)
    # CPU and memory that did not grow leave the last values as they were (osquery's stale last_*)
    fold(stats, Cost(0.0, 0.2, 0.0, 0.0, -50), 0, 300.0)
    fold(stats, Cost(0.0, 0.2, 0.0, 0.0, 0), 0, 301.0)
    assert (stats["last_user_time"], stats["last_system_time"], stats["last_memory"]) == (3, 2, 4000)
    assert (stats["average_memory"], stats["executions"], stats["last_wall_time_ms"]) == (2500, 4, 0)


def test_measured_charges_the_actions_own_cpu_and_memory():
    def work():
        before = _thread_cpu_ms()
        block = bytearray(32 * 1024 * 1024)
        for index in range(0, len(block), 4096):
            block[index] = 1
        while _thread_cpu_ms() - before < 80:
            pass
        return block

    started, outside = time.time(), _thread_cpu_ms()
    block, cost = measured(work)
    outside = _thread_cpu_ms() - outside
    assert len(block) == 32 * 1024 * 1024 and started <= cost.started <= time.time()
    # the CPU it used, in ms: how the kernel splits it into user and system time is sampled per tick,
    # and a thread's figures may lag a few ms behind its CPU clock, so only the whole is bounded
    total = cost.user_ms + cost.system_ms
    assert cost.user_ms >= 0 and cost.system_ms >= 0 and 10 <= total <= outside + 50, (cost.user_ms, cost.system_ms)
    assert cost.wall_ms >= 0 and cost.memory >= 30 * 1024 * 1024


def _thread_cpu_ms():
    return time.thread_time() * 1000.0


# the schedule, step by step

def test_a_query_runs_on_the_steps_its_interval_divides(tmp_path):
    agent = Agent(tmp_path, one_query(interval=3), "--schedule_splay_percent=0")
    for step in range(300, 310):
        agent.scheduler.step(step)
    assert agent.executions("q") == 4       # steps 300, 303, 306, 309
    assert [line["counter"] for line in agent.results()] == [0]


def test_startup_priority_runs_a_query_at_the_first_step_once(tmp_path):
    config = {"schedule": {"late": {"query": "SELECT 1 AS a", "interval": 100},
                           "first": {"query": "SELECT 2 AS b", "interval": 100, "startup_priority": 1}}}
    agent = Agent(tmp_path, config, "--schedule_splay_percent=0")
    for step in range(301, 305):
        agent.scheduler.step(step)
    assert (agent.executions("first"), agent.executions("late")) == (1, 0)


def test_a_splayed_interval_is_drawn_once_and_kept_in_the_store(tmp_path):
    agent = Agent(tmp_path, one_query(interval=7), "--schedule_splay_percent=0")
    agent.store.put("interval.q", "7:5")    # what an earlier run drew
    for step in range(100, 110):
        agent.scheduler.step(step)
    assert agent.executions("q") == 2       # steps 100 and 105: the stored 5, not 7


def test_a_new_query_gets_a_stored_splay(tmp_path):
    agent = Agent(tmp_path, one_query(interval=100), "--schedule_splay_percent=50")
    agent.scheduler.step(1)
    configured, _, value = agent.store.get("interval.q").partition(":")
    assert configured == "100" and 50 <= int(value) <= 150


def test_differential_lines_count_changes_and_honour_removed_false(tmp_path):
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "a").write_text("")
    sql = "SELECT filename FROM file WHERE directory = '%s'" % watched
    config = {"schedule": {"all": {"query": sql, "interval": 1}, "adds": {"query": sql, "interval": 1, "removed": False}}}
    agent = Agent(tmp_path, config)
    agent.scheduler.step(1)
    agent.scheduler.step(2)                 # nothing changed: no line
    (watched / "b").write_text("")
    agent.scheduler.step(3)
    (watched / "a").unlink()
    agent.scheduler.step(4)
    lines = [(l["name"], l["counter"], l["action"], l["columns"]["filename"]) for l in agent.results()]
    assert lines == [("adds", 0, "added", "a"), ("all", 0, "added", "a"), ("adds", 1, "added", "b"),
                     ("all", 1, "added", "b"), ("all", 2, "removed", "a")]
    # the store follows the rows (the next run diffs against them), the counter too
    assert agent.store.previous("adds")[2:] == (2, [{"filename": "b"}])


def test_batch_lines_when_event_type_is_off(tmp_path):
    agent = Agent(tmp_path, one_query("SELECT 1 AS a UNION ALL SELECT 2"), "--logger_event_type=false")
    agent.scheduler.step(10)
    (line,) = agent.results()
    assert line["diffResults"] == {"removed": [], "added": [{"a": "1"}, {"a": "2"}]} and line["counter"] == 0


def test_a_new_epoch_logs_every_row_again_from_counter_zero(tmp_path, caplog):
    agent = Agent(tmp_path, one_query(), "--schedule_epoch=7")
    with caplog.at_level(logging.INFO, "pyosquery.scheduler"):
        agent.scheduler.step(10)
        agent.scheduler.step(20)
    assert "Storing initial results for new scheduled query: q" in caplog.text and "New Epoch" not in caplog.text
    caplog.clear()
    again = Agent(tmp_path, one_query(), "--schedule_epoch=8", store=agent.store)
    with caplog.at_level(logging.INFO, "pyosquery.scheduler"):
        again.scheduler.step(30)
        again.scheduler.step(40)
    assert "New Epoch 8 for scheduled query q" in caplog.text and "Storing initial" not in caplog.text
    assert [(l["epoch"], l["counter"], l["action"]) for l in again.results()] == [(7, 0, "added"), (8, 0, "added")]


def test_changed_sql_with_the_same_rows_logs_nothing_and_keeps_the_new_sql(tmp_path, caplog):
    agent = Agent(tmp_path, one_query("SELECT 1 AS a"))
    agent.scheduler.step(10)
    again = Agent(tmp_path, one_query("SELECT 2 - 1 AS a"), store=agent.store)
    with caplog.at_level(logging.INFO, "pyosquery.scheduler"):
        again.scheduler.step(20)
    assert len(again.results()) == 1 and "Scheduled query has been updated: q" in caplog.text
    assert again.store.previous("q")[0] == "SELECT 2 - 1 AS a"


def test_snapshots_log_every_run_whole(tmp_path):
    agent = Agent(tmp_path, one_query("SELECT 1 AS a", snapshot=True))
    agent.scheduler.step(10)
    agent.scheduler.step(20)
    lines = (tmp_path / "pyosqueryd.snapshots.log").read_text().splitlines()
    assert [json.loads(line)["snapshot"] for line in lines] == [[{"a": "1"}]] * 2 and not agent.results()


def test_a_failing_query_is_logged_and_the_others_run(tmp_path, caplog):
    config = {"schedule": {"bad": {"query": "SELECT 1 / 0 AS a FROM file WHERE path = '/nonexistent' AND "
                                            "abs(-9223372036854775808)", "interval": 1},
                           "good": {"query": "SELECT 1 AS a", "interval": 1}}}
    agent = Agent(tmp_path, config)
    with caplog.at_level(logging.ERROR, "pyosquery.scheduler"):
        agent.scheduler.step(1)
    assert "Error executing scheduled query bad: integer overflow" in caplog.text
    assert agent.executions("good") == 1 and agent.store.get(MARKER) == ""


def test_results_that_cannot_be_written_still_count_the_run(tmp_path):
    agent = Agent(tmp_path, one_query())
    (tmp_path / "pyosqueryd.results.log").unlink()
    (tmp_path / "pyosqueryd.results.log").mkdir()       # where the log should be: nothing can be written
    agent.scheduler.step(1)
    assert agent.executions("q") == 1 and agent.store.previous("q") is None    # logged next time instead


def test_runs_are_recorded_with_their_lateness(tmp_path):
    agent = Agent(tmp_path, one_query("SELECT 1 AS a, 'xy' AS b"))
    due = int(time.time()) - 2
    agent.scheduler.step(due)
    (run,) = agent.store.runs()
    assert run["lateness_ms"] >= 2000 and run["rows"] == 1 and run["output_size"] == 1 + 8 + 1 + 2
    agent.scheduler.execute(agent.packs.all_queries().__next__(), int(time.time()) + 60)
    assert agent.store.runs()[1]["lateness_ms"] == 0.0


def test_use_resets_stats_of_changed_sql_and_forgets_removed_queries(tmp_path, caplog):
    config = {"schedule": {"keep": {"query": "SELECT 1 AS a", "interval": 1},
                           "change": {"query": "SELECT 2 AS a", "interval": 1},
                           "drop": {"query": "SELECT 3 AS a", "interval": 1}}}
    agent = Agent(tmp_path, config)
    agent.scheduler.step(1)
    agent.scheduler.step(2)
    changed = {"schedule": {"keep": config["schedule"]["keep"], "change": {"query": "SELECT 4 AS a", "interval": 1}}}
    with caplog.at_level(logging.INFO, "pyosquery.scheduler"):
        again = Agent(tmp_path, changed, store=agent.store)
    assert {name: stats["executions"] for name, stats in again.store.stats().items()} == {"keep": 2, "change": 0}
    assert "Clearing performance stats for query: change" in caplog.text
    assert "Clearing performance stats for query: keep" not in caplog.text
    assert again.store.previous("drop") is None and again.store.previous("keep") is not None
    assert sorted(again.schedule()) == ["change", "keep"]


# the denylist

def test_a_denylisted_query_is_skipped_until_its_expiry_passes(tmp_path, caplog):
    agent = Agent(tmp_path, one_query(interval=1))
    now = time.time()
    agent.store.deny("q", int(now) + 3600)
    with caplog.at_level(logging.INFO, "pyosquery.scheduler"):
        agent.scheduler.step(1)
        agent.scheduler.step(2)
    assert agent.executions("q") == 0 and agent.schedule()["q"]["denylisted"] == 1
    assert caplog.text.count("skipping denied scheduled query: q") == 1
    agent.store.deny("q", int(now) - 1)
    assert agent.schedule()["q"]["denylisted"] == 0
    with caplog.at_level(logging.INFO, "pyosquery.scheduler"):
        agent.scheduler.step(3)
    assert agent.executions("q") == 1 and agent.store.denylist() == {}
    assert "Scheduled denylisted query has expired: q" in caplog.text


def test_the_denylist_holds_up_to_its_expiry_second(tmp_path):
    agent = Agent(tmp_path, one_query(interval=1))
    query = next(agent.packs.all_queries())
    agent.store.deny("q", 1000)
    assert agent.scheduler.denylisted(query, 1000) and agent.store.denylist() == {"q": 1000}
    assert not agent.scheduler.denylisted(query, 1000.5) and agent.store.denylist() == {}


def test_denylist_false_runs_a_denylisted_query(tmp_path):
    agent = Agent(tmp_path, one_query(interval=1, denylist=False))
    agent.store.deny("q", int(time.time()) + 3600)
    assert agent.schedule()["q"]["denylisted"] == 0
    agent.scheduler.step(1)
    assert agent.executions("q") == 1 and agent.store.denylist() == {}


def test_a_query_left_executing_is_denylisted_for_the_duration(tmp_path, caplog):
    agent = Agent(tmp_path, one_query(), "--denylist_duration=500")
    agent.store.put(MARKER, "q")
    before = int(time.time())
    with caplog.at_level(logging.WARNING, "pyosquery.scheduler"):
        agent.scheduler.check_marker()
    expiry = agent.store.denylist()["q"]
    assert before + 500 <= expiry <= int(time.time()) + 500 and agent.store.get(MARKER) == ""
    assert "Scheduled query may have failed: q" in caplog.text


def test_without_the_watchdog_a_query_left_executing_is_not_denylisted(tmp_path):
    agent = Agent(tmp_path, one_query(), "--disable_watchdog")
    agent.store.put(MARKER, "q")
    agent.scheduler.check_marker()
    assert agent.store.denylist() == {} and agent.store.get(MARKER) == ""
    agent.scheduler.check_marker()          # nothing marked: nothing to do
    assert agent.store.denylist() == {}


def test_a_stop_for_a_limit_keeps_the_marker(tmp_path):
    agent = Agent(tmp_path, one_query())
    agent.scheduler.resource_limit_hit = True
    agent.scheduler.step(10)
    assert agent.store.get(MARKER) == "q"


# packs, discovery and decorators

def test_discovery_is_cached_for_the_refresh_interval(tmp_path):
    config = {"packs": {"p": {"discovery": ["SELECT 1"], "queries": {"q": {"query": "SELECT 1 AS a", "interval": 1}}}}}
    agent = Agent(tmp_path, config, "--pack_refresh_interval=60")
    engine = agent.scheduler.engine
    assert PackSet.empty(agent.values).rows() == [] and not list(PackSet.empty(agent.values).all_queries())
    assert agent.packs.rows()[0]["active"] == 0         # not active until its discovery has run
    for now in (1000, 1030, 1059.9):
        assert [q.name for q in agent.packs.active_queries(engine, now)] == ["pack_p_q"]
    list(agent.packs.active_queries(engine, 1030, count=False))
    assert agent.packs.rows()[0]["discovery_executions"] == 1 and agent.packs.rows()[0]["discovery_cache_hits"] == 2
    list(agent.packs.active_queries(engine, 1060))
    assert agent.packs.rows()[0]["discovery_executions"] == 2
    # reading osquery_schedule runs a stale discovery but counts no cache hit
    agent.scheduler.schedule_rows()
    agent.scheduler.schedule_rows()
    assert agent.packs.rows()[0]["discovery_executions"] == 3 and agent.packs.rows()[0]["discovery_cache_hits"] == 2


def test_osquery_packs_rows_describe_each_pack(tmp_path):
    queries = {"q": {"query": "SELECT 1 AS a", "interval": 1}}
    config = {"packs": {"full": {"platform": "linux", "version": "1.0.0", "shard": 100, "queries": queries},
                        "bare": {"queries": queries}}}
    agent = Agent(tmp_path, config)
    assert {row["name"]: row for row in agent.packs.rows()} == {
        "full": {"name": "full", "platform": "linux", "version": "1.0.0", "shard": 100, "discovery_cache_hits": 0,
                 "discovery_executions": 0, "active": 1},
        "bare": {"name": "bare", "platform": "", "version": "", "shard": 0, "discovery_cache_hits": 0,
                 "discovery_executions": 0, "active": 1}}


def test_a_failing_or_empty_discovery_turns_its_pack_off(tmp_path, caplog):
    queries = {"q": {"query": "SELECT 1 AS a", "interval": 1}}
    config = {"packs": {"empty": {"discovery": ["SELECT 1", "SELECT 1 WHERE 0"], "queries": queries},
                        "failing": {"discovery": ["SELECT * FROM no_such_table"], "queries": queries},
                        "on": {"discovery": ["SELECT 1", "SELECT 2"], "queries": queries},
                        "plain": {"queries": queries}}}
    agent = Agent(tmp_path, config)
    with caplog.at_level(logging.WARNING, "pyosquery.scheduler"):
        assert [q.name for q in agent.packs.active_queries(agent.scheduler.engine, 1)] == ["pack_on_q", "pack_plain_q"]
    assert "Discovery query failed (SELECT * FROM no_such_table)" in caplog.text
    assert {row["name"]: row["active"] for row in agent.packs.rows()} == {"empty": 0, "failing": 0, "on": 1, "plain": 1}


def test_queries_run_in_startup_priority_then_name_order(tmp_path):
    config = {"schedule": {name: dict({"query": "SELECT 1 AS a", "interval": 1}, **options) for name, options in
                           {"b": {}, "a": {}, "p2": {"startup_priority": 2}, "p0": {"startup_priority": 0},
                            "p1": {"startup_priority": 1}, "z_first": {"startup_priority": -1}}.items()}}
    agent = Agent(tmp_path, config)
    assert [q.name for q in agent.packs.active_queries(agent.scheduler.engine, 1)] == [
        "z_first", "p0", "p1", "p2", "a", "b"]


def test_decorations_reach_the_result_lines(tmp_path, caplog):
    config = dict(one_query(interval=1), decorators={
        "load": ["SELECT * FROM no_such_table", "SELECT 'l' AS loaded"],
        "always": ["SELECT 'x' AS always_on UNION ALL SELECT 'y'"],
        "interval": {"60": ["SELECT 'i' AS every_minute"], "120": ["SELECT NULL AS every_two"]}})
    agent = Agent(tmp_path, config)
    with caplog.at_level(logging.WARNING, "pyosquery.scheduler"):
        agent.scheduler.use(agent.packs)
        agent.scheduler.step(60)
        agent.scheduler.step(61)
    assert "Decorator query failed (SELECT * FROM no_such_table)" in caplog.text
    assert "Multiple rows returned for decorator query: SELECT 'x' AS always_on" in caplog.text
    assert "Multiple rows returned for decorator query: SELECT 'l'" not in caplog.text
    assert agent.results()[0]["decorations"] == {"loaded": "l", "always_on": "x"}
    assert agent.scheduler.decorations == {"loaded": "l", "every_minute": "i"}
    agent.scheduler.step(120)
    assert agent.scheduler.decorations == {"loaded": "l", "every_minute": "i", "every_two": ""}


def test_disable_decorators(tmp_path):
    config = dict(one_query(interval=1), decorators={"load": ["SELECT 'l' AS loaded"],
                                                     "interval": {"60": ["SELECT 'i' AS every_minute"]}})
    agent = Agent(tmp_path, config, "--disable_decorators")
    agent.scheduler.step(60)
    assert "decorations" not in agent.results()[0] and agent.scheduler.decorations == {}


def test_a_query_whose_stats_are_gone_shows_zeros(tmp_path):
    # a reload that drops the query forgets its stats before the packs change: a reader between sees zeros
    agent = Agent(tmp_path, one_query())
    agent.scheduler.step(1)
    agent.scheduler.stats.pop("q")
    row = agent.schedule()["q"]
    assert {column: row[column] for column in STAT_COLUMNS} == dict.fromkeys(STAT_COLUMNS, 0)


# the loop

class Waits(threading.Event):
    """The loop's stop event, noting how long each pause between steps was meant to be."""

    def __init__(self):
        super().__init__()
        self.asked = []

    def wait(self, timeout=None):
        self.asked.append(timeout)
        return super().wait(timeout)


def test_steps_keep_to_the_clock_and_catch_up_after_an_overrun(tmp_path):
    agent = Agent(tmp_path, one_query(interval=1), "--schedule_timeout=4")
    stop, steps, held = Waits(), [], threading.Event()

    def hold_engine():
        # a socket client's query holds the engine for 1.5 s: the second step overruns its second
        with agent.scheduler.engine.lock:
            held.set()
            threading.Event().wait(1.5)

    def between_steps(step):
        steps.append((step, time.time()))
        if len(steps) == 2:
            threading.Thread(target=hold_engine).start()
            held.wait()

    agent.scheduler.run(stop, between_steps)
    first = steps[0][0]
    assert [step for step, _ in steps] == [first, first + 1, first + 2, first + 3] and agent.executions("q") == 4
    # never early (a busy machine can only make a step late): step i starts at unix time i
    assert all(started >= step - 0.01 for step, started in steps), steps
    # to the next whole second, then up to a second after the first step; none after the overrun (already
    # late), and after the third step only what is left of its second once the overrun (about 0.5 s: the
    # hold began a moment before the step) is made up; none at all there on a machine so busy the third
    # step ran that much late as well
    asked = stop.asked
    assert len(asked) in (2, 3) and asked[0] < 1 and asked[1] <= 1 and all(w <= 0.9 for w in asked[2:]), asked


def test_a_stop_request_runs_no_further_query(tmp_path):
    agent = Agent(tmp_path, {"schedule": {"a": {"query": "SELECT 1 AS a", "interval": 1},
                                          "b": {"query": "SELECT 1 AS a", "interval": 1}}})
    stop = threading.Event()
    stop.set()
    agent.scheduler.run(stop)
    agent.scheduler.step(1)
    assert agent.executions("a") == agent.executions("b") == 0
