"""process_events and socket_events through a real pyosqueryd: the worker takes the audit socket,
scheduled queries log an exec and a connect, and the socket, rules and settings are given back
when the daemon stops."""

import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

import audit_kernel
from daemon_harness import status_log, wait_until, worker
from test_audit_publisher import AGENT, HOLDER

CONNECT = "import socket; socket.create_connection(('127.0.0.1', %d)).close()"
AUDIT_ON = ["--disable_events=false", "--disable_audit=false", "--audit_allow_config=true",
            "--audit_allow_sockets=true", "--schedule_splay_percent=0"]


@pytest.fixture()
def kernel():
    with audit_kernel.guarded() as snapshot:
        yield snapshot


def publisher_row(daemon):
    rows = daemon.query("SELECT name, active, events, lost FROM osquery_events WHERE name = 'auditeventpublisher'")
    return rows[0] if rows else {}


def logged(daemon, name):
    return [line["columns"] for line in daemon.results() if line["name"] == name]


def test_scheduled_queries_log_an_exec_and_a_connect_and_the_stopped_daemon_gives_the_socket_back(
        kernel, daemons, tmp_path):
    program = tmp_path / "e2e-binary"
    shutil.copy("/bin/true", str(program))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    schedule = {
        "execs": {"query": "SELECT pid, parent, uid, cmdline FROM process_events WHERE path = '%s'" % program,
                  "interval": 1},
        "conns": {"query": "SELECT pid, action, remote_address FROM socket_events WHERE remote_port = %d" % port,
                  "interval": 1},
    }
    daemon = daemons({"schedule": schedule}, extra_flags=AUDIT_ON).start()
    first = worker(daemon)[0]
    wait_until(lambda: kernel.sock.status()["pid"] == first, "the worker holding the audit socket")
    child = subprocess.Popen([str(program), "e2e", "two words"])
    child.wait()
    connector = subprocess.Popen([sys.executable, "-c", CONNECT % port])
    connector.wait()
    listener.close()
    wait_until(lambda: logged(daemon, "execs") and logged(daemon, "conns"), "the exec and the connect logged")
    expected = {"pid": str(child.pid), "parent": str(os.getpid()), "uid": str(os.getuid()),
                "cmdline": "%s e2e two words" % program}
    assert logged(daemon, "execs") == [expected]
    assert logged(daemon, "conns") == [{"pid": str(connector.pid), "action": "connect", "remote_address": "127.0.0.1"}]
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
