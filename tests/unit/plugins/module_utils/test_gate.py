"""The rollout gate, judged as a pure function over schedule_info results of fake stages."""

import re

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate import judge
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import DEFAULTS, MIB, SETTINGS, GateError, settings
from ansible_collections.pyosquery.fleet.plugins.module_utils.shard import machine_shard
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import (
    FakeAgent, agent_down, cost, unreachable)

NEW = "pack_rollout_users"
CHEAP = cost(cpu_ms=20, wall_ms=25, memory=0, output_size=300)


class Stage:
    """A stage of fake hosts: some history, a baseline, the push, a soak, the current figures."""

    def __init__(self, count=5, shard=None, history=900, other_cost=None, other_jitter=0.1, seed=0):
        self.agents = {}
        self.shard = shard
        for number in range(1, count + 1):
            agent = FakeAgent("host-%d" % number, seed=seed)
            agent.add("pack_base_procs", 10, other_cost or cost(cpu_ms=8, wall_ms=9), jitter=other_jitter)
            agent.add("pack_base_ports", 30, other_cost or cost(cpu_ms=3, wall_ms=4), jitter=other_jitter)
            agent.tick(history)
            self.agents[agent.hostname] = agent
        self.baselines = {host: agent.read() for host, agent in self.agents.items()}
        self.currents = None

    def in_shard(self, host):
        return not self.shard or machine_shard(host) <= self.shard

    def push(self, new_cost=None, interval=20, name=NEW):
        for host, agent in self.agents.items():
            if self.in_shard(host):
                agent.add(name, interval, new_cost or CHEAP)
        return self

    def soak(self, seconds=300, midway=None):
        for agent in self.agents.values():
            agent.tick(seconds / 2.0)
        if midway:
            midway(self.agents)
        for agent in self.agents.values():
            agent.tick(seconds / 2.0)
        self.currents = {host: agent.read(since=self.baselines[host]) for host, agent in self.agents.items()}
        return self

    def judge(self, queries=(NEW,), **options):
        options.setdefault("stage", {"name": "canary", "shard": self.shard})
        return judge(self.currents, self.baselines, queries=list(queries), **options)


def cheap_stage(**options):
    return Stage(**options).push().soak()


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

def slow_others(factor, hosts=None):
    def slow(agents):
        for host, agent in agents.items():
            if hosts is None or host in hosts:
                agent.set_cost("pack_base_procs", cost(cpu_ms=8 * factor, wall_ms=9 * factor))
                agent.set_cost("pack_base_ports", cost(cpu_ms=3 * factor, wall_ms=4 * factor))
    return slow


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


# per query: roll back only what breached (scope query, the default), or the whole pack

COSTLY = "pack_rollout_costly"


def mixed_stage(costly=None, count=5):
    """A stage given a cheap query and a second one, COSTLY, with the cost given."""
    return Stage(count=count).push().push(costly or cost(cpu_ms=2500, wall_ms=2600), name=COSTLY)


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


# found by mutation testing (make mutate): each fails with a mutant the tests above let live

def test_an_unreachable_host_leaves_the_other_hosts_judged_and_compared():
    # host-1 comes first: the hosts after it still count, for their events and the comparison
    stage = Stage(count=10).push().soak(seconds=600, midway=lambda agents: agents["host-3"].denylist(NEW))
    stage.currents["host-1"] = unreachable("host-1")
    decision = stage.judge(budget={"failure_budget": 10})
    assert "pack_rollout_users on host-3: the agent denylisted it (a worker was stopped while it ran)." in \
        decision["reasons"]
    assert (decision["comparison"]["made"], decision["comparison"]["hosts_stage"]) == (True, 9)


