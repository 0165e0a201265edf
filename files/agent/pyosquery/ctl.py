"""`pyosqueryctl`: start, stop, restart, reload, status and config-check where systemd does not run.

It takes every pyosqueryd flag (the command line, --flagfile) and reads the same flagfile as the
daemon, so it finds the daemon's pidfile; status and reload exit as an LSB init script does
(0 running, 3 not running).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from pyosquery import cli, flags
from pyosquery.daemon.pidfile import live_pid

DAEMON = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0] or sys.executable)), "pyosqueryd")
NOT_RUNNING = 3
STOP_TIMEOUT = 20.0


def running_pid(pidfile):
    """The daemon's pid while a live pyosqueryd holds its pidfile, else None (a stale pidfile names anyone)."""
    return live_pid(pidfile)


def daemon_command(args):
    """pyosqueryd with the same flags (the flagfile among them) as this command got."""
    return [DAEMON if os.path.exists(DAEMON) else "pyosqueryd"] + args.flags


def start(args, pidfile):
    pid = running_pid(pidfile)
    if pid:
        print("pyosqueryd is already running (pid %d)" % pid)
        return 0
    result = subprocess.run(daemon_command(args) + ["--daemonize"], check=False)
    if result.returncode != 0:
        return result.returncode
    deadline = time.time() + 10
    while time.time() < deadline:
        pid = running_pid(pidfile)
        if pid:
            print("pyosqueryd started (pid %d)" % pid)
            return 0
        time.sleep(0.1)
    sys.stderr.write("pyosqueryd did not start: no live pid in %s (see its status log)\n" % pidfile)
    return 1


def stop(_args, pidfile):
    pid = running_pid(pidfile)
    if not pid:
        print("pyosqueryd is not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + STOP_TIMEOUT
    while time.time() < deadline:
        if running_pid(pidfile) != pid:
            print("pyosqueryd stopped")
            return 0
        time.sleep(0.1)
    if running_pid(pidfile) == pid:     # still our daemon, not a process that took its pid since
        os.kill(pid, signal.SIGKILL)
    print("pyosqueryd killed after %d s" % STOP_TIMEOUT)
    return 0


def restart(args, pidfile):
    stop(args, pidfile)
    return start(args, pidfile)


def reload(_args, pidfile):
    """SIGHUP, as `systemctl reload`: the watcher passes it to its worker, which rereads the config."""
    pid = running_pid(pidfile)
    if not pid:
        sys.stderr.write("pyosqueryd is not running: nothing to reload\n")
        return NOT_RUNNING
    os.kill(pid, signal.SIGHUP)
    print("pyosqueryd reloading (pid %d)" % pid)
    return 0


def status(_args, pidfile):
    pid = running_pid(pidfile)
    if pid:
        print("pyosqueryd is running (pid %d)" % pid)
        return 0
    print("pyosqueryd is not running")
    return NOT_RUNNING


def config_check(args, _pidfile):
    return subprocess.run(daemon_command(args) + ["--config_check"], check=False).returncode


def pack_check(flagfile, argv):
    """`pack-check --name NAME FILE`: check one pack file as the daemon would load it under NAME.

    The pack goes through --config_check inside a config of its own (schema, then every query
    prepared, platform and version rules applied), so errors name the file, the pack and the query.
    The daemon's flagfile applies when it exists (a first deployment checks packs before it).
    """
    parser = argparse.ArgumentParser(prog="pyosqueryctl pack-check", description="Check one pack file.")
    parser.add_argument("--name", required=True, help="the pack's name (a globbed pack is named after its file's stem)")
    parser.add_argument("file", help="the pack file")
    args, extra = parser.parse_known_args(argv)
    from pyosquery import config   # pylint: disable=import-outside-toplevel
    from pyosquery.sql.engine import Engine   # pylint: disable=import-outside-toplevel
    try:
        values, _ = flags.parse((["--flagfile=%s" % flagfile] if os.path.exists(flagfile) else []) + extra,
                                "pyosqueryd", default_flagfile=None)
    except flags.FlagError as error:
        sys.stderr.write("pyosqueryctl: %s\n" % error)
        return 1
    with tempfile.TemporaryDirectory(prefix="pyosquery-pack-check-") as work:
        wrapper = os.path.join(work, "pack-check.conf")
        with open(wrapper, "w", encoding="utf-8") as handle:
            json.dump({"packs": {args.name: os.path.abspath(args.file)}}, handle)
        values.set("config_path", wrapper)
        return config.run_config_check(values, Engine(foreign=values.enable_foreign), sys.stdout, sys.stderr,
                                       "pack %s" % args.name)


ACTIONS = {"start": start, "stop": stop, "restart": restart, "reload": reload, "status": status,
           "config-check": config_check}


USAGE = "[OPTION]... ACTION [OPTION]...   (ACTION: %s; OPTION: any pyosqueryd flag)"


def split_action(argv):
    """(flag arguments, action, operands): the action is the first argument that is not a flag or its value."""
    flag_args, bare, index = [], [], 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if not token.startswith("-") or token == "-":
            bare.append(token)
            continue
        flag_args.append(token)
        flag = flags.lookup(token.lstrip("-").partition("=")[0])
        if "=" not in token and flag is not None and flag.type != "bool" and index < len(argv):
            flag_args.append(argv[index])     # `--name value`
            index += 1
    return flag_args, (bare[0] if bare else None), bare[1:]


def _take_flagfile(argv):
    """(the --flagfile given, else the default; the other arguments)."""
    flagfile, rest, index = flags.DEFAULT_FLAGFILE, [], 0
    while index < len(argv):
        name, equals, value = argv[index].lstrip("-").partition("=")
        if name == "flagfile" and argv[index].startswith("-"):
            if not equals and index + 1 < len(argv):
                index += 1
                value = argv[index]
            flagfile = value
        else:
            rest.append(argv[index])
        index += 1
    return flagfile, rest


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    flag_args, action, operands = split_action(argv)
    usage = USAGE % ", ".join(sorted(list(ACTIONS) + ["pack-check"]))
    if action == "pack-check":
        # it has an option of its own (--name) and works before the flagfile exists: it parses itself
        index = argv.index(action)
        flagfile, before = _take_flagfile(argv[:index])
        return pack_check(flagfile, before + argv[index + 1:])
    try:
        values, _ = cli.start(flag_args, "pyosqueryctl", usage)
    except SystemExit as done:
        return done.code
    if action not in ACTIONS:
        sys.stderr.write("pyosqueryctl: %s\nUsage: pyosqueryctl %s\n" % (
            "unknown action %r" % action if action else "no action given", usage))
        return 2
    args = argparse.Namespace(flagfile=values.flagfile, flags=flag_args, operands=operands, values=values)
    return ACTIONS[action](args, values.pidfile)


if __name__ == "__main__":
    sys.exit(main())
