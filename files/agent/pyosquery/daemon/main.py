"""`pyosqueryd`: the daemon. osquery's flags and flagfile; --config_check and --config_dump."""

import logging
import os
import sys

from pyosquery import __version__, flags
from pyosquery.daemon.pidfile import Pidfile, PidfileBusy
from pyosquery.logger import status

PROGRAM = "pyosqueryd"
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


def checks(values):
    """--config_check / --config_dump: answer and exit, as osqueryd does. None otherwise."""
    if values.config_check or values.config_dump:
        from pyosquery import config   # pylint: disable=import-outside-toplevel
        if values.config_dump:
            return config.run_config_dump(values, sys.stdout)
        from pyosquery.sql.engine import Engine   # pylint: disable=import-outside-toplevel
        return config.run_config_check(values, Engine(), sys.stdout, sys.stderr)
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--version" in argv:
        print("%s version %s" % (PROGRAM, __version__))
        return 0
    try:
        values, _ = flags.parse(argv, PROGRAM)
    except flags.FlagError as error:
        sys.stderr.write("%s: %s\n" % (PROGRAM, error))
        return 1
    answered = checks(values)
    if answered is not None:
        return answered
    if values.daemonize:
        daemonize()
    status.setup(values)
    pidfile = Pidfile(values.pidfile)
    try:
        pidfile.acquire()
    except PidfileBusy:
        sys.stderr.write("%s Pidfile check failed: Pidfile::Error::Busy\n" % PROGRAM)
        return 1
    try:
        if values.watchdog_level >= 0 and not values.disable_watchdog:
            lower_priority()
        from pyosquery.daemon.agent import Agent   # pylint: disable=import-outside-toplevel
        agent = Agent(values)
        agent.handle_signals()
        LOG.info("%s started (pid %d)", PROGRAM, os.getpid())
        return agent.run()
    finally:
        pidfile.release()


if __name__ == "__main__":
    sys.exit(main())