def test_the_worst_duty_cycle_is_the_host_nearest_its_own_limit():
    stage = Stage()
    stage.agents["host-2"].watchdog["cpu_limit_ms"] = 300         # half the others' limit
    stage.agents["host-5"].watchdog["cpu_limit_ms"] = 4800
    duty = stage.push(cost(cpu_ms=300, wall_ms=320), interval=10).soak().judge()["per_query"][NEW]["duty"]
    assert duty["host"] == "host-2" and duty["limit"] == pytest.approx(0.01)


def test_a_host_running_the_queries_outside_the_shard_is_judged_with_the_stage_and_named():
    stage = Stage(count=12, shard=35).push()
    stage.agents["host-5"].add(NEW, 20, CHEAP)                    # machine shard above 35, runs them anyway
    stage.soak()
    stage.currents["host-7"] = unreachable("host-7")
    del stage.baselines["host-7"]                                # nothing ever told its hostname
    decision = stage.judge()
    assert decision["hosts"]["host-5"]["in_stage"] is True
    assert "host-5 runs the queries although its machine shard %d (from its hostname) is above the stage's shard " \
        "35; judged with the stage." % machine_shard("host-5") in decision["notes"]
    assert (decision["hosts"]["host-5"]["shard_from"], decision["hosts"]["host-7"]["shard_from"]) == \
        ("hostname", "inventory name")


def test_a_query_entry_without_cpu_figures_adds_nothing_to_the_agent_s_total():
    stage = Stage(count=6).push().soak(seconds=600)
    before = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    for current in stage.currents.values():
        current["deltas"]["queries"]["pack_gone"] = {"status": "removed", "reason": "no longer in the schedule",
                                                     "executions": 0, "cpu_ms": None, "runs": []}
    assert stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]["median_x"] == before["median_x"]


def test_a_p_value_equal_to_alpha_is_no_slowdown():
    stage = Stage(count=6).push().soak(seconds=600, midway=slow_others(1.6))
    found = stage.judge()["comparison"]["figures"]["cpu_ms"]
    assert found["slowdown"] is True
    # the family's alpha is split between the two figures: twice the p-value makes alpha equal to it
    at_p = stage.judge(budget={"comparison_alpha": 2 * found["p_value"]})["comparison"]["figures"]["cpu_ms"]
    assert at_p["alpha"] == found["p_value"] and at_p["slowdown"] is False


def test_a_duty_cycle_exactly_at_its_limit_is_within_it():
    stage = Stage().push(cost(cpu_ms=2000, wall_ms=2000), interval=10)          # 0.2 of a CPU, no jitter below
    for agent in stage.agents.values():
        agent.queries[NEW]["jitter"] = 0
    limits = {"duty_share": 1.0, "cpu_ms_p95": 5000, "wall_ms_p95": 5000, "cpu_ms_max": 5000, "wall_ms_max": 5000}
    decision = stage.soak().judge(budget=limits)                                 # limit: 600 ms / 3 s = 0.2
    assert decision["per_query"][NEW]["duty"]["max"] == decision["per_query"][NEW]["duty"]["limit"]
    assert decision["decision"] == "promote"


def test_the_worst_hosts_name_the_figure_nearest_its_budget():
    worst = Stage().push(cost(cpu_ms=20, output_size=200 * 1024)).soak().judge()["worst_hosts"]
    assert {entry["figure"] for entry in worst} == {"output_bytes p95"}
    worst = Stage().push(cost(cpu_ms=300, wall_ms=320), interval=10).soak().judge()["worst_hosts"]  # 3 % of 2 %
    assert {entry["figure"] for entry in worst} == {"duty"} and worst[0]["ratio"] == pytest.approx(1.5, rel=0.15)


def test_a_slowdown_exactly_at_the_minimum_shift_or_delta_counts():
    stage = Stage(count=6).push().soak(seconds=600, midway=slow_others(1.6))
    shift = stage.judge()["comparison"]["figures"]["cpu_ms"]["median_shift"]
    at_shift = stage.judge(budget={"comparison_min_shift": shift})["comparison"]["figures"]["cpu_ms"]
    assert at_shift["slowdown"] is True
    delta = at_shift["cliffs_delta"]
    assert stage.judge(budget={"comparison_min_delta": delta})["comparison"]["figures"]["cpu_ms"]["slowdown"] is True


