"""The gate's rollback scope: only the queries that breached (scope query, the default), or the whole pack."""

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import GateError
from ansible_collections.pyosquery.fleet.tests.unit.plugins.gate_stage import COSTLY, NEW, Stage, cheap_stage, mixed_stage, slow_others
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import cost


def test_only_the_query_over_its_budget_is_rolled_back():
    decision = mixed_stage().soak().judge(queries=(NEW, COSTLY))
    assert decision["decision"] == "partial_rollback"
    assert decision["rollback_queries"] == [COSTLY]
    assert decision["reasons"][0].startswith(COSTLY + ": p95 CPU per run is 2,")
    assert all(reason.startswith(COSTLY) for reason in decision["reasons"])
    assert decision["notes"][0] == "pack_rollout_users stays in the rollout: it is measured again on this stage " \
                                   "without pack_rollout_costly."


def test_scope_pack_rolls_the_whole_pack_back_for_one_query():
    decision = mixed_stage().soak().judge(queries=(NEW, COSTLY), scope="pack")
    assert (decision["decision"], decision["scope"]) == ("rollback", "pack")
    assert decision["rollback_queries"] == [NEW, COSTLY]


def test_every_query_over_its_budget_is_the_whole_pack():
    stage = Stage().push(cost(cpu_ms=2500, wall_ms=2600)).push(cost(cpu_ms=2500, wall_ms=2600), name=COSTLY)
    decision = stage.soak().judge(queries=(NEW, COSTLY))
    assert decision["decision"] == "rollback"
    assert decision["rollback_queries"] == [NEW, COSTLY]


def test_a_stop_and_restart_of_a_denylisted_query_are_that_query_s():
    # the canary's case: the watchdog stops the worker running the costly query, the next worker
    # denylists it; the stop, the denylist and the worker restart all belong to it
    stage = mixed_stage(cost(cpu_ms=20))
    decision = stage.soak(midway=lambda agents: agents["host-3"].denylist(COSTLY)).judge(queries=(NEW, COSTLY))
    assert decision["decision"] == "partial_rollback"
    assert decision["rollback_queries"] == [COSTLY]
    assert "host-3: 1 worker restart during the stage (last exit: 0)." in decision["reasons"]
    assert list(decision["query_reasons"]) == [COSTLY]
    assert len(decision["query_reasons"][COSTLY]) == 3     # denylisted, the stop, the restart
    assert any(reason.startswith("host-3: the watchdog stopped the worker") for reason in decision["reasons"])
    # the failure budget is not charged for a host whose failures went with the query
    assert decision["failures"]["total"] == 0
    assert (decision["failures"]["hosts"], decision["failures"]["explained"]) == ([], ["host-3"])


def test_a_restart_no_query_explains_rolls_the_whole_pack_back():
    def events(agents):
        agents["host-1"].restart_worker()          # no stop, nothing denylisted: whose fault?
    decision = mixed_stage().soak(midway=events).judge(queries=(NEW, COSTLY))
    assert decision["decision"] == "rollback"
    assert decision["rollback_queries"] == [NEW, COSTLY]
    assert "host-1: 1 worker restart during the stage (last exit: signal 9)." in decision["reasons"]


def test_another_query_denylisted_is_the_whole_pack():
    decision = mixed_stage().soak(midway=lambda agents: agents["host-2"].denylist("pack_base_procs")).judge(
        queries=(NEW, COSTLY))
    assert decision["decision"] == "rollback"


def test_a_collateral_slowdown_is_the_whole_pack():
    stage = Stage(count=6).push().push(cost(cpu_ms=20), name=COSTLY)
    decision = stage.soak(seconds=600, midway=slow_others(1.6)).judge(queries=(NEW, COSTLY))
    assert decision["comparison"]["slowdown"] is True
    assert decision["decision"] == "rollback"


def test_host_failures_beyond_the_budget_roll_back_their_query():
    stage = mixed_stage(cost(cpu_ms=20))
    stage.agents["host-2"].set_cost(COSTLY, cost(cpu_ms=20, output_size=400 * 1024))
    stage.soak()
    p95_allowed = {"output_bytes_p95": 1024 * 1024}      # one host in five: only its maximum is over
    decision = stage.judge(queries=(NEW, COSTLY), budget=p95_allowed)
    assert (decision["decision"], decision["rollback_queries"]) == ("partial_rollback", [COSTLY])
    assert decision["reasons"] == [
        "pack_rollout_costly on host-2: its costliest run took 435.1 KiB of output, over the per-run maximum of "
        "256.0 KiB."]
    # within the failure budget it is a note, and the budget is spent
    tolerated = stage.judge(queries=(NEW, COSTLY), budget=dict(p95_allowed, failure_budget=1))
    assert (tolerated["decision"], tolerated["failures"]["total"]) == ("promote", 1)


def test_a_partial_rollback_keeps_the_other_queries_host_failures_on_the_budget():
    stage = mixed_stage()
    stage.soak(midway=lambda agents: agents["host-5"].restart_agent())
    decision = stage.judge(queries=(NEW, COSTLY), budget={"failure_budget": 1})
    assert (decision["decision"], decision["rollback_queries"]) == ("partial_rollback", [COSTLY])
    assert decision["failures"]["total"] == 1           # the restart is nobody's: it stays spent
    assert decision["notes"][1] == "1 host failure tolerated: 1 of the 1 allowed across the rollout now spent."
    # the next stage has none left
    nothing_left = Stage().push().soak(midway=lambda agents: agents["host-1"].restart_worker()).judge(
        budget={"failure_budget": 1}, spent=decision["failures"]["total"])
    assert nothing_left["decision"] == "rollback"


def test_a_bad_scope_is_named():
    stage = cheap_stage(count=1)
    with pytest.raises(GateError, match="scope: expected query .* or pack .*, got 'queries'"):
        stage.judge(scope="queries")
