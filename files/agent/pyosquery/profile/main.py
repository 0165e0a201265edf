"""`pyosquery-profile`: osquery's tools/analysis/profile.py for pyosqueryi. Scores each query's cost U C M F D.

    pyosquery-profile --config /etc/pyosquery/pyosquery.conf --rounds 3 --output base.json
    pyosquery-profile --config new.conf --check base.json     # exit 1 when a query ranks worse
"""

import argparse
import collections
import json
import shlex
import sys

from pyosquery import __version__
from pyosquery.config import ConfigError
from pyosquery.profile import output, runner, scores, sources


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more: %s" % text)
    return value


def _parser():
    parser = argparse.ArgumentParser(prog="pyosquery-profile", allow_abbrev=False,
                                     description="Profile queries in fresh pyosqueryi processes and score their "
                                                 "cost: U(tilization) C(pu time) M(emory) F(ds) D(uration), "
                                                 "ranks 0 (best) to 3 (worst).")
    found = parser.add_argument_group("queries (the first given wins; default: SELECT * from every table)")
    found.add_argument("--config", metavar="FILE", help="the schedule and packs of this config")
    found.add_argument("--pack", metavar="FILE", help="the queries of this pack file")
    found.add_argument("--query", metavar="SQL", help="this one query, named 'manual'")
    found.add_argument("--restrict", metavar="T1,T2", help="with the default: only these tables")
    run = parser.add_argument_group("running")
    run.add_argument("--shell", metavar="COMMAND", help="the shell to run (default: pyosqueryi)")
    run.add_argument("--count", type=_positive, default=1, help="run each query N times in one process (1)")
    run.add_argument("--rounds", type=_positive, default=1, help="profile each query N times and average (1)")
    run.add_argument("--timeout", type=float, default=0, help="kill a query after N seconds (0: never)")
    run.add_argument("--delay", type=float, default=1.0, metavar="SECONDS",
                     help="the shell's sleep before and after the query (osquery's profile_delay, 1)")
    run.add_argument("--interval", type=float, default=0.5, metavar="SECONDS",
                     help="time between two samples of the child (0.5)")
    _threshold_options(parser)
    out = parser.add_argument_group("results")
    out.add_argument("--output", metavar="FILE", help="write {name: {metric: [rank, value]}} as JSON here")
    out.add_argument("--check", metavar="OLD", help="exit 1 if a query ranks worse than in this earlier output")
    out.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"),
                     help="check NEW output against OLD without profiling anything")
    out.add_argument("--json", action="store_true", help="print the results as JSON on stdout, nothing else")
    out.add_argument("-n", dest="ranks", action="store_false", help="leave the rank prefix out of the lines")
    out.add_argument("--verbose", action="store_true", help="print each query before it runs")
    parser.add_argument("--version", action="version", version="pyosquery-profile %s" % __version__)
    return parser


def _threshold_options(parser):
    group = parser.add_argument_group("thresholds (WARN ERR CRIT, strictly increasing)")
    for metric, defaults in scores.DEFAULT_THRESHOLDS.items():
        group.add_argument("--" + metric, nargs=3, type=float, metavar=("WARN", "ERR", "CRIT"),
                           help="default: %s" % " ".join(str(v) for v in defaults))


def thresholds(args, parser):
    result = collections.OrderedDict()
    for metric, defaults in scores.DEFAULT_THRESHOLDS.items():
        try:
            result[metric] = scores.check_thresholds(getattr(args, metric) or defaults)
        except ValueError as error:
            parser.error("--%s: %s" % (metric, error))
    return result


def read_report(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle, object_pairs_hook=collections.OrderedDict)


def check(old, new, stream):
    """Print each regression of `new` against `old`, or "No regressions!"; return the exit code."""
    found = scores.regressions(old, new)
    for name, metric, before, now in found:
        stream.write(output.regression_line(name, metric, before, now) + "\n")
    if found:
        return 1
    stream.write("No regressions!\n")
    return 0


class Printer:     # pylint: disable=too-few-public-methods  # holds the display settings for the callbacks
    """Writes the per-round and average lines, unless the output is JSON."""

    def __init__(self, args, rounds):
        self.quiet = args.json
        self.ranks = args.ranks
        self.colour = sys.stdout.isatty()
        self.rounds = rounds
        self.advisor = None

    def write(self, label, scored):
        if not self.quiet:
            print(output.line(label, scored, self.ranks, self.colour), flush=True)

    def advice(self, sql):
        """The plan advisor's findings for `sql`, under its scores (a query that does not prepare has none)."""
        if self.quiet:
            return
        # pylint: disable=import-outside-toplevel  # the engine loads in this process only for the text output
        from pyosquery.advisor import Advisor, render
        from pyosquery.sql.engine import Engine
        if self.advisor is None:
            self.advisor = Advisor(Engine())
        try:
            findings = self.advisor.advise(sql).findings
        except Exception:   # pylint: disable=broad-except  # the profiled run reports the query's error
            return
        for finding in findings:
            print("  advice: " + "\n".join(render.finding_lines(finding, indent="    ")), flush=True)

    def on_round(self, name, index, _measurement, scored):
        self.write(output.round_label(name, index, self.rounds), scored)


def profile(args, options, queries):
    """Profile each query, printing as it goes; return the report."""
    printer = Printer(args, options.rounds)
    results = collections.OrderedDict()
    for name, sql in queries.items():
        if args.verbose:
            sys.stderr.write("Analyzing query: %s\n" % sql)
        result = runner.profile_query(name, sql, options, printer.on_round)
        for text in result.errors:
            sys.stderr.write("%s: %s\n" % (name, text))
        if options.rounds > 1:
            printer.write(output.average_label(name), result.scores)
        printer.advice(sql)
        results[name] = result
    return runner.report(results)


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    limits = thresholds(args, parser)
    try:
        if args.compare:
            return check(read_report(args.compare[0]), read_report(args.compare[1]), sys.stdout)
        old = read_report(args.check) if args.check else None
        queries = sources.select(args)
    except (OSError, ValueError, ConfigError) as error:   # json's errors are ValueErrors
        sys.stderr.write("pyosquery-profile: %s\n" % error)
        return 1
    if not queries:
        sys.stderr.write("pyosquery-profile: no queries to profile\n")
        return 1
    options = runner.Options(shlex.split(args.shell) if args.shell else None, args.count, args.rounds,
                             args.timeout, args.delay, args.interval, limits)
    report = profile(args, options, queries)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(runner.report_json(report))
    if args.json:
        sys.stdout.write(runner.report_json(report))
    return check(old, report, sys.stderr if args.json else sys.stdout) if old is not None else 0


if __name__ == "__main__":
    sys.exit(main())
