"""A shell session: runs SQL and osqueryi's dot commands, prints results and errors."""

import os
import shlex
import sys
import threading
import time

import apsw

from pyosquery import __version__
from pyosquery.shell import printer

HELP = """Welcome to the pyosquery shell. Please explore your OS!
You are connected to a transient 'in-memory' virtual database.

.advise SQL      Say what SQL will cost on this host, and why (the plan advisor)
.all [TABLE]     Select all from a table
.connect PATH    Connect to an osquery extension socket
.disconnect      Disconnect from a connected extension socket
.exit            Exit this program
.features        List osquery's features and their statuses
.headers ON|OFF  Turn display of headers on or off
.help            Show this message
.mode MODE       Set output mode where MODE is one of:
                   csv      Comma-separated values
                   column   Left-aligned columns see .width
                   json     One JSON object per row
                   line     One value per line
                   list     Values delimited by .separator string
                   pretty   Pretty printed SQL results (default)
.nullvalue STR   Use STRING in place of NULL values
.print STR...    Print literal STRING
.quit            Exit this program
.schema [TABLE]  Show the CREATE statements
.separator STR   Change separator used by output mode
.show            Show the current values for various settings
.tables [TABLE]  List names of tables
.timer ON|OFF    Turn the CPU timer measurement on or off
.version         Show pyosquery version
.width [NUM1]+   Set column widths for "column" mode
"""


def error_text(error):
    """The message osqueryi shows: SQLite's own words, without apsw's class prefix."""
    text = str(error)
    if isinstance(error, apsw.Error) and ": " in text:
        prefix, _, rest = text.partition(": ")
        if prefix.endswith("Error") and " " not in prefix:
            text = rest
    return text


def interruptible(engine, action):
    """action() (a query and the printing of its rows), stopped by Ctrl-C.

    Python runs its SIGINT handler only in the main thread, between bytecodes, which a query busy
    inside SQLite never reaches; so a local query runs in a helper thread while the main thread
    waits, takes the KeyboardInterrupt and interrupts SQLite (sqlite3_interrupt is thread-safe).
    A daemon's engine (--connect) runs in the main thread, which Ctrl-C interrupts in its socket
    wait; the client then hangs up, and the daemon stops a query whose client hung up.
    """
    connection = getattr(engine, "connection", None)
    if connection is None:
        return action()
    outcome = {}

    def run():
        try:
            outcome["result"] = action()
        except Exception as error:   # pylint: disable=broad-except  # handed to the main thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="query", daemon=True)
    worker.start()
    try:
        worker.join()
    except KeyboardInterrupt:
        connection.interrupt()
        worker.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class Exit(SystemExit):
    """`.exit` / `.quit`: leave the shell with a code (a SystemExit, so apsw's loop lets it by)."""