def test_the_before_side_holds_the_run_at_the_baseline_s_moment():
    # history 60 s: the runs at 10, 20 ... 60 s, the last one at the very second the baseline was read
    figures = Stage(count=6, history=60).push().soak(seconds=600).judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["n_y"] == 6 * 6


def test_a_query_needs_three_runs_a_side_to_be_compared():
    # pack_base_ports runs every 30 s: twice in 60 s (left out), three times in 90 s
    figures = Stage(count=6).push().soak(seconds=60).judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["n_x"] == 6 * 6
    figures = Stage(count=6).push().soak(seconds=90).judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["n_x"] == 6 * (9 + 3)


def test_judged_at_the_baseline_s_moment_holds_without_dividing_by_zero():
    decision = Stage().push().soak(seconds=0).judge()
    assert decision["decision"] == "hold" and decision["comparison"]["made"] is False


def test_a_query_reset_on_every_host_leaves_their_other_queries_compared():
    stage = Stage(count=6).push().soak(seconds=600, midway=lambda agents: [
        agent.change_sql("pack_base_procs", "SELECT 2") for agent in agents.values()])
    figures = stage.judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["n_x"] == 6 * 20                          # pack_base_ports' runs alone


def test_a_query_that_never_ran_before_the_stage_leaves_the_total_as_it_was():
    stage = Stage(count=6).push().soak(seconds=600)
    before = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    for baseline in stage.baselines.values():
        baseline["queries"] = dict({"pack_aaa_weekly": dict(baseline["queries"]["pack_base_procs"], executions=0,
                                                            runs=[])}, **baseline["queries"])
    assert stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]["median_y"] == before["median_y"]


def test_a_bad_run_in_a_baseline_is_named_with_its_host():
    stage = cheap_stage()
    stage.baselines["host-2"]["queries"]["pack_base_procs"]["runs"][0]["cpu_ms"] = "fast"
    with pytest.raises(GateError, match=r"host host-2: baseline\.queries\.pack_base_procs\.runs\[0\]\.cpu_ms: "
                                        r"expected a number, got 'fast'"):
        stage.judge()


def test_no_total_cpu_comparison_when_the_control_hosts_had_no_cpu_before():
    stage = Stage(count=12, shard=35, other_cost=cost(cpu_ms=0, wall_ms=0), other_jitter=0)
    for host, agent in stage.agents.items():
        if stage.in_shard(host):
            agent.add("pack_base_users", 10, cost(cpu_ms=5))
        agent.tick(300)
    stage.baselines = {host: agent.read() for host, agent in stage.agents.items()}
    total = stage.push().soak(seconds=600).judge()["comparison"]
    assert total["design"] == "control"
    assert total["figures"]["total_cpu_ms_per_s"] == {"made": False, "gates": False, "slowdown": False,
                                                      "reason": "no host had CPU figures covering both windows"}


def test_the_total_before_covers_only_what_the_kept_runs_of_a_query_cover():
    # the agent keeps a query's last 100 runs: every 5 s, they cover the last 495 s of a 600 s stage;
    # in them, 49 runs of 4 ms, then 50 of 8 ms
    stage = Stage(count=6, history=0, other_jitter=0)
    for agent in stage.agents.values():
        agent.add("pack_base_fast", 5, cost(cpu_ms=4), jitter=0)
        agent.tick(650)
        agent.set_cost("pack_base_fast", cost(cpu_ms=8))
        agent.queries["pack_base_fast"]["jitter"] = 0
        agent.tick(250)
    stage.baselines = {host: agent.read() for host, agent in stage.agents.items()}
    total = stage.push().soak(seconds=600).judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert total["median_y"] == pytest.approx(8 / 10 + 3 / 30 + (49 * 4 + 50 * 8) / 495, rel=1e-9)


