"""Fleet benchmarks (issues 8 and 9): deploy, read back and roll out on a lab fleet, next to a ping.

Run by `make bench` (never by `make test`). A lab fleet of plain-init hosts (50 by default,
QH_ID 14, state in /tmp/pq-bench) comes up and always goes down. Each measurement is set
against the median of the `ansible -m ping` runs taken right before and after it, with the
same forks. Deploy (table `fleet`): the first deploy (playbooks/deploy.yml, roles/agent), the
second run (nothing may change) and `schedule_info` on every host (ad hoc, as the ping).
Rollout (table `rollout`): a cheap query through four stages, each stage's time beyond its
soak; an over-budget query, from reaching the canary to its verified removal everywhere.
Each playbook run's slowest tasks are printed; every run's output and task profile stay in
.build/bench/fleet/. Writes its tables into benchmarks/README.md.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import HERE, LabFleet, beside_pings, print_profile, ratio_row  # noqa: E402  pylint: disable=wrong-import-position
from report import publish  # noqa: E402  pylint: disable=wrong-import-position
from rollout_times import removal_figures, stage_figures, stages  # noqa: E402  pylint: disable=wrong-import-position

DEPLOY = ["pyosquery.fleet.deploy", "-e", "@" + os.path.join(HERE, "fleet_vars.yml")]
STAGES = [{"name": "canary", "hosts": "canary"},
          {"name": "workstations-25", "hosts": "workstations", "shard": 25},
          {"name": "workstations", "hosts": "workstations"},
          {"name": "servers", "hosts": "servers"}]
SOAK = {"rollout_budget": {"min_executions": 2}, "rollout_poll_interval": 2, "rollout_soak_timeout": 120}
CHEAP = {"name": "bench_cheap", "queries": {
    "init_process": {"query": "SELECT pid, name, resident_size FROM processes WHERE pid = 1", "interval": 3}}}
# the talk's example of a query that looks harmless and is not: six joins of users
EXPENSIVE = {"name": "bench_expensive", "queries": {
    "users_six_ways": {"query": "SELECT 1 FROM users, users, users, users, users, users", "interval": 5}}}


def median_run(runs):
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def bench_deploy(fleet, runs):
    rows = []
    (first,), pings = beside_pings(fleet, lambda: fleet.playbook("deploy-first", *DEPLOY), 1)
    print_profile(first)
    built = any("build the wheelhouse" in t["task"] and t["results"].get("changed") for t in first.times["tasks"])
    rows.append(ratio_row("first deploy (wheelhouse %s)" % ("built" if built else "cached"), first.seconds, pings, "-"))

    again, pings = beside_pings(fleet, lambda: fleet.playbook("deploy-again", *DEPLOY), runs)
    for run in again:
        if run.changed_hosts():
            raise SystemExit("the second deploy changed %s (log %s)" % (", ".join(run.changed_hosts()), run.log))
    print_profile(median_run(again))
    rows.append(ratio_row("second deploy, nothing changes (median of %d)" % runs,
                          median_run(again).seconds, pings, "<= 20"))

    time.sleep(max(0.0, 35 - (time.time() - os.path.getmtime(first.log))))   # every query has run
    reads, pings = beside_pings(fleet, lambda: fleet.adhoc("schedule_info", "pyosquery.fleet.schedule_info"), runs)
    rows.append(ratio_row("schedule_info, all hosts (median of %d)" % runs, median_run(reads).seconds, pings, "<= 3"))
    return rows


def rollout(fleet, label, pack, ok_codes=(0,)):
    """The rollout playbook with `pack` through STAGES, its state in the run's log directory."""
    extra = dict(SOAK, rollout_id="%s-%d" % (label, time.time()), rollout_pack=pack, rollout_stages=STAGES,
                 rollout_state_dir=os.path.join(fleet.logs, "rollouts"))
    path = os.path.join(fleet.logs, label + "-vars.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    return fleet.playbook(label, "pyosquery.fleet.rollout", "-e", "@" + path, ok_codes=ok_codes)


def bench_rollout(fleet):
    rows = []
    (cheap,), pings = beside_pings(fleet, lambda: rollout(fleet, "rollout-cheap", CHEAP), 1)
    print_profile(cheap)
    ran = stages(cheap.times["tasks"])
    figures_by_stage = [stage_figures(tasks) for tasks in ran]
    if len(ran) != len(STAGES) or not all(f["hosts"] for f in figures_by_stage):
        raise SystemExit("the cheap rollout did not reach every stage (log %s)" % cheap.log)
    for stage, figures in zip(STAGES, figures_by_stage):
        hosts = "%d host%s%s" % (figures["hosts"], "" if figures["hosts"] == 1 else "s",
                                 ", shard %d" % stage["shard"] if "shard" in stage else "")
        rows.append(ratio_row("stage %s (%s): beyond its soak of %.1f s" % (stage["name"], hosts, figures["soak"]),
                              figures["beyond"], pings, "< 3"))
    soaks = sum(f["soak"] for f in figures_by_stage)
    rows.append(ratio_row("the whole cheap rollout (%d stages, report): beyond the soaks' %.1f s" % (len(STAGES), soaks),
                          cheap.seconds - soaks, pings, "-"))

    # a rollback fails the play (exit 2), by design
    (costly,), pings = beside_pings(fleet, lambda: rollout(fleet, "rollout-expensive", EXPENSIVE, ok_codes=(2,)), 1)
    print_profile(costly)
    removal = removal_figures(costly.times["tasks"], "host-1")
    rows.append(ratio_row("over-budget query: at the canary -> verified removal everywhere, beyond the canary's "
                          "soak of %.1f s" % removal["soak"], removal["seconds"] - removal["soak"], pings, "< 60 s"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="runs of the cheap measurements (median)")
    args = parser.parse_args()
    header = ("measurement (%d plain-init hosts, forks %d)" % (args.hosts, args.forks), "ours (s)", "peer",
              "peer (s)", "ratio", "target")
    with LabFleet("fleet", args.hosts, forks=args.forks) as fleet:
        fleet.ping()            # opens the SSH masters that every later run reuses, ping or not
        publish("fleet", header, bench_deploy(fleet, args.runs))
        publish("rollout", header, bench_rollout(fleet))


if __name__ == "__main__":
    main()
