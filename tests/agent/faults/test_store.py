"""Issue 11, item 4: a corrupt, read-only or full database never ends the daemon. It says so with the
path, a corrupt database is moved aside and a new one started, and queries and the socket go on."""

import glob
import os

from daemon_harness import schedule, status_log, worker
from conftest import fill, remount_read_only

CONFIG = {"schedule": {"clock": {"query": "SELECT unix_time, printf('%.*c', 4096, 'x') AS pad FROM time",
                                 "interval": 1}}}


def executions(daemon):
    return int(schedule(daemon)["clock"]["executions"])


def runs_on(daemon):
    """The worker answers and keeps running the schedule; its pid."""
    pid = worker(daemon)[0]
    ran = executions(daemon)
    daemon.wait_for(lambda: executions(daemon) >= ran + 2, "the schedule to run")
    return pid


def test_a_corrupt_database_is_moved_aside_and_a_new_one_started(daemons):
    daemon = daemons(CONFIG)
    path = daemon.paths["database_path"]
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(b"this is not a database, " * 400)
    daemon.start()
    first = runs_on(daemon)
    aside = glob.glob(path + ".corrupt.*")
    assert len(aside) == 1
    with open(aside[0], "rb") as handle:
        assert handle.read(24) == b"this is not a database, "
    assert "The database %s is corrupt (file is not a database): moved to %s, starting a new one" % (
        path, aside[0]) in status_log(daemon)
    assert daemon.query("SELECT worker_restarts FROM osquery_watchdog")[0]["worker_restarts"] == "0"
    assert worker(daemon)[0] == first


def test_a_read_only_database_directory_leaves_an_in_memory_store(daemons, tmpfs):
    mount = tmpfs()
    remount_read_only(mount)
    daemon = daemons(CONFIG)
    daemon.paths["database_path"] = str(mount / "db" / "pyosquery.db")
    daemon.start()
    runs_on(daemon)
    assert "Cannot open the database %s: Read-only file system; running on an in-memory store" % (
        daemon.paths["database_path"]) in status_log(daemon)
    assert daemon.query("SELECT worker_restarts FROM osquery_watchdog")[0]["worker_restarts"] == "0"


def test_a_full_database_disk_is_reported_once_and_writing_resumes(daemons, tmpfs):
    mount = tmpfs("8m")
    daemon = daemons(CONFIG)
    daemon.paths["database_path"] = str(mount / "pyosquery.db")
    daemon.start()
    first = runs_on(daemon)
    filler = fill(mount)
    ran = executions(daemon)
    daemon.wait_for(lambda: executions(daemon) >= ran + 3, "runs on the full disk")
    daemon.wait_for(lambda: "Cannot write the database" in status_log(daemon), "the report")
    filler.unlink()
    daemon.wait_for(lambda: "Writing the database %s again" % daemon.paths["database_path"] in status_log(daemon),
                    "writing to resume")
    log = status_log(daemon)
    assert log.count("Cannot write the database %s: database or disk is full" % daemon.paths["database_path"]) == 1, log
    assert worker(daemon)[0] == first and not daemon.query("SELECT name FROM osquery_schedule WHERE denylisted = 1")
