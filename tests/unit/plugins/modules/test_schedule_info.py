"""schedule_info against a real pyosqueryd: figures after runs, deltas across a restart and a changed query."""

import signal
import socket
import time

import pytest

from ansible_collections.pyosquery.fleet.plugins.modules import schedule_info

CONFIG = {"schedule": {"fast": {"query": "SELECT count(*) AS n FROM processes", "interval": 1},
                       "idle": {"query": "SELECT 1 AS x", "interval": 3600}}}


@pytest.fixture()
def agent(daemons, answering):
    daemon = daemons(CONFIG).start()
    answering(daemon.paths["extensions_socket"])
    return daemon


@pytest.fixture()
def read(run_module, agent):
    """schedule_info's result for these extra arguments (the task must succeed)."""
    def call(**args):
        failed, result = run_module(schedule_info, dict(args, socket=agent.paths["extensions_socket"]))
        assert not failed, result
        assert "warnings" not in result, result["warnings"]
        return result
    return call


def wait_for(read, check, timeout=20.0, **args):
    deadline = time.time() + timeout
    while True:
        result = read(**args)
        if check(result):
            return result
        assert time.time() < deadline, "timed out; last result: %s" % result
        time.sleep(0.3)


def executions(name, at_least):
    return lambda result: name in result["queries"] and result["queries"][name]["executions"] >= at_least


def test_figures_of_a_running_agent(read, agent):
    result = wait_for(read, executions("fast", 2))
    assert result["changed"] is False and result["deltas"] is None and result["missing"] == []
    assert result["hostname"] == socket.gethostname() and result["collected_at"] <= time.time()
    assert result["agent"]["watcher"] == agent.proc.pid and result["agent"]["config_valid"] == 1
    assert result["watchdog"]["watcher_pid"] == agent.proc.pid and result["watchdog"]["cpu_limit_ms"] > 0
    fast = result["queries"]["fast"]
    assert fast["query"] == CONFIG["schedule"]["fast"]["query"] and fast["interval"] == 1
    assert fast["per_execution"]["wall_ms"] == fast["wall_time_ms"] / fast["executions"]
    assert len(fast["runs"]) == fast["executions"] and all(run["rows"] == 1 for run in fast["runs"])
    assert [run["started"] for run in fast["runs"]] == sorted(run["started"] for run in fast["runs"])
    assert result["queries"]["idle"]["executions"] <= 1


def test_some_queries_without_runs(read):
    result = read(queries=["idle", "not_scheduled"], runs=False)
    assert list(result["queries"]) == ["idle"] and result["missing"] == ["not_scheduled"]
    assert "runs" not in result["queries"]["idle"]


def test_deltas_across_an_agent_restart_are_flagged_not_negative(read, agent, answering):
    baseline = wait_for(read, executions("fast", 2))
    agent.stop()
    agent.start()
    answering(agent.paths["extensions_socket"])
    # _ansible_inject_invocation: as ansible-core before 2.21, or with inject_invocation set
    result = wait_for(read, executions("fast", baseline["queries"]["fast"]["executions"] + 2),
                      since=baseline, queries=["fast"], _ansible_inject_invocation=True)
    found = result["deltas"]
    assert found["restarted"] and found["restart_reason"].startswith("the agent restarted (start_time ")
    fast = found["queries"]["fast"]
    assert fast["status"] == "ok" and fast["executions"] >= 2 and fast["cpu_ms"] >= 0 and fast["wall_ms"] > 0
    assert all(run["started"] > baseline["collected_at"] for run in fast["runs"])
    # the kept counters and the runs describe the same executions: the ones after the baseline
    assert len(fast["runs"]) == fast["executions"]
    assert fast["output_bytes"] == sum(run["output_size"] for run in fast["runs"])
    # a chain of readings does not nest baselines
    assert result["invocation"]["module_args"]["since"] == {"hostname": baseline["hostname"],
                                                            "collected_at": baseline["collected_at"]}


def test_a_query_whose_sql_changed_is_reset(read, agent):
    baseline = wait_for(read, executions("fast", 1))
    agent.write_config({"schedule": dict(CONFIG["schedule"], fast={"query": "SELECT 2 AS n", "interval": 1})})
    agent.signal(signal.SIGHUP)
    result = wait_for(read, lambda r: r["queries"]["fast"]["query"] == "SELECT 2 AS n", since=baseline)
    assert not result["deltas"]["restarted"]
    assert result["deltas"]["queries"]["fast"]["status"] == "reset"
    assert result["deltas"]["queries"]["fast"]["reason"] == "SQL changed: the agent reset the query's statistics"
    assert result["deltas"]["queries"]["idle"]["status"] == "ok"


def test_a_baseline_of_another_host_fails_the_task(run_module, read, agent):
    baseline = dict(read(), hostname="elsewhere")
    failed, result = run_module(schedule_info, {"since": baseline, "socket": agent.paths["extensions_socket"]})
    assert failed and result["error"] == "bad_baseline" and "since was collected on elsewhere" in result["msg"]


def test_an_agent_that_is_down_fails_the_task(run_module, agent):
    agent.stop()
    failed, result = run_module(schedule_info, {"socket": agent.paths["extensions_socket"]})
    assert failed and result["error"] == "no_socket" and agent.paths["extensions_socket"] in result["msg"]
    assert "queries" not in result
