"""A rollout that rolls one query back alone: state, removal, the stage soaked again, resume, report."""

import os

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate import judge
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_report import build_report, render_markdown
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_owner import owner_of
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_store import RolloutStore, StateError, live_queries
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, cost

CHEAP, COSTLY = "pack_demo_probe", "pack_demo_users"
DEFINITION = {"pack": {"name": "demo", "queries": {"probe": {"query": "select 1", "interval": 10},
                                                   "users": {"query": "select 1 from users, users", "interval": 5}}},
              "stages": [{"name": "canary", "hosts": "canary"}, {"name": "all", "hosts": "fleet"}]}


def judged(hosts, costs, name="canary"):
    """A stage judged by the real gate: HOSTS run each query of COSTS ({name: cost}) for 60 s."""
    agents = {host: FakeAgent(host) for host in hosts}
    for agent in agents.values():
        agent.add("pack_base_procs", 10, cost(cpu_ms=8))
        agent.tick(600)
    baselines = {host: agent.read() for host, agent in agents.items()}
    for agent in agents.values():
        for query, query_cost in costs.items():
            agent.add(query, 10, query_cost)
        agent.tick(60)
    currents = {host: agent.read(since=baselines[host]) for host, agent in agents.items()}
    return judge(currents, baselines, queries=sorted(costs), stage={"name": name, "hosts": list(hosts)})


@pytest.fixture(name="store")
def store_fixture(tmp_path):
    store = RolloutStore(str(tmp_path))
    ended = dict(owner_of(os.getpid()), pid=2 ** 22 + 1, pid_start=1)    # a run that is over (no such pid)
    store.open("demo-1", DEFINITION, ended)
    store.record_baselines("demo-1", 0, {"host-1": {"collected_at": 1.0}})
    store.record_push("demo-1", 0, ["host-1"])
    decision = judged(["host-1"], {CHEAP: cost(cpu_ms=5), COSTLY: cost(cpu_ms=4000, wall_ms=4200)})
    assert (decision["decision"], decision["rollback_queries"]) == ("partial_rollback", [COSTLY])
    store.record_decision("demo-1", 0, decision)
    return store


def removed(*still):
    """schedule_info on host-1 after the removal, with the queries STILL scheduled."""
    return {"host-1": {"queries": dict.fromkeys((CHEAP,) + still, {})}}


def report_of(store):
    report = build_report(store.load("demo-1"), store.decisions("demo-1"), store.earlier_decisions("demo-1"))
    return report, render_markdown(report)


def test_the_decision_records_the_query_as_dropped_and_leaves_it_out(store):
    state = store.load("demo-1")
    assert (state["status"], state["stage"], state["stages"][0]["status"]) == ("dropping", 0, "dropping")
    assert state["dropped"]["users"]["query"] == COSTLY
    assert state["dropped"]["users"]["reasons"][0].startswith(COSTLY + ": p95 CPU per run")
    assert live_queries(state) == {"queries": {"probe": DEFINITION["pack"]["queries"]["probe"]},
                                   "intervals": {CHEAP: 10}}
    report, markdown = report_of(store)
    assert report["decision"] == "partial_rollback"
    assert "`users` (rolled back alone at stage canary, removal not checked yet)" in markdown


def test_until_the_removal_is_verified_the_rollout_stays_dropping(store):
    state = store.record_removal("demo-1", removed(COSTLY))
    assert (state["status"], state["removal_pending"]) == ("dropping", ["host-1"])
    assert state["dropped"]["users"]["removal"] == {"host-1": "still scheduled: " + COSTLY}
    assert store.load("demo-1")["stages"][0]["status"] == "dropping"


def test_once_removed_the_stage_soaks_again_from_new_baselines(store):
    state = store.record_removal("demo-1", removed())
    stage = state["stages"][0]
    assert (state["status"], state["stage"], stage["status"]) == ("running", 0, "pending")
    assert stage["attempts"][0]["rolled_back"] == ["users"]
    assert store.decisions("demo-1")[0] is None
    assert store.earlier_decisions("demo-1")[0][0]["decision"] == "partial_rollback"
    assert store.record_baselines("demo-1", 0, {})[1] == {}            # the old baselines are the attempt's


def test_a_resumed_rollout_keeps_the_query_out(store):
    store.record_removal("demo-1", removed())
    resumed = store.open("demo-1", DEFINITION, owner_of(os.getpid()))      # another run, the same id
    assert (resumed["status"], resumed["stage"]) == ("running", 0)
    assert live_queries(resumed)["intervals"] == {CHEAP: 10}


def test_a_completed_rollout_with_a_dropped_query_is_a_partial_rollback(store):
    store.record_removal("demo-1", removed())
    for index, name in enumerate(("canary", "all")):
        store.record_decision("demo-1", index, judged(["host-1"], {CHEAP: cost(cpu_ms=5)}, name=name))
    report, markdown = report_of(store)
    assert (report["status"], report["decision"]) == ("complete", "partial_rollback")
    assert report["rolled_back_queries"] == [COSTLY]
    assert report["reason"].startswith("rolled back alone: pack_demo_users at stage canary (pack_demo_users: p95 CPU")
    assert report["reason"].endswith("); the rest (probe) promoted through every stage.")
    assert "# Rollout `demo-1` of pack `demo`: PARTIAL_ROLLBACK" in markdown
    assert "## Stage `canary`, soak 1: PARTIAL_ROLLBACK" in markdown
    assert "## Stage `canary`, soak 2: PROMOTE" in markdown
    assert "`users` (rolled back alone at stage canary, removal verified on host-1)" in markdown
    assert os.path.exists(store.lock_path("demo"))
    store.close("demo-1")
    assert not os.path.exists(store.lock_path("demo"))


def test_a_decision_naming_a_query_outside_the_pack_is_refused(store):
    store.record_removal("demo-1", removed())
    with pytest.raises(StateError, match="rollback_queries names 'pack_demo_ports', which is not a query of pack"):
        store.record_decision("demo-1", 0, {"decision": "partial_rollback", "rollback_queries": ["pack_demo_ports"]})
