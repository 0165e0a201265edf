"""Deltas between two schedule_info results: restarts flagged, resets detected, nothing ever negative."""

import random

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils import deltas


def query(sql="SELECT 1", executions=0, user=0, system=0, wall=0, output=0, memory=0, denylisted=0, runs=()):
    return {"query": sql, "executions": executions, "user_time": user, "system_time": system, "wall_time_ms": wall,
            "output_size": output, "average_memory": memory, "denylisted": denylisted, "runs": list(runs)}


def run(started, memory=0):
    return {"started": started, "wall_ms": 1.0, "cpu_ms": 1.0, "memory": memory}


def result(queries, collected_at=1000.0, start_time=100, pid=10, watcher=9, instance="i-1", restarts=0,
           stop_reason="", stop_time=0, host="host-1"):
    return {"collected_at": collected_at, "hostname": host, "queries": queries,
            "agent": {"start_time": start_time, "pid": pid, "watcher": watcher, "instance_id": instance},
            "watchdog": {"worker_restarts": restarts, "last_stop_reason": stop_reason, "last_stop_time": stop_time,
                         "last_exit": "killed by signal 9"}}


def test_the_new_executions_and_their_totals():
    before = result({"q": query(executions=10, user=100, system=50, wall=200, output=1000, runs=[run(990.0)])})
    now = result({"q": query(executions=14, user=140, system=70, wall=280, output=1400,
                             runs=[run(990.0), run(1010.0, 4096), run(1020.0, 0)])}, collected_at=1100.0)
    found = deltas.compute(now, before)
    assert (found["since"], found["restarted"], found["restart_reason"], found["worker_restarts"]) == (1000.0, False,
                                                                                                       None, 0)
    entry = found["queries"]["q"]
    assert entry["status"] == "ok" and entry["reason"] is None
    assert (entry["executions"], entry["cpu_ms"], entry["wall_ms"], entry["output_bytes"]) == (4, 60.0, 80.0, 400)
    assert entry["per_execution"] == {"cpu_ms": 15.0, "wall_ms": 20.0, "memory": 2048.0, "output_bytes": 100.0}
    assert [r["started"] for r in entry["runs"]] == [1010.0, 1020.0]


def test_memory_per_execution_falls_back_to_the_agents_average_without_runs():
    before = result({"q": query(executions=1, memory=100)})
    now = result({"q": query(executions=3, memory=300)})
    assert deltas.compute(now, before)["queries"]["q"]["per_execution"]["memory"] == 300


def test_no_new_execution_means_no_averages():
    same = result({"q": query(executions=5, user=10)})
    entry = deltas.compute(same, same)["queries"]["q"]
    assert entry["status"] == "ok" and entry["executions"] == 0 and entry["per_execution"] is None


def test_an_agent_restart_is_flagged_and_the_kept_counters_still_count():
    before = result({"q": query(executions=10, user=100)}, start_time=100, pid=10, watcher=9, restarts=0)
    now = result({"q": query(executions=12, user=130)}, start_time=500, pid=40, watcher=39, restarts=0)
    found = deltas.compute(now, before)
    assert found["restarted"] and found["restart_reason"] == "the agent restarted (start_time 100 -> 500)"
    assert found["queries"]["q"]["status"] == "ok" and found["queries"]["q"]["cpu_ms"] == 30.0


def test_a_worker_stopped_by_the_watchdog_says_why():
    reason = "Maximum sustainable CPU utilization limit 600ms exceeded for 12 seconds"
    before = result({}, restarts=1, pid=10)
    now = result({}, restarts=3, pid=11, start_time=200, stop_reason=reason, stop_time=1050)
    found = deltas.compute(now, before)
    assert found["restarted"] and found["worker_restarts"] == 2
    assert found["restart_reason"] == "the watchdog restarted the worker: " + reason


