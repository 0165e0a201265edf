"""schedule_summary: each query's cost across hosts, from schedule_info results."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.filter.schedule_summary import schedule_summary
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, agent_down, cost, unreachable


def fleet(count=3, jitter=0.0):
    agents = []
    for number in range(1, count + 1):
        agent = FakeAgent("host-%d" % number)
        figures = cost(cpu_ms=4 * number, wall_ms=5 * number, memory=1024 * number, output_size=100 * number)
        agent.add("pack_base_procs", 10, figures, jitter=jitter)
        agent.add("pack_base_users", 60, cost(cpu_ms=1, output_size=50), jitter=jitter)
        agents.append(agent)
    return agents


def read_all(agents, since=None):
    return {agent.hostname: agent.read(since[agent.hostname] if since else None) for agent in agents}


def test_lifetime_view_pools_every_host_s_runs():
    agents = fleet()
    for agent in agents:
        agent.tick(100)            # 10 runs of procs, 1 of users per host
    summary = schedule_summary(read_all(agents))
    procs = summary["pack_base_procs"]
    assert (procs["hosts"], procs["executions"], procs["runs"]) == (3, 30, 30)
    assert procs["cpu_ms"] == {"p50": 8.0, "p95": 12.0, "max": 12.0}
    assert procs["wall_ms"] == {"p50": 10.0, "p95": 15.0, "max": 15.0}
    assert procs["memory"] == {"p50": 2048, "p95": 3072, "max": 3072}
    assert procs["output_bytes"] == {"p50": 200, "p95": 300, "max": 300}
    assert procs["denylisted_hosts"] == []
    assert summary["pack_base_users"]["executions"] == 3


def test_with_deltas_only_the_runs_since_the_baseline_count():
    agents = fleet()
    for agent in agents:
        agent.tick(600)
    baseline = read_all(agents)
    agents[0].set_cost("pack_base_procs", cost(cpu_ms=400, wall_ms=450))
    for agent in agents:
        agent.tick(50)
    procs = schedule_summary(read_all(agents, since=baseline))["pack_base_procs"]
    assert (procs["executions"], procs["runs"]) == (15, 15)
    assert procs["cpu_ms"]["max"] == 400.0
    assert procs["cpu_ms"]["p95"] == 400.0           # 5 of 15 runs cost 400 ms


def test_a_reset_or_removed_query_is_no_data_on_that_host():
    agents = fleet()
    for agent in agents:
        agent.tick(100)
    baseline = read_all(agents)
    agents[0].change_sql("pack_base_procs", "SELECT 2")
    agents[1].remove("pack_base_procs")
    for agent in agents:
        agent.tick(100)
    procs = schedule_summary(read_all(agents, since=baseline))["pack_base_procs"]
    assert (procs["hosts"], procs["executions"]) == (1, 10)
    assert procs["cpu_ms"]["max"] == 12.0             # only host-3's runs


def test_denylisted_hosts_are_listed():
    agents = fleet()
    for agent in agents:
        agent.tick(100)
    agents[2].denylist("pack_base_procs")
    agents[0].denylist("pack_base_procs")
    assert schedule_summary(read_all(agents), ["pack_base_procs"])["pack_base_procs"]["denylisted_hosts"] == \
        ["host-1", "host-3"]


def test_without_runs_each_host_adds_its_average():
    agents = fleet()
    for agent in agents:
        agent.tick(100)
    results = {agent.hostname: agent.read(runs=False) for agent in agents}
    procs = schedule_summary(results)["pack_base_procs"]
    assert (procs["executions"], procs["runs"]) == (30, 3)
    assert procs["cpu_ms"]["max"] == pytest.approx(12.0, abs=1)     # lifetime counters are whole ms


def test_failed_and_unreachable_hosts_are_left_out():
    agents = fleet()
    for agent in agents:
        agent.tick(100)
    results = read_all(agents)
    results["host-4"] = unreachable("host-4")
    results["host-5"] = agent_down()
    assert schedule_summary(results)["pack_base_procs"]["hosts"] == 3


def test_a_query_no_host_has_gives_empty_figures():
    agents = fleet(1)
    agents[0].tick(100)
    missing = schedule_summary(read_all(agents), ["pack_x_nothing"])["pack_x_nothing"]
    assert missing == {"hosts": 0, "executions": 0, "runs": 0, "denylisted_hosts": [],
                       "cpu_ms": {"p50": None, "p95": None, "max": None},
                       "wall_ms": {"p50": None, "p95": None, "max": None},
                       "memory": {"p50": None, "p95": None, "max": None},
                       "output_bytes": {"p50": None, "p95": None, "max": None}}


def test_negative_memory_growth_counts_as_none():
    agent = FakeAgent("host-1")
    agent.add("pack_base_procs", 10, cost(memory=-4096))
    agent.tick(30)
    assert schedule_summary({"host-1": agent.read()})["pack_base_procs"]["memory"]["max"] == 0


def test_a_malformed_result_is_named_by_host_and_path():
    agent = fleet(1)[0]
    agent.tick(30)
    result = agent.read()
    result["queries"]["pack_base_procs"]["runs"][1]["wall_ms"] = "slow"
    message = r"schedule_summary: host host-1: queries\.pack_base_procs\.runs\[1\]\.wall_ms: expected a number"
    with pytest.raises(AnsibleFilterError, match=message):
        schedule_summary({"host-1": result})


@pytest.mark.parametrize("results, message", [
    (["host-1"], "expected a mapping of host to schedule_info result, got list"),
    ({"host-1": {"changed": False}}, "host host-1: queries: expected a mapping, got NoneType"),
    ({"host-1": "text"}, "host host-1: result: expected a mapping, got str"),
])
def test_input_that_is_not_schedule_info_results_is_refused(results, message):
    with pytest.raises(AnsibleFilterError, match=message):
        schedule_summary(results)


def test_queries_must_be_a_list_of_names():
    with pytest.raises(AnsibleFilterError, match="queries must be a list of query names"):
        schedule_summary({}, "pack_base_procs")
