"""The audit publisher on the real kernel: execs and connects become rows, the socket is one per
kernel (a clear error naming the holder), and everything is given back, even after kill -9.

The publisher runs in this test process, which makes it the audit receiver: the kernel never
audits its receiver's own syscalls, so the audited programs run in child processes.
"""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

import audit_kernel
from pyosquery.events import PublisherError
from pyosquery.events.audit import publisher
from pyosquery.flags.values import Values

AGENT = os.path.join(os.path.dirname(__file__), "..", "..", "files", "agent")


@pytest.fixture()
def kernel():
    with audit_kernel.guarded() as snapshot:
        yield snapshot


def flags(**extra):
    values = Values()
    settings = {"disable_audit": False, "audit_allow_config": True, "audit_allow_sockets": True}
    settings.update(extra)
    for name, value in settings.items():
        values.set(name, value)
    return values


class Sink:
    """emit() into lists by table, as the hub would take them."""

    def __init__(self):
        self.rows = {"process_events": [], "socket_events": []}

    def __call__(self, table, rows):
        self.rows[table].extend(rows)

    def wait(self, table, match, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [row for row in self.rows[table] if match(row)]
            if found:
                return found
            time.sleep(0.05)
        return []


@pytest.fixture()
def running(kernel, tmp_path):
    """A started publisher with a list sink; stopped (socket given back) after the test."""
    sink = Sink()
    made = publisher.AuditPublisher(flags(), sink, state_path=str(tmp_path / "audit-state.json"))
    made.start()
    try:
        yield made, sink
    finally:
        made.stop()


def test_exec_of_a_known_binary_appears_with_pid_parent_uid_and_cmdline(running, tmp_path):
    made, sink = running
    program = tmp_path / "known-binary"
    shutil.copy("/bin/true", str(program))
    # "two words" holds a space: the kernel hex-encodes that argument, the row shows it decoded
    subprocess.run([str(program), "two words", "--flag=1"], cwd=str(tmp_path), check=True)
    found = sink.wait("process_events", lambda row: row["path"] == str(program))
    assert len(found) == 1, sink.rows["process_events"][-5:]
    row = found[0]
    assert row["cmdline"] == "%s two words --flag=1" % program
    assert row["parent"] == os.getpid()
    assert row["pid"] not in (0, os.getpid())
    assert (row["uid"], row["euid"], row["gid"]) == (os.getuid(), os.geteuid(), os.getgid())
    assert row["cwd"] == str(tmp_path)
    assert row["syscall"] == "execve"
    assert row["mode"] == "0100755" or row["mode"].endswith("755")
    assert abs(row["time"] - time.time()) < 30
    assert made.counts()["events"] >= 1 and made.counts()["active"] == 1


def test_tcp_connect_to_a_loopback_listener_appears_with_remote_address_and_port(running):
    _made, sink = running
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        child = subprocess.Popen([sys.executable, "-c",
                                  "import socket; socket.create_connection(('127.0.0.1', %d)).close()" % port])
        child.wait(10)
    finally:
        listener.close()
    found = sink.wait("socket_events", lambda row: row["pid"] == child.pid and row["action"] == "connect")
    assert len(found) == 1, sink.rows["socket_events"][-5:]
    row = found[0]
    assert (row["remote_address"], row["remote_port"], row["family"]) == ("127.0.0.1", port, 2)
    assert (row["status"], row["success"]) == ("succeeded", 1)
    assert row["path"] == os.path.realpath(sys.executable)
    assert int(row["fd"]) >= 3


HOLDER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, %r)
    from pyosquery.events.audit import netlink
    sock = netlink.AuditSocket()
    sock.set_status(pid=os.getpid())
    print("holding", flush=True)
    time.sleep(60)
