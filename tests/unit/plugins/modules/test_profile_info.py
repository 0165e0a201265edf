"""profile_info with the real pyosquery-profile: scores and figures per query, failures named."""

import json
import os
import sys

from ansible_collections.pyosquery.fleet.plugins.modules import profile_info

PROFILER = os.path.join(os.path.dirname(sys.executable), "pyosquery-profile")
METRICS = {"utilization", "cpu_time", "memory", "fds", "duration"}


def args(**given):
    return dict(given, pyosquery_profile=PROFILER, delay=0.1, interval=0.05)


def test_each_query_keeps_its_name_with_ranks_and_figures(run_module):
    failed, result = run_module(profile_info, args(queries={"procs": "SELECT pid FROM processes", "one": "SELECT 1"},
                                                   thresholds={"memory": [1, 2, 3]}))
    assert not failed and result["changed"] is False and set(result["profile"]) == {"procs", "one"}
    procs = result["profile"]["procs"]
    assert procs["sql"] == "SELECT pid FROM processes" and not procs["failed"] and procs["errors"] == []
    assert set(procs["scores"]) == set(procs["figures"]) == METRICS
    assert procs["figures"]["memory"] > 3 and procs["scores"]["memory"] == 3 == procs["worst"]   # our thresholds
    assert 0 < procs["figures"]["duration"] < 30 and procs["figures"]["fds"] >= 3


def test_a_failing_query_fails_the_task_naming_it_and_the_others_are_returned(run_module):
    failed, result = run_module(profile_info, args(queries={"bad": "SELECT nope FROM processes", "ok": "SELECT 1"}))
    assert failed and result["msg"] == "failed under the profiler: bad (Query failed (1): no such column: nope)"
    assert result["profile"]["bad"]["failed"] and set(result["profile"]["bad"]["figures"].values()) == {-1}
    assert not result["profile"]["ok"]["failed"]


def test_a_pack_on_the_host_under_its_scheduled_names(run_module, tmp_path):
    (tmp_path / "web.conf").write_text(json.dumps({"queries": {"a": {"query": "SELECT 1", "interval": 60}}}))
    failed, result = run_module(profile_info, args(pack="web", packs_dir=str(tmp_path)))
    assert not failed and list(result["profile"]) == ["pack_web_a"] and result["profile"]["pack_web_a"]["sql"] is None
    failed, result = run_module(profile_info, args(pack="nope", packs_dir=str(tmp_path)))
    assert failed and result["msg"] == "no pack file at %s" % (tmp_path / "nope.conf")


def test_no_profiler_on_the_host(run_module, tmp_path):
    failed, result = run_module(profile_info, dict(args(queries={"a": "SELECT 1"}),
                                                   pyosquery_profile=str(tmp_path / "none")))
    assert failed and result["msg"] == "%s is not there (is the agent installed?)" % (tmp_path / "none")
