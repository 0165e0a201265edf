"""osquery's logger flags on the real daemon and shell: logger_numerics, decorations_top_level,
logger_min_status, logger_min_stderr, and flags without effect warned about once per process."""

import json
import os
import re
import signal
import subprocess
import sys

from daemon_harness import status_log

GLOG_LINE = re.compile(r"^([IWEF])\d{4} ")
SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")


def severities(text):
    return {match.group(1) for match in map(GLOG_LINE.match, text.splitlines()) if match}


def test_numerics_and_top_level_decorations_in_the_results_logs(daemons):
    config = {"decorators": {"load": ["SELECT 'rack-7' AS rack"]},
              "schedule": {"typed": {"query": "SELECT 7 AS seven, 2.5 AS half, 'x' AS text, NULL AS empty",
                                     "interval": 1},
                           "snap": {"query": "SELECT 3 AS three", "interval": 1, "snapshot": True}}}
    daemon = daemons(config, extra_flags=["--disable_watchdog", "--logger_numerics",
                                          "--decorations_top_level"]).start()
    daemon.wait_for(daemon.results, "the first result")
    daemon.wait_for(lambda: daemon.log("pyosqueryd.snapshots.log"), "a snapshot")
    line = daemon.results()[0]
    assert line["columns"] == {"seven": 7, "half": 2.5, "text": "x", "empty": ""}
    assert line["numerics"] is True and line["rack"] == "rack-7" and "decorations" not in line
    assert list(line)[-4:] == ["numerics", "rack", "columns", "action"]     # where the object would be
    snapshot = json.loads(daemon.log("pyosqueryd.snapshots.log").splitlines()[0])
    assert snapshot["snapshot"] == [{"three": 3}] and snapshot["rack"] == "rack-7"


def test_min_status_and_min_stderr_filter_the_status_log_and_stderr(daemons):
    config = {"options": {"no_such_option": 1},                                      # a warning
              "schedule": {"broken": {"query": "SELECT * FROM no_such_table", "interval": 1}}}   # an error
    daemon = daemons(config, extra_flags=["--disable_watchdog", "--logger_min_status=1", "--logger_stderr",
                                          "--logger_min_stderr=2"]).start()
    daemon.wait_for(lambda: "no_such_table" in daemon.log("pyosqueryd.ERROR"), "the query's error")
    daemon.stop()
    logged = status_log(daemon)
    assert "Cannot set unknown or invalid flag: no_such_option" in logged
    assert severities(logged) == {"W", "E"}             # no INFO line at all
    stderr = daemon.proc.stderr.read().decode()
    assert "no_such_table" in stderr and severities(stderr) == {"E"}


def test_the_shell_shows_warnings_unless_min_status_is_raised():
    shown = subprocess.run([SHELL, "--distributed_interval=1", "select 1"], capture_output=True, text=True, check=True)
    assert "Flag --distributed_interval is accepted" in shown.stderr
    quiet = subprocess.run([SHELL, "--distributed_interval=1", "--logger_min_status=2", "select 1"],
                           capture_output=True, text=True, check=True)
    assert quiet.stderr == "" and "| 1 |" in quiet.stdout


def test_a_config_flag_without_effect_warns_once_per_process_across_reloads(daemons):
    config = {"options": {"distributed_interval": 10}, "schedule": {"q": {"query": "SELECT 1 AS a", "interval": 1}}}
    daemon = daemons(config, extra_flags=["--disable_watchdog"]).start()
    for loads in (1, 2, 3):
        daemon.wait_for(lambda n=loads: status_log(daemon).count("Config loaded") >= n, "config load %d" % loads)
        if loads < 3:
            daemon.signal(signal.SIGHUP)
    logged = status_log(daemon)
    assert logged.count("Flag --distributed_interval is accepted for osquery compatibility but has no effect") == 1
    assert "%s: $.options: Flag --distributed_interval" % daemon.paths["config_path"] in logged
