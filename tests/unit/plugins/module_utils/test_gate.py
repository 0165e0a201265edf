"""The rollout gate, judged as a pure function over schedule_info results of fake stages: budgets,
failures, missing data, shards, the comparison and the settings."""

import re

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate import judge
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import DEFAULTS, MIB, SETTINGS, GateError, settings
from ansible_collections.pyosquery.fleet.tests.unit.plugins.gate_stage import NEW, Stage, cheap_stage, slow_others
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import agent_down, cost, unreachable


# promote

def test_a_cheap_query_is_promoted_with_its_figures():
    decision = cheap_stage().judge()
    assert decision["decision"] == "promote"
    assert decision["reasons"][0].startswith("pack_rollout_users: within budget on 5 of 5 hosts: p95 CPU")
    assert re.search(r", worst duty cycle 0\.\d\d % of a CPU \(limit 2\.0 % of a CPU\)\.$", decision["reasons"][0])
    figures = decision["per_query"][NEW]
    assert (figures["hosts_with_data"], figures["executions"], figures["runs"]) == (5, 75, 75)
    assert 18 <= figures["cpu_ms"]["p50"] <= figures["cpu_ms"]["p95"] <= figures["cpu_ms"]["max"] <= 22
    assert figures["impact"] == "Minimal"
    assert figures["duty"]["limit"] == pytest.approx(0.1 * 600 / 3000)
    assert decision["hosts"]["host-3"]["queries"][NEW]["executions"] == 15
    assert decision["hosts"]["host-3"]["queries"][NEW]["status"] == "ok"
    assert decision["failures"] == {"spent_before": 0, "this_stage": 0, "total": 0, "budget": 0,
                                    "exhausted": False, "hosts": [], "explained": []}
    assert len(decision["worst_hosts"]) == 5


def test_runs_exactly_at_the_budget_are_within_it():
    # every run ties with the CPU budget: only a figure above a budget is over it
    stage = Stage()
    for agent in stage.agents.values():
        agent.add(NEW, 20, cost(cpu_ms=1000, wall_ms=1000), jitter=0)
    decision = stage.soak().judge(budget={"duty_share": 1.0})
    assert decision["per_query"][NEW]["cpu_ms"] == {"p50": 1000.0, "p95": 1000.0, "max": 1000.0}
    assert decision["decision"] == "promote"
    assert stage.judge(budget={"duty_share": 1.0, "cpu_ms_p95": 999})["decision"] == "rollback"


# rollback

def test_an_expensive_query_is_rolled_back_naming_query_figure_and_budget():
    decision = Stage().push(cost(cpu_ms=2500, wall_ms=2600)).soak().judge()
    assert decision["decision"] == "rollback"
    assert any(reason.startswith("pack_rollout_users: p95 CPU per run is 2,") and "over its budget of 1,000 ms" in reason
               for reason in decision["reasons"])
    assert any("p95 wall time per run" in reason for reason in decision["reasons"])
    assert decision["per_query"][NEW]["impact"] == "Considerable"
    assert decision["worst_hosts"][0]["ratio"] > 1


def test_one_host_over_a_maximum_is_a_host_failure():
    stage = Stage().push()
    stage.agents["host-2"].set_cost(NEW, cost(cpu_ms=20, output_size=400 * 1024))
    decision = stage.soak().judge()
    assert decision["decision"] == "rollback"
    assert decision["failures"]["hosts"] == ["host-2"]
    assert "pack_rollout_users on host-2: its costliest run took" in " ".join(decision["reasons"])
    assert "over the per-run maximum of 256.0 KiB" in " ".join(decision["reasons"])
    assert decision["hosts"]["host-2"]["failures"][0].endswith("256.0 KiB.")


def test_duty_cycle_against_each_host_s_watchdog_budget():
    stage = Stage()
    stage.agents["host-4"].watchdog["cpu_limit_ms"] = 4800        # a 16-CPU host: 8 times the budget
    stage.push(cost(cpu_ms=300, wall_ms=320), interval=10).soak()  # 3 % of a CPU
    decision = stage.judge()
    assert decision["decision"] == "rollback"
    assert decision["failures"]["hosts"] == ["host-1", "host-2", "host-3", "host-5"]
    assert decision["hosts"]["host-4"]["queries"][NEW]["duty_limit"] == pytest.approx(0.16)
    assert any("its CPU duty cycle is 3.0 % of a CPU" in reason and "2.0 % of a CPU (10 % of 600 ms per 3 s check)"
               in reason for reason in decision["reasons"])
    assert any(re.search(r"\((2[7-9]\d|3[0-3]\d) ms a run every 10 s\)", reason) for reason in decision["reasons"])