def test_a_worker_that_died_on_its_own_is_named_with_its_exit():
    found = deltas.compute(result({}, restarts=1, pid=11, start_time=200, stop_reason="old", stop_time=900),
                           result({}, restarts=0))
    assert found["restart_reason"] == "the worker restarted (killed by signal 9)" and found["worker_restarts"] == 1


def test_a_new_watcher_counts_its_restarts_from_zero():
    found = deltas.compute(result({}, watcher=50, pid=51, start_time=300, restarts=1), result({}, restarts=4))
    assert found["restarted"] and found["worker_restarts"] == 1


def test_a_new_store_resets_every_known_query():
    before = result({"q": query(executions=50, user=500)})
    now = result({"q": query(executions=60, user=600), "fresh": query(executions=2, user=4)}, instance="i-2",
                 start_time=300)
    found = deltas.compute(now, before)
    assert found["restarted"] and found["restart_reason"] == "the agent's store is new (instance_id i-1 -> i-2)"
    assert found["queries"]["q"]["status"] == "reset" and found["queries"]["q"]["executions"] == 0
    assert found["queries"]["fresh"]["status"] == "new" and found["queries"]["fresh"]["executions"] == 2


@pytest.mark.parametrize("now, reason", [
    (query(sql="SELECT 2", executions=3, user=9), "SQL changed: the agent reset the query's statistics"),
    (query(executions=3, user=9), "executions went down (10 -> 3): the statistics were reset"),
    (query(executions=11, user=200, output=5), "output_size went down (40 -> 5): the statistics were reset"),
])
def test_a_reset_carries_no_figures(now, reason):
    before = result({"q": query(executions=10, user=100, output=40, runs=[run(900.0)])})
    entry = deltas.compute(result({"q": dict(now, runs=[run(1001.0)])}), before)["queries"]["q"]
    assert entry["status"] == "reset" and entry["reason"] == reason
    assert (entry["executions"], entry["cpu_ms"], entry["runs"], entry["per_execution"]) == (0, 0.0, [], None)


def test_new_removed_and_newly_denylisted_queries():
    before = result({"gone": query(executions=3), "bad": query(executions=3)})
    now = result({"bad": query(executions=4, denylisted=1), "added": query(executions=2, user=10, runs=[run(1005.0)])})
    found = deltas.compute(now, before)["queries"]
    assert found["gone"]["status"] == "removed" and found["gone"]["executions"] == 0
    assert found["bad"]["denylisted"] and found["bad"]["newly_denylisted"]
    assert found["added"]["status"] == "new" and found["added"]["cpu_ms"] == 10.0 and len(found["added"]["runs"]) == 1
    assert not deltas.compute(now, now)["queries"]["bad"]["newly_denylisted"]


def test_only_the_asked_queries():
    both = result({"a": query(), "b": query()})
    assert list(deltas.compute(both, both, names=["b", "c"])["queries"]) == ["b"]


def test_a_baseline_from_elsewhere_is_refused():
    with pytest.raises(deltas.BaselineError, match="since was collected on host-2, not on this host"):
        deltas.compute(result({}), result({}, host="host-2"))
    with pytest.raises(deltas.BaselineError, match="since is not a schedule_info result: it has no collected_at"):
        deltas.compute(result({}), {"hostname": "host-1", "agent": {}, "queries": {}})


def test_no_delta_is_ever_negative():
    rng = random.Random(8)
    counters = ("executions", "user_time", "system_time", "wall_time_ms", "output_size")
    for _round in range(2000):
        pair = [query(**{"executions": 0}) for _side in range(2)]
        for side in pair:
            side.update((column, rng.randint(0, 5)) for column in counters)
            side["query"] = rng.choice(("SELECT 1", "SELECT 2"))
        entry = deltas.compute(result({"q": pair[1]}, instance=rng.choice(("a", "b"))),
                               result({"q": pair[0]}, instance="a"))["queries"]["q"]
        assert min(entry["executions"], entry["cpu_ms"], entry["wall_ms"], entry["output_bytes"]) >= 0, (pair, entry)
