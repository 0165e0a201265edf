"""process_events through a real pyosqueryd: the worker takes the audit socket, a scheduled query
logs an exec, and the socket, rules and settings are given back when the daemon stops."""

import os
import shutil
import signal
import subprocess
import sys

import pytest

import audit_kernel
from daemon_harness import status_log, wait_until, worker
from test_audit_publisher import AGENT, HOLDER

AUDIT_ON = ["--disable_events=false", "--disable_audit=false", "--audit_allow_config=true",
            "--audit_allow_sockets=true", "--schedule_splay_percent=0"]


@pytest.fixture()
def kernel():
    with audit_kernel.guarded() as snapshot:
        yield snapshot


def publisher_row(daemon):
    rows = daemon.query("SELECT name, active, events, lost FROM osquery_events WHERE name = 'auditeventpublisher'")
    return rows[0] if rows else {}


def logged(daemon):
    return [line["columns"] for line in daemon.results() if line["name"] == "execs"]


def test_a_scheduled_query_logs_an_exec_and_the_stopped_daemon_gives_the_socket_back(kernel, daemons, tmp_path):
    program = tmp_path / "e2e-binary"
    shutil.copy("/bin/true", str(program))
    query = "SELECT pid, parent, uid, cmdline FROM process_events WHERE path = '%s'" % program
    daemon = daemons({"schedule": {"execs": {"query": query, "interval": 1}}}, extra_flags=AUDIT_ON).start()
    first = worker(daemon)[0]
    wait_until(lambda: kernel.sock.status()["pid"] == first, "the worker holding the audit socket")
    child = subprocess.Popen([str(program), "e2e", "two words"])
    child.wait()
    wait_until(lambda: logged(daemon), "the exec logged by the scheduled query")
    expected = {"pid": str(child.pid), "parent": str(os.getpid()), "uid": str(os.getuid()),
                "cmdline": "%s e2e two words" % program}
    assert logged(daemon) == [expected]
    assert publisher_row(daemon)["active"] == "1"
    assert daemon.stop() == 0
    assert kernel.sock.status()["pid"] == 0
    assert kernel.sock.list_rules() == kernel.rules


def test_a_daemon_beside_another_holder_names_it_and_shows_the_publisher_inactive(kernel, daemons):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER % AGENT], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        daemon = daemons({"schedule": {}}, extra_flags=AUDIT_ON).start()
        wait_until(lambda: "held by pid %d (python" % holder.pid in status_log(daemon),
                   "the holder named in the status log")
        assert publisher_row(daemon)["active"] == "0"
        assert daemon.stop() == 0
        assert kernel.sock.status()["pid"] == holder.pid   # the daemon took nothing from it
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def test_a_worker_killed_with_9_is_replaced_by_one_that_takes_the_socket_and_cleans_up(kernel, daemons):
    """What the watchdog does to a worker over its limits: the next worker must get audit back."""
    daemon = daemons({"schedule": {}}, extra_flags=AUDIT_ON).start()
    first = worker(daemon)[0]
    wait_until(lambda: kernel.sock.status()["pid"] == first, "the first worker holding the audit socket")
    os.kill(first, signal.SIGKILL)
    second = worker(daemon, previous=first)[0]
    wait_until(lambda: kernel.sock.status()["pid"] == second, "the next worker holding the audit socket")
    wait_until(lambda: "left behind" in status_log(daemon), "the next worker adopting what the first left")
    assert daemon.stop() == 0
    assert kernel.sock.list_rules() == kernel.rules
    assert kernel.sock.status()["enabled"] == kernel.status["enabled"]