def test_a_host_without_a_watchdog_is_held_to_the_fallback_budget():
    stage = Stage(count=2)
    stage.agents["host-1"].watchdog["cpu_limit_ms"] = 0
    del stage.agents["host-2"].watchdog["cpu_limit_ms"]            # an agent that does not say
    decision = stage.push().soak().judge()
    assert [decision["hosts"][host]["queries"][NEW]["duty_limit"] for host in ("host-1", "host-2")] == \
        [pytest.approx(0.1 * 300 / 3000)] * 2


def test_a_denylist_rolls_back_whatever_the_budgets():
    decision = Stage().push().soak(midway=lambda agents: agents["host-3"].denylist(NEW)).judge(
        budget={"failure_budget": 10})
    assert decision["decision"] == "rollback"
    assert "pack_rollout_users on host-3: the agent denylisted it (a worker was stopped while it ran)." in \
        decision["reasons"]
    assert any(reason.startswith("host-3: the watchdog stopped the worker during the stage: Maximum sustainable CPU")
               and reason.endswith("(running: pack_rollout_users).") for reason in decision["reasons"])
    assert decision["per_query"][NEW]["denylisted_hosts"] == ["host-3"]


def test_another_query_denylisted_during_the_stage_rolls_back():
    decision = Stage().push().soak(midway=lambda agents: agents["host-1"].denylist("pack_base_procs")).judge(
        budget={"failure_budget": 10})
    assert decision["decision"] == "rollback"
    assert any(reason.startswith("host-1: the agent denylisted pack_base_procs during the stage")
               for reason in decision["reasons"])


def test_a_worker_restart_spends_the_failure_budget():
    decision = Stage().push().soak(midway=lambda agents: agents["host-5"].restart_worker()).judge()
    assert decision["decision"] == "rollback"
    assert "host-5: 1 worker restart during the stage (last exit: signal 9)." in decision["reasons"]
    assert decision["failures"]["this_stage"] == 1


def test_a_worker_restart_within_the_failure_budget_is_a_note():
    decision = Stage().push().soak(midway=lambda agents: agents["host-5"].restart_worker()).judge(
        budget={"failure_budget": 1})
    assert decision["decision"] == "promote"
    assert decision["notes"][0] == "1 host failure tolerated: 1 of the 1 allowed across the rollout now spent."
    assert decision["failures"]["total"] == 1


def test_an_agent_restart_is_a_host_failure():
    decision = Stage().push().soak(midway=lambda agents: agents["host-2"].restart_agent()).judge()
    assert decision["decision"] == "rollback"
    assert "host-2: a restart during the stage: the agent restarted (start_time 1699995600 -> 1700000250)." \
        in decision["reasons"]


def test_the_failure_budget_counts_across_stages():
    restarted = Stage().push().soak(midway=lambda agents: agents["host-1"].restart_worker())
    first = restarted.judge(budget={"failure_budget": 2})
    assert (first["decision"], first["failures"]["total"]) == ("promote", 1)
    second = Stage().push().soak(midway=lambda agents: agents["host-4"].restart_worker()).judge(
        budget={"failure_budget": 2}, spent=first["failures"]["total"])
    assert (second["decision"], second["failures"]["total"]) == ("promote", 2)
    third = Stage().push().soak(midway=lambda agents: agents["host-2"].restart_worker()).judge(
        budget={"failure_budget": 2}, spent=second["failures"]["total"])
    assert third["decision"] == "rollback"
    assert third["reasons"][0] == \
        "failure budget exhausted: 3 host failures in this rollout (1 in this stage, 2 before), 2 allowed."
    # the same stage judged without the earlier stages' failures would have passed
    assert Stage().push().soak(midway=lambda agents: agents["host-2"].restart_worker()).judge(
        budget={"failure_budget": 2})["decision"] == "promote"


def test_a_per_query_budget_overrides_the_default():
    stage = Stage().push(cost(cpu_ms=1500, wall_ms=1600), interval=90).soak(seconds=600)   # 1.7 % of a CPU
    assert stage.judge()["decision"] == "rollback"
    relaxed = stage.judge(budget={"queries": {NEW: {"cpu_ms_p95": 2000, "cpu_ms_max": 3000}}})
    assert relaxed["decision"] == "promote"
    assert relaxed["per_query"][NEW]["budget"]["cpu_ms_p95"] == 2000


