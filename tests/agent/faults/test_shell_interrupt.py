"""Issue 11, item 14: Ctrl-C stops a query running in `pyosqueryi`, one-shot or at the prompt."""

import os
import pty
import signal
import subprocess
import sys

from daemon_harness import wait_until, worker
from pyosquery.extensions.client import ExtensionClientConnection
from terminal import read_until

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
ENDLESS = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r;"
BUSY_MS = 300       # CPU the shell spends after the query started, before Ctrl-C: it is surely inside it


def cpu_ms(pid):
    with open("/proc/%d/stat" % pid, "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")


def threads(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as handle:
        return int(next(line for line in handle if line.startswith("Threads:")).split()[1])


def wait_busy(pid):
    """Until the shell runs the query (its helper thread exists) and has spent BUSY_MS of CPU since."""
    wait_until(lambda: threads(pid) >= 2, "the query to start", timeout=60)
    started = cpu_ms(pid)
    wait_until(lambda: cpu_ms(pid) > started + BUSY_MS, "the query to run", timeout=60)


def default_sigint():
    """Give the shell SIGINT's default disposition, as a terminal session has.

    A job started in the background by a non-interactive shell (as CI may start the suite)
    inherits SIGINT ignored, and Python then installs no handler: Ctrl-C would never arrive.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_a_one_shot_query():
    shell = subprocess.Popen([SHELL, ENDLESS], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=default_sigint)
    try:
        wait_busy(shell.pid)
        shell.send_signal(signal.SIGINT)
        _, err = shell.communicate(timeout=60)
    finally:
        shell.kill()
    assert shell.returncode == 1 and b"Error: interrupted" in err


def test_ctrl_c_at_the_prompt_stops_the_query_and_the_shell_goes_on():
    pid, fd = pty.fork()
    if pid == 0:   # the child becomes the shell on a terminal
        os.environ["HOME"] = "/tmp"
        default_sigint()
        os.execv(SHELL, [SHELL])
    try:
        assert "osquery> " in read_until(fd, b"osquery> ", timeout=60)
        os.write(fd, ENDLESS.encode() + b"\n")
        wait_busy(pid)
        os.write(fd, b"\x03")        # Ctrl-C: the terminal sends SIGINT to the shell
        assert "interrupted" in read_until(fd, b"osquery> ", timeout=60)
        os.write(fd, b"SELECT 6 * 7 AS answer;\n")
        assert "| 42     |" in read_until(fd, b"osquery> ", timeout=60)
        os.write(fd, b".exit\n")
        os.waitpid(pid, 0)
    finally:
        os.close(fd)


# a budget far longer than any wait below: only the client's hang-up can stop the query in time
PATIENT_WATCHDOG = ["--watchdog_delay=1", "--watchdog_latency_limit=600", "--watchdog_utilization_limit=100"]


def test_ctrl_c_in_a_connected_shell_hangs_up_and_the_daemon_stops_the_query(daemons):
    daemon = daemons({"schedule": {}}, extra_flags=PATIENT_WATCHDOG).start()
    first = worker(daemon)[0]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = "/tmp"
        default_sigint()
        os.execv(SHELL, [SHELL, "--connect", daemon.paths["extensions_socket"]])
    try:
        assert "osquery> " in read_until(fd, b"osquery> ", timeout=60)
        started = cpu_ms(first)
        os.write(fd, ENDLESS.encode() + b"\n")
        wait_until(lambda: cpu_ms(first) > started + BUSY_MS, "the daemon to run the query", timeout=60)
        os.write(fd, b"\x03")        # Ctrl-C: the shell stops waiting and hangs up
        assert "interrupted" in read_until(fd, b"osquery> ", timeout=60)
        os.write(fd, b"SELECT 6 * 7 AS answer;\n")      # the daemon stopped the endless query for it
        assert "| 42     |" in read_until(fd, b"osquery> ", timeout=60)
        os.write(fd, b".exit\n")
        os.waitpid(pid, 0)
    finally:
        os.close(fd)
    state = daemon.query("SELECT worker_pid, worker_restarts, last_denylisted_query FROM osquery_watchdog")[0]
    assert state == {"worker_pid": str(first), "worker_restarts": "0", "last_denylisted_query": ""}


def test_a_one_shot_connected_shell_stopped_by_ctrl_c_leaves_the_daemon_free(daemons):
    daemon = daemons({"schedule": {}}, extra_flags=PATIENT_WATCHDOG).start()
    first = worker(daemon)[0]
    started = cpu_ms(first)
    shell = subprocess.Popen([SHELL, "--connect", daemon.paths["extensions_socket"], ENDLESS],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_sigint)
    try:
        wait_until(lambda: cpu_ms(first) > started + BUSY_MS, "the daemon to run the query", timeout=60)
        shell.send_signal(signal.SIGINT)
        _, err = shell.communicate(timeout=60)
    finally:
        shell.kill()
    assert shell.returncode == 1 and b"Error: interrupted" in err
    # the engine is free again: a query that had to wait for the endless one would time out
    with ExtensionClientConnection(daemon.paths["extensions_socket"], timeout=60) as client:
        assert client.query("SELECT 6 * 7 AS answer") == (["answer"], [("42",)])
    assert daemon.query("SELECT worker_restarts FROM osquery_watchdog") == [{"worker_restarts": "0"}]