def test_with_control_hosts_the_totals_compare_each_host_s_growth():
    stage = Stage(count=12, shard=35, other_jitter=0).push().soak(seconds=600)
    total = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert total["median_y"] == pytest.approx(1.0, rel=1e-9)             # the control hosts: as before
    assert total["median_x"] == pytest.approx((0.9 + 1.0) / 0.9, rel=0.1)  # the new query adds 1 ms/s to 0.9


def test_on_a_tie_the_worst_host_names_the_p95():
    stage = Stage(count=1)
    stage.agents["host-1"].add(NEW, 20, cost(cpu_ms=50, wall_ms=1), jitter=0)
    limits = {"cpu_ms_p95": 100, "cpu_ms_max": 100}                 # p95 and max both 50 ms: both at half
    [worst] = stage.soak().judge(budget=limits)["worst_hosts"]
    assert (worst["figure"], worst["ratio"]) == ("cpu_ms p95", 0.5)


def test_a_watchdog_stop_in_the_baseline_s_second_is_during_the_stage():
    # stop times are whole seconds (cut): a stop stamped with the baseline's second came after it
    stage = Stage(count=1).push()
    stage.agents["host-1"].watchdog.update(last_stop_time=int(stage.baselines["host-1"]["collected_at"]),
                                           last_stop_reason="Maximum sustainable CPU utilization limit exceeded")
    decision = stage.soak().judge(budget={"failure_budget": 1})
    assert decision["hosts"]["host-1"]["events"]["watchdog_stop"]["time"] == stage.baselines["host-1"]["collected_at"]


def test_deltas_without_a_restart_count_have_none():
    stage = cheap_stage(count=1)
    del stage.currents["host-1"]["deltas"]["worker_restarts"]
    assert stage.judge()["hosts"]["host-1"]["events"]["worker_restarts"] == 0


def test_other_queries_are_measured_against_their_baseline_median_plus_a_millisecond():
    # with no jitter: 8 ms -> 12.8 ms and 3 ms -> 4.8 ms, each over (its median + 1 ms)
    stage = Stage(count=6, other_jitter=0).push().soak(seconds=1200, midway=slow_others(1.6))
    figures = stage.judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["median_shift"] == pytest.approx(((12.8 + 1) / (8 + 1) + (4.8 + 1) / (3 + 1)) / 2 - 1, rel=1e-9)


def test_a_query_whose_only_kept_run_is_at_the_baseline_adds_nothing_before():
    stage = Stage(count=6).push().soak(seconds=600)
    before = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    for baseline in stage.baselines.values():
        procs = baseline["queries"]["pack_base_procs"]
        procs["runs"] = procs["runs"][-1:]                            # older runs gone, the last at the baseline
    after = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert after["made"] and after["median_y"] < before["median_y"]


@pytest.mark.parametrize("denylisted, newly", [(True, False), (False, True)])
def test_a_query_still_or_newly_denylisted_is_denylisted(denylisted, newly):
    # still: denylisted before a resumed stage's baseline; newly: its denylist expired before the read
    stage = Stage().push().soak(midway=lambda agents: agents["host-3"].denylist(NEW))
    stage.currents["host-3"]["deltas"]["queries"][NEW].update(denylisted=denylisted, newly_denylisted=newly)
    decision = stage.judge(budget={"failure_budget": 10})
    assert "pack_rollout_users on host-3: the agent denylisted it (a worker was stopped while it ran)." in \
        decision["reasons"]


def test_a_stop_the_watchdog_did_not_name_is_the_only_denylisted_query_s():
    stage = mixed_stage(cost(cpu_ms=20))
    stage.soak(midway=lambda agents: agents["host-3"].denylist(COSTLY))
    stage.currents["host-3"]["watchdog"]["last_denylisted_query"] = ""
    decision = stage.judge(queries=(NEW, COSTLY))
    assert (decision["decision"], decision["rollback_queries"]) == ("partial_rollback", [COSTLY])
    assert any(reason.startswith("host-3: the watchdog stopped the worker") for reason in
               decision["query_reasons"][COSTLY])