# hold: too little evidence

def test_an_unreachable_host_holds_a_small_stage():
    stage = cheap_stage()
    stage.currents["host-2"] = unreachable("host-2")
    decision = stage.judge()
    assert decision["decision"] == "hold"
    assert decision["reasons"] == [
        "pack_rollout_users: 1 of 5 hosts of the stage gave no usable figures (20 %, more than the 10 % allowed): "
        "host-2: unreachable: Failed to connect to the host via ssh: host-2: Connection timed out."]
    assert decision["hosts"]["host-2"]["status"] == "unreachable"


def test_a_host_missing_from_the_results_counts_as_without_figures():
    stage = cheap_stage()
    del stage.currents["host-2"]
    del stage.baselines["host-2"]
    decision = stage.judge(stage={"name": "canary", "hosts": sorted(stage.agents)})
    assert decision["decision"] == "hold"
    assert "host-2: no result" in decision["reasons"][0]


def test_within_the_allowed_share_a_missing_host_does_not_hold():
    stage = Stage(count=10).push().soak()
    stage.currents["host-7"] = agent_down()
    decision = stage.judge()
    assert decision["decision"] == "promote"
    assert decision["per_query"][NEW]["hosts_without_data"] == {
        "host-7": "task failed: pyosquery agent not answering on /var/lib/pyosquery/pyosquery.em: connection refused"}


def test_a_query_reset_since_the_baseline_is_no_data():
    # a resumed stage: the query was already there at the baseline, then its SQL changed
    stage = Stage().push()
    for agent in stage.agents.values():
        agent.tick(300)
    stage.baselines = {host: agent.read() for host, agent in stage.agents.items()}
    stage.soak(midway=lambda agents: agents["host-1"].change_sql(NEW, "SELECT 2"))
    decision = stage.judge()
    assert decision["decision"] == "hold"
    assert decision["per_query"][NEW]["hosts_without_data"]["host-1"] == \
        "its stats were reset during the stage (the query's SQL changed)"


def test_too_few_runs_is_no_data():
    decision = Stage().push(interval=120).soak(seconds=200).judge()
    assert decision["decision"] == "hold"
    assert "host-1: it ran 2 times, fewer than the 3 needed" in decision["reasons"][0]


def test_no_data_at_all_holds():
    decision = Stage().soak().judge()                     # the pack never arrived
    assert decision["decision"] == "hold"
    assert decision["per_query"][NEW]["executions"] == 0
    host = decision["hosts"]["host-1"]["queries"][NEW]
    assert (host["executions"], host["runs"], host["status"]) == (0, 0, "no data")
    assert decision["reasons"][0].startswith("pack_rollout_users: 5 of 5 hosts of the stage gave no usable figures "
                                             "(100 %, none left; 10 % allowed): host-1: the query is not in its "
                                             "agent's schedule")


def test_a_rollback_outranks_a_hold_and_keeps_it_as_a_note():
    stage = Stage().push(cost(cpu_ms=2500, wall_ms=2600)).soak()
    stage.currents["host-1"] = unreachable("host-1")
    decision = stage.judge()
    assert decision["decision"] == "rollback"
    assert decision["notes"][0].startswith("pack_rollout_users: 1 of 5 hosts of the stage gave no usable figures")


def test_a_host_without_a_usable_baseline_has_no_figures():
    stage = cheap_stage()
    stage.baselines["host-4"] = unreachable("host-4")
    stage.currents["host-4"] = stage.agents["host-4"].read()
    decision = stage.judge()
    assert decision["hosts"]["host-4"]["status"] == "no_baseline"
    assert decision["decision"] == "hold"


# shards and tiny stages

def test_hosts_outside_the_shard_are_not_judged():
    stage = Stage(count=12, shard=35).push(cost(cpu_ms=20)).soak()
    decision = stage.judge()
    assert decision["decision"] == "promote"
    assert decision["stage"]["hosts_in_stage"] == 7
    assert decision["stage"]["hosts_outside_shard"] == ["host-11", "host-12", "host-5", "host-7", "host-9"]
    assert decision["per_query"][NEW]["hosts_in_stage"] == 7


