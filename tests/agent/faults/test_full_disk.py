"""Issue 11, items 2 and 3: a full log disk stops no query and crashes nothing; it is reported once,
logging resumes when space returns, and every line of the results log is one whole JSON record."""

import json
import os

from daemon_harness import schedule, status_log, worker
from conftest import fill

# rows of 4 KB: each run's lines need new pages of the full filesystem, never the rest of a page
CONFIG = {"schedule": {"clock": {"query": "SELECT unix_time, printf('%.*c', 4096, 'x') AS pad FROM time",
                                 "interval": 1},
                       "snap": {"query": "SELECT 1 AS one", "interval": 1, "snapshot": True}}}


def records(daemon, name="pyosqueryd.results.log"):
    """Every line of a results log parsed: a torn line fails the test here."""
    return [json.loads(line) for line in daemon.log(name).splitlines()]


def executions(daemon):
    return int(schedule(daemon)["clock"]["executions"])


def test_a_full_log_disk_denylists_nothing_and_logging_resumes_whole(daemons, small_tmpfs):
    daemon = daemons(CONFIG)
    daemon.paths["logger_path"] = str(small_tmpfs)
    results_log = os.path.join(str(small_tmpfs), "pyosqueryd.results.log")
    daemon.start()
    first = worker(daemon)[0]
    daemon.wait_for(lambda: len(records(daemon)) >= 2, "results")
    filler = fill(small_tmpfs)
    ran = executions(daemon)
    daemon.wait_for(lambda: executions(daemon) >= ran + 3, "runs on the full disk")
    state = daemon.query("SELECT worker_pid, worker_restarts FROM osquery_watchdog")[0]
    assert state == {"worker_pid": str(first), "worker_restarts": "0"}
    assert not daemon.query("SELECT name FROM osquery_schedule WHERE denylisted = 1")
    before = records(daemon)
    filler.unlink()
    daemon.wait_for(lambda: "Writing results to %s again" % results_log in status_log(daemon),
                    "logging to resume")
    daemon.wait_for(lambda: len(records(daemon)) > len(before), "new results")
    after = records(daemon)
    assert after[:len(before)] == before
    # at least once: the first change logged after the outage is against the last row logged before it
    last_added = [r for r in before if r["name"] == "clock" and r["action"] == "added"][-1]
    resumed = [r for r in after[len(before):] if r["name"] == "clock"]
    assert resumed[0]["action"] == "removed" and resumed[0]["columns"] == last_added["columns"]
    assert resumed[0]["counter"] == last_added["counter"] + 1
    records(daemon, "pyosqueryd.snapshots.log")
    log = status_log(daemon)
    assert log.count("Cannot write results to %s: No space left on device" % results_log) == 1, log
    assert "No space left on device" in log and "Scheduled query may have failed" not in log


def test_a_partial_last_line_left_by_a_killed_writer_is_cut_before_the_next_record(daemons):
    daemon = daemons(CONFIG)
    log = daemon.paths["logger_path"]
    whole = '{"name":"clock","action":"added"}\n'
    os.makedirs(log)
    with open(os.path.join(log, "pyosqueryd.results.log"), "w", encoding="utf-8") as handle:
        handle.write(whole + '{"name":"clock","hostIdentifie')
    daemon.start()
    daemon.wait_for(lambda: len(daemon.log("pyosqueryd.results.log").splitlines()) >= 2, "results")
    assert daemon.log("pyosqueryd.results.log").startswith(whole)
    records(daemon)
    assert "ended in a partial line (30 bytes, left by an interrupted write): removed" in status_log(daemon)
