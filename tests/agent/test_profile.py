"""pyosquery-profile: osquery's profile tool run against real pyosqueryi children, scored U C M F D."""

import json
import os
import subprocess
import sys

import pytest

from pyosquery.profile import main as profile_main
from pyosquery.profile import output, runner, scores, sources
from pyosquery.shell.profiling import NO_QUERY

SCRIPT = os.path.join(os.path.dirname(sys.executable), "pyosquery-profile")
SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
CHEAP = "SELECT 1"
# about 1.3 s of CPU in SQLite alone here (0.13 s per million rows): three times the 0.4 s WARN of
# cpu_time, where SELECT 1 (0.05 s) stays far under it. CPU time, not wall time: load cannot move it.
EXPENSIVE = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) "
             "SELECT count(*) FROM c")
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
# short delays and samples keep each child under a second; osquery's 1 s / 0.5 s would triple the suite's time
FAST = ["--delay", "0.2", "--interval", "0.1"]
# a cheap query's utilization is its interpreter start-up in one short sample, and its duration is wall
# time a busy machine stretches: noise that can cross a threshold. Ranked out of reach, they cannot regress.
STEADY = ["--utilization", "1000", "2000", "3000", "--duration", "1000", "2000", "3000"]


def profile(*args):
    # the timeout only catches a hang: at load 30 the 1.3 s of CPU of EXPENSIVE took over 60 s of wall time
    done = subprocess.run([SCRIPT] + FAST + list(args), capture_output=True, text=True, timeout=600, check=False)
    return done.returncode, done.stdout, done.stderr


def write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


# the library

def test_cheap_and_expensive_queries_score_differently():
    results = runner.profile_queries({"cheap": CHEAP, "expensive": EXPENSIVE},
                                     runner.Options(delay=0.2, interval=0.1))
    cheap, expensive = results["cheap"].scores, results["expensive"].scores
    assert list(cheap) == ["utilization", "cpu_time", "memory", "fds", "duration"]
    assert cheap["cpu_time"][0] == 0 and expensive["cpu_time"][0] >= 1
    assert expensive["cpu_time"][1] > cheap["cpu_time"][1] + 0.3
    assert expensive["duration"][1] > cheap["duration"][1] + 0.3
    assert 0 < cheap["memory"][1] and 0 < cheap["fds"][1] < 10
    assert results["expensive"].average["exit"] == 0 and not results["expensive"].errors


