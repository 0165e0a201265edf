"""The rollout's plan: variables checked with the variable named, shards that never narrow."""

import copy

import pytest

from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_plan import PlanError, plan

PACK = {"name": "demo", "queries": {"cheap": {"query": "select 1", "interval": 10},
                                    "ports": {"query": "select * from listening_ports", "interval": 30}}}
STAGES = [{"name": "canary", "hosts": "canary"},
          {"name": "ws-25", "hosts": "workstations", "shard": 25},
          {"name": "ws-all", "hosts": "workstations"},
          {"name": "everyone-10", "hosts": "all", "shard": 10, "soak_timeout": 600, "budget": {"cpu_ms_p95": 50}}]
HOSTS = [["h1"], ["h2", "h3"], ["h2", "h3"], ["h1", "h2", "h3", "h4"]]
DEFAULTS = {"soak_min": 0, "soak_timeout": 3600, "poll_interval": 15, "budget": {"min_executions": 4}}


def planned(pack=None, stages=None, hosts=None, **defaults):
    """The plan of PACK, STAGES and HOSTS (this file's unless given) with DEFAULTS changed by DEFAULTS."""
    return plan(copy.deepcopy(PACK if pack is None else pack), copy.deepcopy(STAGES if stages is None else stages),
                HOSTS if hosts is None else hosts, dict(DEFAULTS, **defaults))


def test_each_stage_targets_its_hosts_with_its_soak_and_budget():
    result = planned()
    assert result["queries"] == {"pack_demo_cheap": 10, "pack_demo_ports": 30}
    last = result["stages"][3]
    assert (last["name"], last["pattern"], last["hosts"]) == ("everyone-10", "all", ["h1", "h2", "h3", "h4"])
    assert last["budget"] == {"min_executions": 4, "cpu_ms_p95": 50}
    assert (last["soak_timeout"], last["retries"], last["poll_interval"]) == (600, 40, 15)
    assert [stage["min_executions"] for stage in result["stages"]] == [4, 4, 4, 4]


def test_a_host_keeps_the_widest_shard_it_had():
    stages = planned()["stages"]
    assert stages[1]["host_shard"] == {"h2": 25, "h3": 25}
    assert stages[2]["host_shard"] == {"h2": None, "h3": None}
    # the last stage's 10 % applies only to h4, the one host no earlier stage reached
    assert stages[3]["host_shard"] == {"h1": None, "h2": None, "h3": None, "h4": 10}


def test_the_gate_default_minimum_runs_applies_without_a_budget():
    assert planned(budget={})["stages"][0]["min_executions"] == 3


@pytest.mark.parametrize("pack, message", [
    ({"queries": PACK["queries"]}, "rollout_pack.name: None is not a pack name"),
    (dict(PACK, name="my pack"), "rollout_pack.name: 'my pack' is not a pack name"),
    (dict(PACK, queries={}), "rollout_pack.queries: give at least one query"),
    (dict(PACK, queries={"x": {"interval": 5}}), r"rollout_pack.queries.x.query: give the query's SQL"),
    (dict(PACK, queries={"x": {"query": "select 1", "interval": "often"}}),
     r"rollout_pack.queries.x.interval: give a whole number of seconds of 1 or more, got 'often'"),
    (dict(PACK, shard=10), r"rollout_pack.shard: the stages set the pack's shard"),
    (dict(PACK, oncall="me"), r"rollout_pack.oncall: unknown key \(known: name, queries, discovery, platform, version\)"),
])
def test_a_bad_pack_is_named(pack, message):
    with pytest.raises(PlanError, match=message):
        planned(pack=pack)


@pytest.mark.parametrize("index, change, message", [
    (1, {"shard": 0}, r"rollout_stages\[1\].shard: give a whole percentage from 1 to 100"),
    (1, {"shard": 101}, r"rollout_stages\[1\].shard"),
    (1, {"shard": True}, r"rollout_stages\[1\].shard"),
    (2, {"name": "canary"}, r"rollout_stages\[2\].name: 'canary' names an earlier stage too"),
    (2, {"shrad": 5}, r"rollout_stages\[2\].shrad: unknown key"),
    (0, {"hosts": ""}, r"rollout_stages\[0\].hosts: give an inventory group or pattern"),
    (3, {"soak_timeout": 60}, r"rollout_stages\[3\].soak_timeout: 60 s is too short for 4 runs of a query every "
                              r"30 s \(at least 120 s\)"),
    (3, {"soak_min": -1}, r"rollout_stages\[3\].soak_min: give a whole number of seconds of 0 or more, got -1"),
    (3, {"budget": [1]}, r"rollout_stages\[3\].budget: give a mapping"),
])
def test_a_bad_stage_is_named(index, change, message):
    stages = copy.deepcopy(STAGES)
    stages[index].update(change)
    with pytest.raises(PlanError, match=message):
        planned(stages=stages)


def test_a_pattern_without_hosts_is_named():
    with pytest.raises(PlanError, match=r"rollout_stages\[1\].hosts: 'workstations' matches no host of this play"):
        planned(hosts=[["h1"], [], ["h2"], ["h1"]])


def test_no_stages_and_a_bad_default_are_named():
    with pytest.raises(PlanError, match="rollout_stages: give a list of stages"):
        planned(stages=[], hosts=[])
    with pytest.raises(PlanError, match="rollout_poll_interval: give a whole number of seconds of 1 or more, got 0"):
        planned(poll_interval=0)
    with pytest.raises(PlanError, match=r"rollout_stages\[0\].soak_timeout: 100 s is too short"):
        planned(soak_timeout=100)
