"""`pyosqueryi`: osqueryi's shell. One-shot queries, piped SQL, or an interactive prompt."""

import argparse
import sys

from pyosquery import __version__
from pyosquery.shell import printer
from pyosquery.shell.session import Exit, Session

# What osqueryi forces for itself, whatever the flags say (see `.features`)
SHELL_FORCED = {"disable_database": True, "disable_logging": True, "disable_watchdog": True}


def shell_features():
    """`.features`: every disable_*/enable_* flag with the value it has in the shell."""
    from pyosquery import flags   # pylint: disable=import-outside-toplevel
    values = flags.Values()
    for name, value in SHELL_FORCED.items():
        values.set(name, value)
    return dict(flags.features(values))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="pyosqueryi", allow_abbrev=False,
                                     description="pyosquery shell: SQL over the system's live state.")
    modes = parser.add_mutually_exclusive_group()
    for mode in ("json", "json_pretty", "csv", "line", "list"):
        modes.add_argument("--" + mode, dest="mode", action="store_const", const=mode,
                           help="print results in %s mode" % mode)
    parser.add_argument("--header", default="true", metavar="BOOL",
                        help="print column names (default true)", nargs="?", const="true")
    parser.add_argument("--separator", default="|", help="separator for list mode (default '|')")
    parser.add_argument("--nullvalue", default="", help="text shown for NULL (default '')")
    parser.add_argument("--query", help="run this SQL and exit")
    parser.add_argument("--query_file", help="run the SQL in this file and exit")
    parser.add_argument("-L", dest="list_tables", action="store_true", help="list the tables and exit")
    parser.add_argument("-A", dest="all_table", metavar="TABLE", help="select all from TABLE and exit")
    parser.add_argument("--connect", metavar="SOCKET", help="run queries in the daemon listening on SOCKET")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="run the query N times, print nothing (for pyosquery-profile)")
    parser.add_argument("--profile_delay", type=float, default=0.0, metavar="SECONDS",
                        help="sleep this long before and after --profile runs (default 0)")
    parser.add_argument("--version", action="version", version="pyosqueryi %s" % __version__)
    parser.add_argument("sql", nargs="?", help="SQL (or a dot command) to run once")
    return parser.parse_args(argv)


def _settings(args):
    mode = args.mode or "pretty"
    header = str(args.header).lower() not in ("false", "0", "no", "off")
    return printer.Settings(mode=mode, header=header, separator=args.separator, nullvalue=args.nullvalue)


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


def one_shot(session, args):
    """Run the query the arguments name; return True if there was one."""
    if args.list_tables:
        session.command(".tables")
    elif args.all_table:
        session.command(".all " + args.all_table)
    elif args.query_file:
        try:
            with open(args.query_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            session.err.write("Error reading query file '%s': %s\n" % (args.query_file, error.strerror))
            session.failed = True
            return True
        run_text(session, text)
    elif args.query is not None or args.sql is not None:
        text = args.query if args.query is not None else args.sql
        if text.lstrip().startswith("."):
            session.command(text.strip())
        else:
            session.sql(text)
    else:
        return False
    return True


def _engine(args):
    """A local engine, or with --connect the daemon's, reached over its extension socket."""
    # pylint: disable=import-outside-toplevel  # thrift loads only when --connect asks for it
    if args.connect:
        from pyosquery.extensions.client import RemoteEngine
        return RemoteEngine(args.connect)
    from pyosquery.sql.engine import Engine
    return Engine()


def profile(args):
    """--profile: the query comes from the arguments, else from stdin when it is not a TTY."""
    from pyosquery.shell.profiling import run_profile   # pylint: disable=import-outside-toplevel
    sql = args.query if args.query is not None else args.sql
    if sql is None and not sys.stdin.isatty():
        sql = sys.stdin.read()
    return run_profile(_engine(args), sql, args.profile, args.profile_delay, sys.stderr)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.profile > 0:
        return profile(args)
    session = Session(_engine(args), _settings(args), features=shell_features)
    try:
        if not one_shot(session, args):
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
