"""When a host has soaked: enough runs after the watchdog could act, or something already happened."""

import pytest

from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_soak import soaked

INTERVALS = {"pack_demo_cheap": 2, "pack_demo_slow": 5}
BASELINE_AT = 1000.0


def poll(after=30.0, executions=(3, 3), worker_start=900, delay=10, restarts=0, restarted=False, stop_time=0,
         denylisted=False, present=True, status="ok"):
    """A schedule_info result AFTER seconds past the baseline."""
    names = list(INTERVALS)
    queries = {name: {"executions": count} for name, count in zip(names, executions)} if present else {}
    queries["pack_main_other"] = {"executions": 40}
    return {
        "collected_at": BASELINE_AT + after,
        "watchdog": {"worker_start_time": worker_start, "delay_s": delay, "last_stop_time": stop_time},
        "queries": queries,
        "deltas": {"since": BASELINE_AT, "restarted": restarted, "worker_restarts": restarts, "queries": {
            name: {"status": status, "executions": count, "denylisted": denylisted and name == names[1],
                   "newly_denylisted": denylisted and name == names[1]}
            for name, count in zip(names, executions)} if present else {}},
    }


def test_enough_runs_of_every_query_is_enough():
    assert soaked(poll(), INTERVALS, 3)


def test_one_query_short_of_runs_is_not():
    assert not soaked(poll(executions=(5, 2)), INTERVALS, 3)


def test_not_before_the_watchdog_can_act():
    # the worker restarted 5 s before the baseline: limits apply from 5 s after it
    assert not soaked(poll(after=4, worker_start=BASELINE_AT - 5, delay=10), INTERVALS, 3)
    assert soaked(poll(after=6, worker_start=BASELINE_AT - 5, delay=10), INTERVALS, 3)


def test_not_before_the_stage_soak_minimum():
    assert not soaked(poll(after=30), INTERVALS, 3, soak_min=60)
    assert soaked(poll(after=61), INTERVALS, 3, soak_min=60)


@pytest.mark.parametrize("event", [{"restarts": 1}, {"restarted": True}, {"stop_time": BASELINE_AT + 3},
                                   {"denylisted": True}])
def test_a_restart_a_stop_or_a_denylisting_ends_the_soak_at_once(event):
    assert soaked(poll(after=1, executions=(0, 0), **event), INTERVALS, 3, soak_min=600)


def test_an_old_watchdog_stop_does_not():
    assert not soaked(poll(after=1, executions=(0, 0), stop_time=BASELINE_AT - 100), INTERVALS, 3)


def test_a_host_outside_the_shard_waits_as_long_as_the_runs_take():
    # 3 runs of the slowest query (every 5 s) take 15 s
    assert not soaked(poll(after=14, present=False), INTERVALS, 3)
    assert soaked(poll(after=15, present=False), INTERVALS, 3)


def test_reset_stats_are_not_enough_runs():
    assert not soaked(poll(executions=(9, 9), status="reset"), INTERVALS, 3)


@pytest.mark.parametrize("result", [
    None, {}, {"failed": True, "msg": "agent not responding"},
    {"unreachable": True, "msg": "no route"}, {"skipped": True},
    dict(poll(), failed=True),
])
def test_failed_unreachable_or_empty_polls_are_never_enough(result):
    assert not soaked(result, INTERVALS, 3)
