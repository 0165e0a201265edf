"""The kernel's audit socket for tests: one test at a time on this machine, and always given back.

The socket, the rules and the `enabled` setting are kernel-global (every namespace host, every
worktree's test run): a test that leaves a holder or a rule behind breaks the others.
"""

import contextlib
import errno
import fcntl
import os
import time

import pytest

from pyosquery.events.audit import netlink

LOCK_PATH = "/run/lock/pyosquery-audit-tests.lock"


def open_or_skip():
    try:
        sock = netlink.AuditSocket()
        sock.status()
    except OSError as exc:
        if exc.errno in (errno.EPROTONOSUPPORT, errno.EPERM, errno.EACCES, errno.ECONNREFUSED):
            pytest.skip("no usable audit netlink socket here: %s" % exc)
        raise
    return sock


def holder_alive(pid):
    return pid != 0 and os.path.exists("/proc/%d" % pid)


@contextlib.contextmanager
def exclusive(timeout=120):
    """Hold the machine-wide test lock (other worktrees' test runs use the socket too)."""
    os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
    with open(LOCK_PATH, "w", encoding="ascii") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.skip("another test run holds %s for more than %d s" % (LOCK_PATH, timeout))
                time.sleep(0.2)
        yield


class Snapshot:
    """The kernel audit state before a test, checked and restored after it."""

    def __init__(self, sock):
        self.sock = sock
        status = sock.status()
        if holder_alive(status["pid"]):
            pytest.skip("the audit socket is held by pid %d (another program): not touching it"
                        % status["pid"])
        self.status = status
        self.rules = sock.list_rules()

    def leftovers(self):
        """What differs from before: a live holder, new rules, `enabled` changed."""
        now = self.sock.status()
        found = []
        if holder_alive(now["pid"]):
            found.append("audit holder pid %d still registered" % now["pid"])
        extra = [rule for rule in self.sock.list_rules() if rule not in self.rules]
        if extra:
            found.append("%d audit rules left behind" % len(extra))
        for name in ("enabled", "backlog_limit", "backlog_wait_time"):
            if now[name] != self.status[name]:
                found.append("%s is %d, was %d" % (name, now[name], self.status[name]))
        return found

    def restore(self):
        """The safety net: undo whatever is left (only this process may unregister itself)."""
        for rule in self.sock.list_rules():
            if rule not in self.rules:
                with contextlib.suppress(OSError):
                    self.sock.delete_rule(rule, "left by a test")
        with contextlib.suppress(OSError):
            self.sock.set_status(enabled=self.status["enabled"], backlog_limit=self.status["backlog_limit"],
                                 backlog_wait_time=self.status["backlog_wait_time"])
        if self.sock.status()["pid"] == os.getpid():
            with contextlib.suppress(OSError):
                self.sock.set_status(pid=0)


@contextlib.contextmanager
def guarded():
    """The audit socket to ourselves for one test; fails the test if it left anything behind."""
    with exclusive():
        sock = open_or_skip()
        try:
            snapshot = Snapshot(sock)
            try:
                yield snapshot
            finally:
                found = snapshot.leftovers()
                snapshot.restore()
            assert not found, "the test left audit state behind: %s" % "; ".join(found)
        finally:
            sock.close()
