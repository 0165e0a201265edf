"""Which queries to profile: a config, a pack file, one SQL string, or every table, as osquery's tool picks them.

Names equal the daemon's scheduled names (`pack_<pack>_<query>`), so a report lines up with osquery_schedule.
"""

import collections
import os

from pyosquery.config import ConfigError, load, source, validate
from pyosquery.config.packs import build_pack
from pyosquery.config.shard import platform_applies
from pyosquery.flags import Values

MANUAL = "manual"


def _applies(item):
    # osquery's tool wants a pack query's platform to equal the host's exactly; the daemon's own rule is fairer
    return platform_applies(item.platform)


def _pack_queries(packs):
    return collections.OrderedDict((query.name, query.sql) for pack in packs if _applies(pack)
                                   for query in pack.queries if _applies(query))


def from_config(path):
    """{name: sql} of a config's schedule and packs (inline or by path, `<path>.d/*.conf` too)."""
    return _pack_queries(load(path, Values()).packs)


def from_pack(path):
    """{name: sql} of one pack file, named as if a config listed it under its file's stem."""
    data, _duplicates = source.parse(path, source.read_text(path))
    problems = validate.errors(path, data, "pack")
    if problems:
        raise ConfigError(*problems)
    name = os.path.splitext(os.path.basename(path))[0]
    return _pack_queries([build_pack(name, data, path, Values(), [])])


def from_tables(restrict=None):
    """{`<module>.<table>`: `SELECT * FROM <table>;`} for every table a bare SELECT can read.

    Utility tables (osquery_*) are left out as osquery's tool leaves out specs/utility; so are tables with a
    required column, which cannot be read without a WHERE.
    """
    from pyosquery.tables.spec import load_tables   # pylint: disable=import-outside-toplevel  # only this path
    wanted = set(restrict) if restrict else None
    queries = collections.OrderedDict()
    for name, table in load_tables().items():
        if "utility" in table.attributes or table.required or (wanted and name not in wanted):
            continue
        queries["%s.%s" % (table.module or "events", name)] = "SELECT * FROM %s;" % name
    return queries


def select(args):
    """The queries the arguments name, in osquery's order of precedence: config, pack, query, tables."""
    if args.config:
        return from_config(args.config)
    if args.pack:
        return from_pack(args.pack)
    if args.query:
        return collections.OrderedDict([(MANUAL, args.query)])
    return from_tables(args.restrict.split(",") if args.restrict else None)