class Session:
    """Runs statements against an engine (local or a connected daemon) and prints them."""

    def __init__(self, engine, settings=None, out=None, err=None, features=None, engines=None):
        # pylint: disable=too-many-arguments
        self.engine = engine
        # `.connect PATH` / `.disconnect`: engines(path) gives the daemon's (None: a local one)
        self.engines = engines
        self.timer = False
        self.settings = settings or printer.Settings()
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.features = features or dict     # called by `.features` only: keeps start-up lean
        self.failed = False

    def sql(self, text, where="Error", failure=None):
        """Run SQL and print its result; on failure print `<where>: message` (or `failure`). Ctrl-C stops it."""
        started, times = time.perf_counter(), os.times()
        try:
            interruptible(self.engine, lambda: self._print(text))
        except KeyboardInterrupt:
            self.err.write("%s: interrupted\n" % where)
            self.failed = True
            return False
        except Exception as error:   # pylint: disable=broad-except  # any failure is the user's to see
            self.err.write((failure or "%s: %s" % (where, error_text(error))) + "\n")
            self.failed = True
            return False
        if self.timer:
            after = os.times()
            self.out.write("Run Time: real %.3f user %f sys %f\n" % (
                time.perf_counter() - started, after.user - times.user, after.system - times.system))
        return True

    def _print(self, text):
        """Print each statement's result as its rows come."""
        for names, rows in self._results(text):
            printer.write(self.out, names, rows, self.settings)

    def _results(self, text):
        """Each statement's (names, rows): streamed from a local engine, whole from a connected daemon."""
        if hasattr(self.engine, "statements"):
            return self.engine.statements(text)
        return [self.engine.query(text)]

    def command(self, line):
        """Run one dot command line; unknown ones print osqueryi's error."""
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        name, args = words[0][1:], words[1:]
        handler = self._find(name)
        if handler is not None and getattr(handler, "takes_text", False):
            args = line.split(None, 1)[1:]      # SQL keeps its quotes: the rest of the line, unsplit
        if handler is None or handler(args) is False:
            self.err.write('Error: unknown command or invalid arguments:  "%s". Enter ".help" for help\n' % name)
            self.failed = True
            return False
        return True

    def _find(self, name):
        # any unambiguous prefix names a command, as in the sqlite shell
        names = sorted(n[4:] for n in dir(self) if n.startswith("cmd_"))
        if name in names:
            return getattr(self, "cmd_" + name)
        matches = [n for n in names if name and n.startswith(name)]
        return getattr(self, "cmd_" + matches[0]) if len(matches) == 1 else None

    def advise(self, sql):
        """Print the plan advisor's findings for `sql`: text, or JSON in the json modes."""
        # pylint: disable=import-outside-toplevel  # the advisor loads only when asked for
        from pyosquery.advisor import Advisor, render
        try:
            advice = Advisor(self._local_engine()).advise(sql)
        except Exception as error:   # pylint: disable=broad-except  # any failure is the user's to see
            self.err.write("Error: %s\n" % error_text(error))
            self.failed = True
            return
        self.out.write(render.as_json(advice) if self.settings.mode.startswith("json") else render.text(advice))

    def _local_engine(self):
        """The advisor reads plans from a local engine: the session's, or one of its own when connected."""
        if hasattr(self.engine, "plans"):
            return self.engine
        if getattr(self, "_advice_engine", None) is None:
            from pyosquery.sql.engine import Engine   # pylint: disable=import-outside-toplevel
            self._advice_engine = Engine()      # pylint: disable=attribute-defined-outside-init
        return self._advice_engine

    # dot commands: each returns False when its arguments are wrong

    def cmd_advise(self, args):
        if not args:
            return False
        self.advise(args[0])
        return True

    cmd_advise.takes_text = True

    def cmd_all(self, args):
        if len(args) != 1:
            return False
        self.sql("SELECT * FROM %s" % args[0], failure="Error querying table: %s" % args[0])
        return True

    def cmd_connect(self, args):
        if len(args) != 1 or self.engines is None:
            return False
        try:
            engine = self.engines(args[0])
            engine.query("SELECT 1")        # fail here, not at the next query, when nothing listens
        except Exception as error:   # pylint: disable=broad-except  # the user's to see
            self.err.write("Error: cannot connect to %s: %s\n" % (args[0], error_text(error)))
            self.failed = True
            return True
        self.engine = engine
        return True

    def cmd_disconnect(self, _args):
        if self.engines is None:
            return False
        self.engine = self.engines(None)
        return True

    def cmd_exit(self, args):
        raise Exit(int(args[0]) if args and args[0].lstrip("-").isdigit() else 0)

    cmd_quit = cmd_exit

    def cmd_features(self, _args):
        features = self.features()
        for name in sorted(features):
            self.out.write("%s: %s\n" % (name, "true" if features[name] else "false"))

    def cmd_headers(self, args):
        if len(args) != 1 or args[0].lower() not in ("on", "off", "1", "0", "yes", "no", "true", "false"):
            return False
        self.settings.header = args[0].lower() in ("on", "1", "yes", "true")
        return True

    cmd_header = cmd_headers

    def cmd_help(self, _args):
        self.err.write(HELP)

    def cmd_mode(self, args):
        if len(args) != 1 or args[0] not in printer.MODES:
            self.err.write("Error: mode should be one of: %s\n" % " ".join(printer.MODES))
            self.failed = True
            return True
        self.settings.mode = args[0]
        return True

    def cmd_nullvalue(self, args):
        if len(args) != 1:
            return False
        self.settings.nullvalue = args[0]
        return True

    def cmd_print(self, args):
        self.out.write(" ".join(args) + "\n")

    def cmd_schema(self, args):
        prefix = args[0] if args else ""
        for name in sorted(self.engine.tables):
            if name.startswith(prefix):
                self.out.write(self.engine.tables[name].create_sql() + "\n")

    def cmd_separator(self, args):
        if len(args) != 1:
            return False
        self.settings.separator = args[0]
        return True

    def cmd_show(self, _args):
        s = self.settings
        for key, value in (("headers", "on" if s.header else "off"), ("mode", s.mode),
                           ("nullvalue", '"%s"' % s.nullvalue), ("separator", '"%s"' % s.separator),
                           ("timer", "on" if self.timer else "off"), ("width", " ".join(map(str, s.widths)))):
            self.out.write("%12s: %s\n" % (key, value))

    def cmd_timer(self, args):
        if len(args) != 1 or args[0].lower() not in ("on", "off"):
            return False
        self.timer = args[0].lower() == "on"
        return True

    def cmd_width(self, args):
        if not all(arg.lstrip("-").isdigit() for arg in args):
            return False
        self.settings.widths = [int(arg) for arg in args]
        return True

    def cmd_tables(self, args):
        prefix = args[0] if args else ""
        for name in sorted(self.engine.tables):
            if name.startswith(prefix):
                self.out.write("  => %s\n" % name)

    cmd_list = cmd_tables

    def cmd_version(self, _args):
        self.out.write("pyosquery %s\nusing SQLite %s\n" % (__version__, apsw.sqlite_lib_version()))
