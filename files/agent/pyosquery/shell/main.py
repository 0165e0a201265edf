"""`pyosqueryi`: osqueryi's shell. One-shot queries, piped SQL, or an interactive prompt.

It takes every osquery flag (command line and --flagfile) as osqueryi does; the shell's own flags
(--json, --csv, -L, -A ...) come from the same registry.
"""

import sys

from pyosquery import cli, flags
from pyosquery.shell import printer
from pyosquery.shell.session import Exit, Session

PROGRAM = "pyosqueryi"
USAGE = "[OPTION]... [SQL STATEMENT]"
# What osqueryi forces for itself, whatever the flags say (see `.features`)
SHELL_FORCED = {"disable_database": True, "disable_logging": True, "disable_watchdog": True}


def _mode(values):
    for mode in ("json_pretty", "json", "csv", "line", "list"):
        if values.get(mode):
            return mode
    return "pretty"


def _settings(values):
    return printer.Settings(mode=_mode(values), header=values.header, separator=values.separator,
                            nullvalue=values.nullvalue)


def run_text(session, text):
    """Run SQL and dot commands read from a file or a pipe, as osqueryi does off a TTY."""
    import apsw   # pylint: disable=import-outside-toplevel
    buffer, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not buffer.strip() and line.lstrip().startswith("."):
            session.command(line.strip())
            continue
        if not buffer.strip():
            start = number
        buffer += line + "\n"
        if apsw.complete(buffer):
            session.sql(buffer, where="Error: near line %d" % start)
            buffer = ""
    if buffer.strip():     # SQL left at EOF without a ';' still runs
        session.sql(buffer, where="Error: near line %d" % start)


def one_shot(session, values, sql):
    """Run the query the flags or arguments name; return True if there was one."""
    if values.L:
        session.command(".tables")
    elif values.A:
        session.command(".all " + values.A)
    elif values.advise:
        session.advise(values.advise)
    elif values.query_file:
        try:
            with open(values.query_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            session.err.write("Error reading query file '%s': %s\n" % (values.query_file, error.strerror))
            session.failed = True
            return True
        run_text(session, text)
    elif sql is not None:
        if sql.lstrip().startswith("."):
            session.command(sql.strip())
        else:
            session.sql(sql)
    else:
        return False
    return True


def engine_for(path, foreign=False):
    """A local engine (with --enable_foreign, other platforms' tables too), or with a socket path
    the daemon's, reached over its extension socket."""
    # pylint: disable=import-outside-toplevel  # thrift loads only when --connect asks for it
    if path:
        from pyosquery.extensions.client import RemoteEngine
        return RemoteEngine(path)
    from pyosquery.sql.engine import Engine
    return Engine(foreign=foreign)


def profile(values, sql):
    """--profile: the query comes from the arguments, else from stdin when it is not a TTY."""
    from pyosquery.shell.profiling import run_profile   # pylint: disable=import-outside-toplevel
    if sql is None and not sys.stdin.isatty():
        sql = sys.stdin.read()
    engine = engine_for(values.connect, values.enable_foreign)
    return run_profile(engine, sql, values.profile, values.profile_delay, sys.stderr)


def _warn(values):
    """Flags the shell takes but does not act on: one warning each on stderr, as osqueryi shows warnings."""
    warnings = values.no_effect_warnings()
    if warnings:
        from pyosquery.logger import status   # pylint: disable=import-outside-toplevel
        logger = status.setup(values, shell=True)
        for warning in warnings:
            logger.warning("%s", warning)


def load_config(values, engine, err):
    """With --config_path given, serve the config's auto_table_construction tables, as osqueryi does.
    A config that does not load is reported and the shell still runs."""
    # pylint: disable=import-outside-toplevel  # config loading costs only when asked for
    from pyosquery import config
    from pyosquery.config.atc import AutoTables
    try:
        loaded = config.load(values.config_path, values)
    except config.ConfigError as error:
        for problem in error.messages:
            err.write("Error reading config: %s\n" % problem)
        return
    AutoTables(engine).install(loaded.data, loaded.warnings)


def main(argv=None):
    try:
        values, positional = cli.start(sys.argv[1:] if argv is None else argv, PROGRAM, USAGE, shell=True,
                                       default_flagfile="")
    except SystemExit as done:
        return done.code
    for name, value in SHELL_FORCED.items():
        values.set(name, value)
    answered = cli.checks(values)
    if answered is not None:
        return answered
    _warn(values)
    sql = values.query or (" ".join(positional) if positional else None)
    if values.profile > 0:
        return profile(values, sql)
    session = Session(engine_for(values.connect, values.enable_foreign), _settings(values),
                      features=lambda: dict(flags.features(values)),
                      engines=lambda path: engine_for(path, values.enable_foreign))
    if not values.is_default("config_path") and not values.connect:
        load_config(values, session.engine, sys.stderr)
    try:
        if not one_shot(session, values, sql):
            if sys.stdin.isatty():
                from pyosquery.shell.repl import run_repl   # pylint: disable=import-outside-toplevel
                run_repl(session)
            else:
                run_text(session, sys.stdin.read())
    except Exit as done:
        return done.code
    return 1 if session.failed else 0


if __name__ == "__main__":
    sys.exit(main())
