"""The gate at its boundaries and edge cases, each found by mutation testing (make mutate): every test
fails with a mutant the other gate tests let live."""

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import GateError
from ansible_collections.pyosquery.fleet.plugins.module_utils.shard import machine_shard
from ansible_collections.pyosquery.fleet.tests.unit.plugins.gate_stage import CHEAP, COSTLY, NEW, Stage, cheap_stage, mixed_stage, slow_others
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, cost, unreachable


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