def test_a_stage_whose_shard_holds_no_host_holds():
    decision = Stage(count=2, shard=5).push().soak().judge()
    assert decision["decision"] == "hold"
    assert decision["reasons"] == ["no host of the stage is in shard 5 (machine shards: host-1 20, host-2 32): "
                                   "nothing was measured."]


def test_a_single_host_stage_is_judged_without_the_comparison():
    decision = cheap_stage(count=1).judge()
    assert decision["decision"] == "promote"
    assert decision["comparison"]["made"] is False
    assert decision["notes"] == ["the agent's own cost was not compared: 1 host of the stage had runs of the agent's "
                                 "other queries before and during the stage (5 needed), and 0 hosts outside it to "
                                 "compare with."]


def test_comparison_needs_the_baselines():
    stage = cheap_stage()
    decision = judge(stage.currents, None, queries=[NEW])
    assert decision["decision"] == "promote"
    assert decision["comparison"]["made"] is False


# the agent's own cost

def test_before_during_comparison_finds_a_collateral_slowdown():
    stage = Stage(count=6).push()
    decision = stage.soak(seconds=600, midway=slow_others(1.6)).judge()
    compared = decision["comparison"]
    assert (compared["made"], compared["design"], compared["slowdown"]) == (True, "before/during", True)
    assert compared["figures"]["cpu_ms"]["median_shift"] > 0.2
    assert decision["decision"] == "rollback"
    assert any(reason.startswith("the agent's other queries ran slower on the stage's hosts (before/during comparison: "
                                 "CPU per run up") for reason in decision["reasons"])


def test_no_collateral_slowdown_when_the_other_queries_keep_their_cost():
    compared = Stage(count=6).push().soak(seconds=600).judge()["comparison"]
    assert (compared["made"], compared["slowdown"]) == (True, False)
    assert compared["figures"]["cpu_ms"]["hosts_x"] == 6
    assert [(compared["figures"][figure]["made"], compared["figures"][figure]["gates"])
            for figure in ("cpu_ms", "wall_ms", "total_cpu_ms_per_s")] == [(True, True), (True, True), (True, False)]


def test_a_small_shift_is_not_a_slowdown_even_when_significant():
    compared = Stage(count=6).push().soak(seconds=1200, midway=slow_others(1.1)).judge()["comparison"]
    assert compared["figures"]["cpu_ms"]["p_value"] < 0.025
    assert compared["slowdown"] is False


def test_control_hosts_cancel_a_fleet_wide_slowdown():
    # everything got slower in the window (a backup on every host): not the new queries' doing
    stage = Stage(count=12, shard=35).push()
    decision = stage.soak(seconds=600, midway=slow_others(1.6)).judge()
    compared = decision["comparison"]
    assert (compared["design"], compared["hosts_stage"], compared["hosts_control"]) == ("control", 7, 5)
    assert compared["slowdown"] is False
    assert decision["decision"] == "promote"


def test_control_hosts_show_a_slowdown_of_the_stage_s_hosts():
    stage = Stage(count=12, shard=35).push()
    in_stage = [host for host in stage.agents if stage.in_shard(host)]
    decision = stage.soak(seconds=600, midway=slow_others(1.6, in_stage)).judge(budget={"comparison_action": "hold"})
    assert decision["comparison"]["slowdown"] is True
    assert decision["decision"] == "hold"


def test_a_comparison_of_tied_figures_finds_nothing():
    # every run of the other queries costs the same, before and during: all samples tie
    stage = Stage(count=5, other_cost=cost(cpu_ms=0, wall_ms=0), other_jitter=0).push().soak(seconds=600)
    figures = stage.judge()["comparison"]["figures"]["cpu_ms"]
    assert (figures["p_value"], figures["median_shift"], figures["cliffs_delta"], figures["slowdown"]) == \
        (1.0, 0.0, 0.0, False)


# bad input