def test_a_host_read_within_a_second_of_its_baseline_counts_in_the_totals():
    stage = Stage(count=6).push().soak(seconds=600)
    late = FakeAgent("host-7")
    late.add("pack_base_procs", 10, cost(cpu_ms=8, wall_ms=9))
    late.tick(900)
    stage.baselines["host-7"] = late.read()
    late.tick(0.5)
    stage.currents["host-7"] = late.read(since=stage.baselines["host-7"])
    total = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert (total["n_x"], total["n_y"]) == (7, 7)


def test_exactly_the_runs_needed_are_enough():
    decision = Stage().push(interval=100).soak(seconds=300).judge()        # 3 runs, 3 needed
    assert decision["hosts"]["host-1"]["queries"][NEW]["status"] == "ok"


def test_a_query_with_three_kept_runs_before_is_compared():
    # history 90 s: pack_base_ports (every 30 s) has three runs before the stage, pack_base_procs nine
    figures = Stage(count=6, history=90).push().soak(seconds=600).judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["n_y"] == 6 * (9 + 3)


def test_exactly_the_minimum_of_hosts_on_both_sides_compares_with_control_hosts():
    stage = Stage(count=12, shard=35).push().soak(seconds=600)
    in_stage = sorted(host for host in stage.agents if stage.in_shard(host))
    for host in in_stage[:2]:
        stage.currents[host] = unreachable(host)                     # 7 - 2: five stage hosts, five control
    compared = stage.judge(budget={"max_missing_share": 0.5})["comparison"]
    assert (compared["design"], compared["hosts_stage"], compared["hosts_control"]) == ("control", 5, 5)


def test_two_denylisted_queries_and_an_unnamed_stop_belong_to_neither():
    stage = mixed_stage(cost(cpu_ms=20))
    stage.soak(midway=lambda agents: (agents["host-3"].denylist(COSTLY), agents["host-3"].denylist(NEW)))
    stage.currents["host-3"]["watchdog"]["last_denylisted_query"] = ""
    decision = stage.judge(queries=(NEW, COSTLY))
    assert not any(reason.startswith("host-3: the watchdog stopped the worker")
                   for reasons in decision["query_reasons"].values() for reason in reasons)


def test_a_rolled_out_query_already_in_the_baseline_is_not_one_of_the_others():
    # a resumed stage: the new query ran before this baseline too, yet it is not compared with itself
    stage = Stage(count=6).push()
    for agent in stage.agents.values():
        agent.tick(300)
    stage.baselines = {host: agent.read() for host, agent in stage.agents.items()}
    figures = stage.soak(seconds=600).judge()["comparison"]["figures"]["cpu_ms"]
    assert figures["n_x"] == 6 * 40


def test_an_entry_that_is_not_a_mapping_is_skipped():
    stage = Stage(count=6).push().soak(seconds=600)
    before = stage.judge()["comparison"]["figures"]["cpu_ms"]
    for current in stage.currents.values():
        current["deltas"]["queries"]["pack_odd"] = None
    assert stage.judge()["comparison"]["figures"]["cpu_ms"]["n_x"] == before["n_x"]


def test_kept_runs_covering_a_second_count():
    stage = Stage(count=6, other_jitter=0).push().soak(seconds=600)
    for baseline in stage.baselines.values():
        since = baseline["collected_at"]
        procs = baseline["queries"]["pack_base_procs"]
        procs["runs"] = [dict(run, started=started) for run, started in zip(procs["runs"][-2:], (since - 1, since))]
    total = stage.judge()["comparison"]["figures"]["total_cpu_ms_per_s"]
    assert total["median_y"] == pytest.approx(8 / 1 + 3 / 30, rel=1e-9)     # the last run over its 1 s