""")


def test_another_holder_gives_a_clear_error_then_kill_9_frees_the_socket(kernel, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER % AGENT], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        theirs = tmp_path / "state.json"   # what a holder that is a pyosquery worker would have written
        theirs.write_text(json.dumps({"pid": holder.pid, "original": {}, "rules": []}))
        made = publisher.AuditPublisher(flags(), Sink(), state_path=str(theirs))
        with pytest.raises(PublisherError) as raised:
            made.start()
        message = str(raised.value)
        assert "held by pid %d (python" % holder.pid in message
        assert made.counts()["active"] == 0
        assert theirs.exists()  # the holder's record of what to give back stays
        assert kernel.sock.list_rules() == kernel.rules  # nothing configured on the way out
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the kernel still shows the dead holder's pid, but a new receiver may register
    made = publisher.AuditPublisher(flags(), Sink(), state_path=str(tmp_path / "state.json"))
    made.start()
    try:
        assert kernel.sock.status()["pid"] == os.getpid()
    finally:
        made.stop()
    assert kernel.sock.status()["pid"] == 0


def test_stop_frees_the_socket_removes_its_rules_and_restores_enabled(kernel, tmp_path):
    made = publisher.AuditPublisher(flags(), Sink(), state_path=str(tmp_path / "state.json"))
    made.start()
    during = kernel.sock.status()
    assert during["pid"] == os.getpid() and during["enabled"] == 1
    assert len(kernel.sock.list_rules()) > len(kernel.rules)
    made.stop()
    after = kernel.sock.status()
    assert after["pid"] == 0
    assert after["enabled"] == kernel.status["enabled"]
    assert kernel.sock.list_rules() == kernel.rules
    assert not os.path.exists(str(tmp_path / "state.json"))


def test_a_rule_that_was_already_there_stays_after_stop(kernel, tmp_path):
    made = publisher.AuditPublisher(flags(), Sink(), state_path=str(tmp_path / "state.json"))
    theirs = publisher.rules.wanted_rules(flags(audit_allow_sockets=False))[0]
    kernel.sock.add_rule(theirs.data, str(theirs))
    made.start()
    made.stop()
    assert theirs.data in kernel.sock.list_rules()
    kernel.sock.delete_rule(theirs.data, str(theirs))


WORKER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, %r)
    from pyosquery.flags.values import Values
    from pyosquery.events.audit.publisher import AuditPublisher
    values = Values()
    for name in ("audit_allow_config", "audit_allow_sockets"):
        values.set(name, True)
    values.set("disable_audit", False)
    AuditPublisher(values, lambda table, rows: None, state_path=%r).start()
    print("started", flush=True)
    time.sleep(60)
""")


def test_after_kill_9_the_next_worker_takes_the_socket_and_cleans_up_what_the_killed_one_left(
        kernel, tmp_path, caplog):
    state = str(tmp_path / "state.json")
    worker = subprocess.Popen([sys.executable, "-c", WORKER % (AGENT, state)], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "started"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert len(kernel.sock.list_rules()) > len(kernel.rules)  # the killed worker could not give them back
    caplog.set_level(logging.WARNING, logger="pyosquery.events")
    made = publisher.AuditPublisher(flags(), Sink(), state_path=state)
    made.start()
    made.stop()
    assert "adopting the audit rules and settings pid %d left behind" % worker.pid in caplog.text
    assert kernel.sock.list_rules() == kernel.rules
    assert kernel.sock.status()["enabled"] == kernel.status["enabled"]


def test_kernel_losses_are_counted_and_logged(kernel, tmp_path, caplog):
    """A backlog of 1 record cannot hold a burst of execs: the kernel counts what it dropped."""
    caplog.set_level(logging.WARNING, logger="pyosquery.events")
    made = publisher.AuditPublisher(flags(audit_backlog_limit=1), Sink(), state_path=str(tmp_path / "s.json"))
    made.start()
    try:
        subprocess.run(["sh", "-c", "for i in $(seq 300); do /bin/true; done"], check=True)
        deadline = time.monotonic() + 10
        while made.counts()["lost"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        made.stop()
    assert made.counts()["lost"] > 0
    assert "the kernel lost audit records (backlog_limit=1)" in caplog.text


def test_without_audit_allow_config_a_disabled_audit_is_reported_not_enabled(kernel, tmp_path):
    if kernel.status["enabled"] != 0:
        pytest.skip("audit is enabled on this kernel (enabled=%d)" % kernel.status["enabled"])
    made = publisher.AuditPublisher(flags(audit_allow_config=False), Sink(), state_path=str(tmp_path / "s.json"))
    with pytest.raises(PublisherError, match="audit_allow_config is false"):
        made.start()
    assert kernel.sock.status()["enabled"] == 0


def test_a_lost_receiver_registration_is_said_once_and_taken_back_with_audit_persist(running, kernel, caplog):
    """The kernel forgets its receiver (as when a send to it fails): the next status poll notices."""
    made, _sink = running
    caplog.set_level(logging.WARNING, logger="pyosquery.events")
    kernel.sock.set_status(pid=0)   # allowed: this process is the registered receiver
    deadline = time.monotonic() + 10
    while kernel.sock.status()["pid"] != os.getpid() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kernel.sock.status()["pid"] == os.getpid()
    assert caplog.text.count("lost the audit socket: the kernel shows no receiver (pid 0)") == 1
    assert made.counts()["active"] == 1
