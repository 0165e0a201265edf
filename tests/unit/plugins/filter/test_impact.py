"""impact: Fleet's Minimal / Considerable / Excessive / Undetermined labels."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.filter.impact import impact
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, cost, unreachable

QUERY = "pack_inventory_users"


@pytest.mark.parametrize("figure, label", [
    (None, "Undetermined"), (0, "Minimal"), (1999.9, "Minimal"), (2000, "Considerable"),
    (3999, "Considerable"), (4000, "Excessive"), (60000, "Excessive")])
def test_thresholds(figure, label):
    assert impact(figure) == label


def agents_with(cpu_figures, user_share=0.5):
    results = {}
    for number, cpu_ms in enumerate(cpu_figures, 1):
        agent = FakeAgent("host-%d" % number)
        agent.add(QUERY, 60, cost(cpu_ms=cpu_ms, user_share=user_share), jitter=0)
        agent.tick(600)
        results[agent.hostname] = agent
    return results


def test_fleet_takes_user_and_system_p50_separately_with_its_own_rank():
    # Fleet's p50 of 4 sorted averages is the 3rd (rank floor(2) + 1): 2100 ms -> Considerable,
    # where the median (1800) or the nearest rank (1500) would say Minimal
    agents = agents_with([1000, 1500, 2100, 10000])
    assert impact({name: agent.read() for name, agent in agents.items()}, QUERY) == "Considerable"
    agents = agents_with([1000, 1500, 1900, 10000])
    assert impact({name: agent.read() for name, agent in agents.items()}, QUERY) == "Minimal"


def test_user_and_system_percentiles_can_come_from_different_hosts():
    results = {}
    for number, (cpu_ms, user_share) in enumerate([(1000, 0.9), (1000, 0.1), (3000, 0.5)], 1):
        agent = FakeAgent("host-%d" % number)
        agent.add(QUERY, 60, cost(cpu_ms=cpu_ms, user_share=user_share), jitter=0)
        agent.tick(600)
        results[agent.hostname] = agent.read()
    # users 900, 100, 1500 -> p50 900; systems 100, 900, 1500 -> p50 900: 1800 ms although no
    # host spends less than 1000 ms a run
    assert impact(results, QUERY) == "Minimal"


def test_without_deltas_the_lifetime_counters_decide_as_in_fleet():
    agent = FakeAgent("host-1")
    agent.add(QUERY, 60, cost(cpu_ms=5000), jitter=0)
    agent.tick(6000)                              # 100 runs at 5000 ms, kept in the runs table
    agent.set_cost(QUERY, cost(cpu_ms=10))
    agent.tick(6000)                              # 100 cheap runs push the costly ones out of it
    assert impact({"host-1": agent.read()}, QUERY) == "Considerable"      # lifetime: 2505 ms a run


def test_with_deltas_only_the_window_counts():
    agent = FakeAgent("host-1")
    agent.add(QUERY, 60, cost(cpu_ms=5000), jitter=0)
    agent.tick(600)
    baseline = agent.read()
    agent.set_cost(QUERY, cost(cpu_ms=10))
    agent.tick(600)
    assert impact({"host-1": agent.read(since=baseline)}, QUERY) == "Minimal"


def test_no_executions_anywhere_is_undetermined():
    agent = FakeAgent("host-1")
    agent.add(QUERY, 3600, cost(cpu_ms=5000))
    agent.tick(60)
    assert impact({"host-1": agent.read(), "host-2": unreachable("host-2")}, QUERY) == "Undetermined"
    assert impact({"host-1": agent.read()}, "pack_not_there") == "Undetermined"


@pytest.mark.parametrize("query", [None, "", 7])
def test_results_need_the_query_name(query):
    with pytest.raises(AnsibleFilterError, match="give the query's name"):
        impact({"host-1": {}}, query)


def test_a_malformed_result_is_named():
    message = r"impact: host host-9: queries\.pack_inventory_users\.executions: expected a number"
    with pytest.raises(AnsibleFilterError, match=message):
        impact({"host-9": {"queries": {QUERY: {"executions": "many", "interval": 60}}}}, QUERY)