@pytest.mark.parametrize("options, message", [
    ({"queries": []}, "queries: give the rolled-out queries' names"),
    ({"queries": [""]}, "queries: give the rolled-out queries' names"),
    ({"queries": [7]}, "queries: give the rolled-out queries' names"),
    ({"stage": "canary"}, r"stage: expected a mapping \(name, shard, hosts\), got str"),
    ({"budget": {"cpu_p95": 5}}, r"budget\.cpu_p95: unknown setting"),
    ({"budget": {"max_missing_share": 2}}, r"budget\.max_missing_share: expected a share from 0 to 1, got 2"),
    ({"budget": {"cpu_ms_p95": "fast"}}, r"budget\.cpu_ms_p95: expected a number of 0 or more, got 'fast'"),
    ({"budget": {"cpu_ms_p95": -1}}, r"budget\.cpu_ms_p95: expected a number of 0 or more, got -1"),
    ({"budget": {"comparison_min_hosts": 0}}, r"budget\.comparison_min_hosts: expected 1 or more hosts per group, got 0"),
    ({"budget": {"comparison_action": "panic"}}, r"budget\.comparison_action: expected one of rollback, hold, report"),
    ({"budget": {"queries": {NEW: {"min_executions": 1}}}},
     r"budget\.queries\.pack_rollout_users\.min_executions: not a per-query budget"),
    ({"budget": {"queries": {NEW: 2000}}}, r"budget\.queries\.pack_rollout_users: expected a mapping of budgets"),
    ({"stage": {"shard": 150}}, r"stage\.shard: expected a whole number from 0 to 100"),
    ({"stage": {"shard": 101}}, r"stage\.shard: expected a whole number from 0 to 100 \(or none\), got 101"),
    ({"stage": {"shard": True}}, r"stage\.shard: expected a whole number from 0 to 100 \(or none\), got True"),
    ({"stage": {"shard": -1}}, r"stage\.shard: expected a whole number from 0 to 100 \(or none\), got -1"),
    ({"budget": [1]}, r"budget: expected a mapping of settings, got list"),
    ({"budget": {"comparison_min_hosts": 2.5}}, r"budget\.comparison_min_hosts: expected a whole number, got 2\.5"),
    ({"stage": {"hosts": "workstations"}}, r"stage\.hosts: expected the list of inventory hosts targeted"),
    ({"spent": -1}, "spent: expected the number of host failures"),
    ({"spent": 1.5}, r"spent: expected the number of host failures .*, got 1\.5"),
    ({"spent": True}, r"spent: expected the number of host failures .*, got True"),
])
def test_bad_options_are_named(options, message):
    stage = cheap_stage(count=1)
    arguments = dict({"queries": [NEW]}, **options)
    with pytest.raises(GateError, match=message):
        judge(stage.currents, stage.baselines, **arguments)


def test_current_figures_read_against_another_baseline_are_refused():
    stage = cheap_stage(count=2)
    stage.baselines["host-2"] = dict(stage.baselines["host-2"], collected_at=stage.baselines["host-2"]["collected_at"] - 0.5)
    with pytest.raises(GateError, match=r"host host-2: deltas\.since is .* but the baseline given was collected at"):
        stage.judge()


def test_current_figures_without_deltas_are_refused_when_a_baseline_exists():
    stage = cheap_stage(count=2)
    stage.currents["host-1"] = stage.agents["host-1"].read()
    with pytest.raises(GateError, match=r"host host-1: deltas: missing; read the current figures with since="):
        stage.judge()


def test_a_malformed_result_names_host_and_path():
    stage = cheap_stage(count=2)
    stage.currents["host-2"]["deltas"]["queries"][NEW]["runs"][0]["cpu_ms"] = "lots"
    with pytest.raises(GateError, match=r"host host-2: deltas\.queries\.pack_rollout_users\.runs\[0\]\.cpu_ms: "
                                        r"expected a number, got 'lots'"):
        stage.judge()


def test_every_setting_has_a_default_and_a_reason():
    assert set(DEFAULTS) == {key for key, _default, _kind, _reason in SETTINGS}
    assert all(len(reason) > 40 for _key, _default, _kind, reason in SETTINGS)


# found by `make mutate` (tests/README.md)

def test_memory_budgets_are_in_mebibytes():
    assert (DEFAULTS["memory_p95"], DEFAULTS["memory_max"]) == (16 * 1024 * 1024, 50 * 1024 * 1024)
    # memory_p95 is 16 MiB: 1 MiB of growth per run is well within it, 20 MiB is over it
    assert Stage().push(cost(cpu_ms=20, wall_ms=25, memory=MIB, output_size=300)).soak().judge()["decision"] == "promote"
    decision = Stage().push(cost(cpu_ms=20, wall_ms=25, memory=20 * MIB, output_size=300)).soak().judge()
    assert decision["decision"] == "rollback"
    assert decision["reasons"][0].startswith("pack_rollout_users: p95 memory growth per run is 2")
    assert "MiB, over its budget of 16.0 MiB" in decision["reasons"][0]