def test_rank_is_the_first_threshold_the_value_is_under():
    limits = scores.DEFAULT_THRESHOLDS["cpu_time"]
    assert [scores.rank(v, limits) for v in (0, 0.39, 0.4, 0.99, 1, 9.9, 10, 99)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert scores.DEFAULT_THRESHOLDS["memory"] == (8388608, 12582912, 25165824)


def test_a_failed_run_ranks_worst_with_minus_one_everywhere():
    scored = scores.score({"utilization": 1, "cpu_time": 0.1, "memory": 5, "fds": 3, "duration": 0.1, "exit": 1})
    assert all(value == [3, -1] for value in scored.values())


def test_thresholds_must_increase_strictly():
    assert scores.check_thresholds([1, 2, 3]) == (1, 2, 3)
    with pytest.raises(ValueError):
        scores.check_thresholds([1, 1, 3])


def test_output_line_format_and_colours():
    scored = {"utilization": [1, 9.5], "cpu_time": [0, 0.05], "fds": [3, 60]}
    assert output.line("q (1/2)", scored) == "U:1C:0F:3 q (1/2): utilization: 9.5 cpu_time: 0.05 fds: 60"
    assert output.line("q   avg", scored, ranks=False) == "q   avg: utilization: 9.5 cpu_time: 0.05 fds: 60"
    coloured = output.line("q", scored, colour=True)
    assert coloured.startswith(output.COLOURS[1] + "U:1" + output.RESET) and output.COLOURS[3] + "F:3" in coloured


# the command: --output, --check, --json

def test_output_then_check_same_then_check_a_regression(tmp_path):
    baseline = str(tmp_path / "baseline.json")
    code, stdout, _ = profile("--query", CHEAP, "--output", baseline, *STEADY)
    assert code == 0 and stdout.startswith("U:") and " manual (1/1): utilization: " in stdout
    with open(baseline, encoding="utf-8") as handle:
        written = json.load(handle)
    assert list(written) == ["manual"] and written["manual"]["cpu_time"][0] == 0
    code, stdout, _ = profile("--query", CHEAP, "--check", baseline, *STEADY)
    assert code == 0 and stdout.endswith("No regressions!\n")
    # the same name now runs a query that costs real CPU: a real regression
    code, stdout, _ = profile("--query", EXPENSIVE, "--check", baseline, *STEADY)
    assert code == 1 and "manual: cpu_time regressed from rank 0" in stdout and "No regressions!" not in stdout


def test_json_prints_only_parseable_json(tmp_path):
    code, stdout, stderr = profile("--query", CHEAP, "--rounds", "2", "--count", "3", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert list(report["manual"]) == ["utilization", "cpu_time", "memory", "fds", "duration"]
    assert all(len(pair) == 2 and 0 <= pair[0] <= 3 for pair in report["manual"].values())
    old = write(tmp_path / "old.json", {"manual": {"fds": [3, 99]}})
    code, stdout, stderr = profile("--query", CHEAP, "--json", "--check", old)
    assert code == 0 and json.loads(stdout) and "No regressions!" in stderr


def test_rounds_print_each_round_and_the_average():
    code, stdout, _ = profile("--query", CHEAP, "--rounds", "2", "-n")
    lines = stdout.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].startswith("manual (1/2): utilization: ") and lines[1].startswith("manual (2/2): ")
    assert lines[2].startswith("manual   avg: utilization: ")


def test_threshold_options_change_a_score():
    code, stdout, _ = profile("--query", CHEAP, "--json", "--memory", "1", "2", "3", "--fds", "100", "200", "300")
    scored = json.loads(stdout)["manual"]
    assert code == 0 and scored["memory"][0] == 3 and scored["fds"][0] == 0
    code, _stdout, stderr = profile("--query", CHEAP, "--fds", "3", "2", "1")
    assert code == 2 and "strictly increasing" in stderr


def test_failed_and_timed_out_queries_rank_worst():
    code, stdout, stderr = profile("--query", "SELECT * FROM no_such_table", "--json")
    assert code == 0 and all(v == [3, -1] for v in json.loads(stdout)["manual"].values())
    assert "Query failed (1): no such table: no_such_table" in stderr
    code, stdout, stderr = profile("--query", ENDLESS, "--timeout", "0.5", "--json")
    assert code == 0 and all(v == [3, -1] for v in json.loads(stdout)["manual"].values())
    assert "ended by signal 9" in stderr


def test_compare_two_outputs_without_profiling(tmp_path):
    old = write(tmp_path / "old.json", {"q": {"cpu_time": [0, 0.1]}, "gone": {"fds": [0, 3]}})
    new = write(tmp_path / "new.json", {"q": {"cpu_time": [2, 2.5]}, "added": {"fds": [3, 99]}})
    assert profile_main.main(["--compare", old, old]) == 0
    assert profile_main.main(["--compare", old, new]) == 1


# query sources

CONFIG = {
    "schedule": {"uptime": {"query": "SELECT total_seconds FROM uptime", "interval": 60}},
    "packs": {
        "inline": {"queries": {"one": {"query": CHEAP, "interval": 60},
                               "mac": {"query": "SELECT 2", "interval": 60, "platform": "darwin"}}},
        "onfile": "onfile.conf",
    },
}
PACK = {"platform": "posix", "queries": {"two": {"query": "SELECT 2", "interval": 10}}}


def test_config_selects_schedule_and_pack_queries_for_this_platform(tmp_path):
    write(tmp_path / "onfile.conf", PACK)
    config = write(tmp_path / "pyosquery.conf", CONFIG)
    assert dict(sources.from_config(config)) == {
        "uptime": "SELECT total_seconds FROM uptime", "pack_inline_one": CHEAP, "pack_onfile_two": "SELECT 2"}
    code, stdout, stderr = profile("--config", config, "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert list(report) == ["uptime", "pack_inline_one", "pack_onfile_two"]
    assert all(scored["cpu_time"][1] != -1 for scored in report.values())     # none failed


def test_pack_selects_its_queries(tmp_path):
    pack = write(tmp_path / "mine.conf", PACK)
    code, stdout, stderr = profile("--pack", pack, "-n")
    assert code == 0, stderr
    assert stdout.startswith("pack_mine_two (1/1): utilization: ")


def test_bad_config_is_reported_not_profiled(tmp_path):
    code, stdout, stderr = profile("--config", str(tmp_path / "missing.conf"))
    assert code == 1 and stdout == "" and "does not exist" in stderr


def test_default_is_every_table_restricted_by_name():
    queries = sources.from_tables(["uptime", "osquery_info", "file"])
    assert queries == {"system.uptime": "SELECT * FROM uptime;"}   # utility and required-column tables left out


# the shell's profile mode, which the children run

def test_shell_profile_mode_prints_nothing_and_reports_failures():
    def shell(*args):
        return subprocess.run([SHELL] + list(args), capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, check=False)
    done = shell("--profile", "2", CHEAP)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = shell("--profile", "1", "SELECT nope FROM uptime")
    assert done.returncode == 1 and done.stderr.startswith("Query failed (1): no such column: nope")
    done = shell("--profile", "1")
    assert done.returncode == 2 and done.stderr == NO_QUERY + "\n"


def test_plan_advice_shows_under_the_scores_and_stays_out_of_the_json():
    sql = "SELECT 1 FROM users a, users b, users c LIMIT 1"
    code, out, _err = profile("--query", sql, *STEADY)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("U:") and " manual (1/1): utilization: " in lines[0]
    assert lines[1] == "  advice: warning cross-join: users"
    assert any(line.startswith("    now:") and "row combinations now" in line for line in lines)
    code, out, _err = profile("--json", "--query", sql, *STEADY)
    assert code == 0 and list(json.loads(out)) == ["manual"]
