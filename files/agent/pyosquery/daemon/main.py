"""`pyosqueryd`: the daemon. osquery's flags and flagfile; --help, --version, --config_check, --config_dump.

One program, three roles, decided here: the watcher (the default: holds the pidfile, runs the
worker and polices it), the worker (the same program started by the watcher with PYOSQUERY_WORKER
set: runs the schedule and the socket), or both in one process with --disable_watchdog.
"""

import logging
import os
import signal
import sys
import time

from pyosquery import cli
from pyosquery.daemon.pidfile import Pidfile, PidfileBusy, read_pid
from pyosquery.logger import status
from pyosquery.watchdog import worker

PROGRAM = "pyosqueryd"
USAGE = "[OPTION]... "
FORCE_RETRIES = 5           # osquery retries the pidfile 5 times, 2 s apart, after --force kills
FORCE_RETRY_DELAY = 2.0
LOG = logging.getLogger("pyosquery.daemon")


def daemonize():
    """Detach like daemon(0, 0): new session, cwd /, standard streams on /dev/null."""
    if os.fork():
        os._exit(0)   # pylint: disable=protected-access
    os.setsid()
    if os.fork():
        os._exit(0)   # pylint: disable=protected-access
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def lower_priority():
    """Be a polite guest, as osqueryd is: nice 10 and the idle I/O class for the process group."""
    try:
        os.setpriority(os.PRIO_PGRP, 0, 10)
    except OSError:
        pass
    from pyosquery.daemon import ioprio   # pylint: disable=import-outside-toplevel
    ioprio.set_idle()


def worker_command(argv):
    """The worker is this same program: the console script when we run as one, else the module."""
    program = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(program).startswith(PROGRAM) and os.path.isfile(program):
        return [sys.executable, program] + list(argv)
    return [sys.executable, "-m", "pyosquery.daemon.main"] + list(argv)


def run_agent(values, parent_watch=False):
    """Run the schedule and the socket in this process until stopped."""
    from pyosquery.daemon.agent import Agent   # pylint: disable=import-outside-toplevel
    for warning in values.no_effect_warnings():     # here only: the watcher would say them twice
        LOG.warning("%s", warning)
    agent = Agent(values)
    agent.handle_signals()
    keeper = None
    if parent_watch:
        worker.watch_watcher(agent.stop)
    else:
        from pyosquery.watchdog import extensions   # pylint: disable=import-outside-toplevel
        keeper = extensions.keep_in_thread(values, agent.stop)
    LOG.info("%s started (pid %d)", PROGRAM, os.getpid())
    try:
        return agent.run()
    finally:
        agent.stop.set()
        if keeper is not None:
            keeper.join(max(values.alarm_timeout, 10))   # autoloaded extensions go with us


def run_worker(values):
    """The worker: no pidfile (the watcher holds it), no daemonizing (the watcher did)."""
    status.setup(values)
    LOG.info("osquery worker initialized [watcher=%d]", os.getppid())
    return run_agent(values, parent_watch=True)


def run_watcher(values, command):
    from pyosquery.watchdog.watcher import Watcher   # pylint: disable=import-outside-toplevel
    LOG.info("%s watcher started (pid %d)", PROGRAM, os.getpid())
    return Watcher(values, command).run()


def acquire(pidfile, force):
    """Take the pidfile; with --force, stop the pyosqueryd it names first and retry, as osqueryd."""
    try:
        pidfile.acquire()
        return
    except PidfileBusy:
        if not force:
            raise
    pid = read_pid(pidfile.path)
    if pid and pid != os.getpid() and _is_daemon(pid):
        LOG.warning("Killing the running %s (pid %d): --force", PROGRAM, pid)
        os.kill(pid, signal.SIGTERM)
    for _ in range(FORCE_RETRIES):
        time.sleep(FORCE_RETRY_DELAY)
        try:
            pidfile.acquire()
            return
        except PidfileBusy:
            pass
    raise PidfileBusy(pidfile.path)


def _is_daemon(pid):
    """Only a process whose command line names pyosqueryd may be killed by --force."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return PROGRAM.encode() in handle.read()
    except OSError:
        return False


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        values, _ = cli.start(argv, PROGRAM, USAGE)
    except SystemExit as done:
        return done.code
    answered = cli.checks(values)
    if answered is not None:
        return answered
    if worker.is_worker():
        return run_worker(values)
    command = worker_command(argv)     # before daemonize() changes the working directory
    if values.daemonize:
        daemonize()
    status.setup(values)
    pidfile = Pidfile(values.pidfile)
    if not values.ephemeral:    # osquery: --ephemeral skips the pidfile (and the database)
        try:
            acquire(pidfile, values.force)
        except PidfileBusy:
            sys.stderr.write("%s Pidfile check failed: Pidfile::Error::Busy\n" % PROGRAM)
            return 1
    # one daemon per database: a second one would log every result twice
    store_lock = None
    if not (values.disable_database or values.ephemeral):
        store_lock = Pidfile(values.database_path + ".lock", 0o750, private=True)
    try:
        if store_lock is not None:
            store_lock.acquire()
    except OSError as error:    # a read-only or missing directory: the store says what it does about it
        LOG.error("Cannot lock the database %s: %s", values.database_path, error.strerror or error)
        store_lock = None
    except PidfileBusy:
        message = "the database %s is in use by another %s (pid %s)" % (
            values.database_path, PROGRAM, read_pid(store_lock.path) or "unknown")
        LOG.error("%s", message)
        sys.stderr.write("%s: %s\n" % (PROGRAM, message))
        pidfile.release()
        return 1
    try:
        if values.watchdog_level >= 0 and not values.disable_watchdog:
            lower_priority()    # the whole process group: the worker and extensions inherit it
        if values.disable_watchdog:
            return run_agent(values)
        return run_watcher(values, command)
    finally:
        if store_lock is not None:
            store_lock.release()
        pidfile.release()


if __name__ == "__main__":
    sys.exit(main())
