"""`--config_check` and `--config_dump`: validate a config before it is deployed, or show what is read."""

import json

from pyosquery.config import loader, shard, source
from pyosquery.config.atc import AutoTables
from pyosquery.config.source import ConfigError


def _prepare(engine, sql, where):
    """An error line if `sql` does not prepare (unknown table or column, syntax), else None."""
    try:
        engine.columns(sql)
    except Exception as error:      # pylint: disable=broad-except  # any engine failure is the query's fault
        return "%s: %s" % (where, error)
    return None


def _applies(item):
    return shard.platform_applies(item.platform) and shard.version_applies(item.version)


def _packs(config):
    return [pack for pack in config.packs if _applies(pack)]


def _queries(pack):
    return [query for query in pack.queries if _applies(query)]


def _statements(config):
    """(sql, '<file>: <what>') for every query the agent would prepare on Linux.

    Packs and queries for another platform or a newer osquery are skipped, as the scheduler skips them,
    so shared packs with macOS or Windows tables still pass. Shard does not matter here.
    """
    for pack in _packs(config):
        for number, sql in enumerate(pack.discovery, start=1):
            yield sql, "%s: discovery query %d of pack %s" % (pack.source, number, pack.name)
        for query in _queries(pack):
            yield query.sql, "%s: query %s" % (query.source, query.name)
    for number, decorator in enumerate(config.decorators, start=1):
        yield decorator.sql, "%s: decorator %d (%s)" % (decorator.source, number, decorator.when)


def check(config, engine):
    """Prepare every scheduled, discovery and decorator query; return the error lines (empty when all prepare)."""
    errors = (_prepare(engine, sql, where) for sql, where in _statements(config))
    return [error for error in errors if error]


def advise(config, engine, err, strict=False):
    """Print the plan advisor's warning and blocking findings for every scheduled query to `err`;
    return them as error lines when `strict` and they block (else they stay warnings)."""
    from pyosquery.advisor import Advisor, render   # pylint: disable=import-outside-toplevel  # only here
    advisor, problems = Advisor(engine), []
    for query in (query for pack in _packs(config) for query in _queries(pack)):
        try:
            advice = advisor.advise(query.sql, interval=query.interval, snapshot=query.snapshot)
        except Exception:   # pylint: disable=broad-except  # a query that does not prepare is reported by check()
            continue
        for finding in advice.findings:
            if finding.severity == "info":
                continue
            line = "%s: query %s: %s" % (query.source, query.name, render.finding_line(finding))
            if strict and finding.severity == "blocking":
                problems.append(line)
            else:
                err.write("Warning: %s\n" % line)
    return problems


def run_config_check(values, engine, out, err, what="config"):
    """`--config_check`: 0 and nothing on `out` for a good config; else `Error reading <what>: ...` lines, 1.

    Warnings (unknown keys or options, duplicate keys) go to `err` too, and do not fail the check.
    """
    del out     # a good config prints nothing, as osquery
    try:
        config = loader.load(values.config_path, values)
    except ConfigError as error:
        problems = error.messages
    else:
        AutoTables(engine).install(config.data, config.warnings)    # queries may read ATC tables
        # the daemon would skip a query with a bad interval or a reserved name: not a config to deploy
        problems = config.skipped + check(config, engine)
        for warning in config.warnings:
            err.write("Warning: %s\n" % warning)
        problems += advise(config, engine, err, values.config_check_strict)
    for problem in problems:
        err.write("Error reading %s: %s\n" % (what, problem))
    return 1 if problems else 0


def run_config_dump(values, out, err=None):
    """`--config_dump`: print `{"<source>": <raw content>}` for each config file, unvalidated; 0, or 1 if unreadable."""
    try:
        contents = [(path, source.read_text(path)) for path in loader.source_paths(values.config_path)]
    except ConfigError as error:
        if err is not None:
            for problem in error.messages:
                err.write("Error reading config: %s\n" % problem)
        return 1
    for path, text in contents:
        out.write("{%s: %s}\n" % (json.dumps(path), text))
    return 0
