"""Start and stop the watcher's child processes (the worker and autoloaded extensions)."""

import logging
import os
import signal
import subprocess
import time

LOG = logging.getLogger("pyosquery.watchdog")
POLL_S = 0.2        # osquery polls a stopping child every 200 ms
KILL_WAIT_S = 2.0   # and gives a killed child 2 s to go


def spawn(argv, env_extra):
    """Start `argv` with our environment plus `env_extra`, default signal dispositions and no stdin.

    subprocess resets what Python changed (SIGPIPE ignored) and closes our descriptors
    (pidfile, status logs) in the child.
    """
    env = dict(os.environ)
    env.update(env_extra)
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)   # pylint: disable=consider-using-with


def exit_text(returncode):
    """How a child ended, in words, for the log and the osquery_watchdog table."""
    if returncode is None:
        return ""
    if returncode < 0:
        return "killed by signal %d" % -returncode
    return "exited with code %d" % returncode


def wait_gone(proc, seconds):
    """True once `proc` has exited, polling every 200 ms for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    return True


def stop(proc, grace_s, what):
    """SIGTERM, wait `grace_s`, then SIGKILL; False if even SIGKILL did not end it.

    `what` names the child in osquery's words, e.g. "osqueryd worker".
    """
    if proc.poll() is not None:
        return True
    _send(proc, signal.SIGTERM)
    if wait_gone(proc, grace_s):
        return True
    LOG.warning("%s (%d) could not be stopped. Sending kill signal.", what, proc.pid)
    _send(proc, signal.SIGKILL)
    return wait_gone(proc, KILL_WAIT_S)


def _send(proc, number):
    try:
        os.kill(proc.pid, number)
    except ProcessLookupError:
        pass        # it went on its own meanwhile; poll() reaps it
