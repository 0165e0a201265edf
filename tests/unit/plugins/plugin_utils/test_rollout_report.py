"""The rollout report: built from the stored state and the gate's own decision objects."""

import os

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate import judge
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_report import build_report, render_markdown
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_owner import owner_of
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_store import RolloutStore
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, cost, unreachable

QUERY = "pack_demo_probe"
DEFINITION = {"pack": {"name": "demo", "queries": {"probe": {"query": "select 1", "interval": 10}}},
              "stages": [{"name": "canary", "hosts": "canary"},
                         {"name": "half", "hosts": "workstations", "shard": 50}]}


def stage_decision(hosts, probe_cost, lost=(), name="canary", shard=None):
    """A stage judged by the real gate: HOSTS run the probe at PROBE_COST for 60 s; LOST are unreachable."""
    agents = {}
    for host in hosts:
        agent = FakeAgent(host)
        agent.add("pack_base_procs", 10, cost(cpu_ms=8))
        agent.tick(600)
        agents[host] = agent
    baselines = {host: agent.read() for host, agent in agents.items()}
    for agent in agents.values():
        agent.add(QUERY, 10, probe_cost)
        agent.tick(60)
    currents = {host: unreachable(host) if host in lost else agent.read(since=baselines[host])
                for host, agent in agents.items()}
    return judge(currents, baselines, queries=[QUERY], stage={"name": name, "shard": shard, "hosts": list(hosts)})


@pytest.fixture(name="store")
def store_fixture(tmp_path):
    store = RolloutStore(str(tmp_path))
    store.open("demo-1", DEFINITION, owner_of(os.getpid()))
    return store


def report_of(store):
    report = build_report(store.load("demo-1"), store.decisions("demo-1"))
    return report, render_markdown(report)


def test_a_rollback_reports_the_figures_and_reasons_it_was_decided_on(store):
    store.record_push("demo-1", 0, ["host-1"])
    decision = stage_decision(["host-1"], cost(cpu_ms=4000, wall_ms=4200))
    assert decision["decision"] == "rollback"
    store.record_decision("demo-1", 0, decision)
    store.record_removal("demo-1", {"host-1": {"queries": {"pack_base_procs": {}}}})
    report, markdown = report_of(store)
    assert (report["decision"], report["status"], report["stage_reached"]) == ("rollback", "rolled_back", "canary")
    assert report["stages"][0]["decision"] == decision
    assert report["stages"][1]["decision"] is None and report["stages"][1]["status"] == "pending"
    assert report["removal"] == {"host-1": None}
    assert report["rolled_back_queries"] == [QUERY]
    assert markdown.startswith("# Rollout `demo-1` of pack `demo`: ROLLBACK\n")
    assert "## Stage `canary`: ROLLBACK" in markdown
    p95 = decision["per_query"][QUERY]["cpu_ms"]["p95"]
    assert "| %s | 1 of 1 | 6 | " % QUERY in markdown and ("/%.0f/" % p95) in markdown
    assert "- %s" % decision["reasons"][0] in markdown
    assert "Worst hosts: host-1 (%s duty 41%%, budget 2%%: x20)" % QUERY in markdown
    assert "| host-1 | verified |" in markdown
    assert "## Stage `half`" not in markdown


def test_a_hold_names_the_hosts_without_figures(store):
    store.record_decision("demo-1", 0, stage_decision(["host-1"], cost(cpu_ms=5)))
    decision = stage_decision(["host-2", "host-3", "host-4"], cost(cpu_ms=5), lost=["host-3"], name="half")
    assert decision["decision"] == "hold"
    store.record_decision("demo-1", 1, decision)
    report, markdown = report_of(store)
    assert (report["decision"], report["stages_promoted"], report["stage_reached"]) == ("hold", 1, "half")
    assert "host-3" in report["reason"]
    assert "Without figures for %s: host-3 (unreachable: " % QUERY in markdown
    assert "| half | `workstations` | 50% | held |" in markdown
    assert "the agent's own cost was not compared" in markdown


def test_a_complete_rollout_reports_promote(store):
    for index, hosts in enumerate((["host-1"], ["host-2"])):
        store.record_decision("demo-1", index, stage_decision(hosts, cost(cpu_ms=5)))
    report, markdown = report_of(store)
    assert (report["decision"], report["status"], report["stages_promoted"]) == ("promote", "complete", 2)
    assert "Why:" not in markdown
    assert markdown.count("PROMOTE") == 3