def test_worst_hosts_come_costliest_first():
    ratios = [entry["ratio"] for entry in cheap_stage().judge()["worst_hosts"]]
    assert ratios == sorted(ratios, reverse=True) and ratios[0] > ratios[-1]


def test_worst_hosts_are_five_with_their_figure_over_its_budget():
    worst = cheap_stage(count=12).judge()["worst_hosts"]
    assert len(worst) == 5
    assert all(entry["ratio"] == pytest.approx(entry["value"] / entry["budget"]) for entry in worst)


def test_the_comparison_says_which_design_it_made():
    assert Stage(count=6).push().soak(seconds=600).judge()["comparison"]["reason"] == \
        "made: stage hosts during the stage against before it"
    assert Stage(count=12, shard=35).push().soak(seconds=600).judge()["comparison"]["reason"] == \
        "made: stage hosts against hosts without the queries, same window"


def test_the_agent_s_total_cpu_rate_before_and_during_the_stage():
    # the other queries take 8 ms every 10 s and 3 ms every 30 s (0.9 ms/s); the new one adds 20 ms every 20 s
    total = Stage(count=6).push().soak(seconds=600).judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert (total["made"], total["gates"], total["slowdown"]) == (True, False, False)
    assert total["median_y"] == pytest.approx(0.9, rel=0.15)
    assert total["median_x"] == pytest.approx(1.9, rel=0.15)


def test_no_total_cpu_comparison_without_cpu_before_the_stage():
    stage = Stage(count=12, shard=35, other_cost=cost(cpu_ms=0, wall_ms=0), other_jitter=0).push().soak(seconds=600)
    total = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert total == {"made": False, "gates": False, "slowdown": False,
                     "reason": "no host had CPU figures covering both windows"}


def test_every_default_passes_its_own_check():
    assert settings(dict(DEFAULTS)) == (DEFAULTS, {})
    assert settings({"queries": {NEW: {"cpu_ms_p95": 10}}, "cpu_ms_p95": 2000})[0]["cpu_ms_p95"] == 2000
    assert settings({"comparison_min_hosts": 1})[0]["comparison_min_hosts"] == 1     # the least there is


def test_the_decision_names_its_stage():
    assert cheap_stage().judge()["stage"]["name"] == "canary"
    assert cheap_stage().judge(stage={"shard": None})["stage"]["name"] == "stage"


def test_shard_zero_means_every_host():
    assert cheap_stage().judge(stage={"name": "all", "shard": 0})["decision"] == "promote"


def test_shard_100_is_every_host_too():
    decision = cheap_stage().judge(stage={"name": "all", "shard": 100})
    assert decision["decision"] == "promote" and decision["stage"]["hosts_outside_shard"] == []


def test_a_run_exactly_at_the_maximum_is_no_host_failure():
    stage = Stage()
    for agent in stage.agents.values():
        agent.add(NEW, 20, cost(cpu_ms=1000, wall_ms=1000), jitter=0)
    decision = stage.soak().judge(budget={"duty_share": 1.0, "cpu_ms_max": 1000})
    assert (decision["decision"], decision["failures"]["this_stage"]) == ("promote", 0)


def test_the_comparison_takes_the_last_runs_of_each_query_a_side():
    # 20 runs a side of each of the two other queries on each of 6 hosts, however many ran
    figures = Stage(count=6).push().soak(seconds=1200).judge()["comparison"]["figures"]["cpu_ms"]
    assert (figures["n_x"], figures["n_y"]) == (6 * 40, 6 * 40)


def test_the_reasons_show_ten_host_failures_and_count_the_rest():
    stage = Stage(count=12).push(cost(cpu_ms=20, output_size=400 * 1024)).soak()
    reasons = stage.judge()["reasons"]
    failures = [reason for reason in reasons if "over the per-run maximum" in reason]
    assert len(failures) == 10
    assert reasons[-1] == "and 2 more like these (see hosts.<host>.failures)."
    ten = Stage(count=10).push(cost(cpu_ms=20, output_size=400 * 1024)).soak().judge()["reasons"]
    assert len([reason for reason in ten if "over the per-run maximum" in reason]) == 10
    assert not any("more like these" in reason for reason in ten)
