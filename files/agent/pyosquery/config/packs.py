"""Packs and their scheduled queries, built from config objects with osquery's rules and names."""

import collections

from pyosquery.config.validate import json_path

MAX_INTERVAL = 604800       # one week: osquery rejects longer intervals
RESERVED_PREFIXES = ("query.", "cache.", "config_views.")
RESERVED_SUFFIXES = ("epoch", "counter")
MAIN = "main"

Query = collections.namedtuple(
    "Query", "name short_name pack sql interval snapshot removed denylist platform version shard "
             "startup_priority source")
Pack = collections.namedtuple("Pack", "name queries discovery platform version shard source")


def to_bool(value, default):
    """osquery's option booleans: JSON bools, numbers (non-zero is true), strings "true"/"t" (any case)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().lower() in ("true", "t")


def to_count(value):
    """A number or numeric string as int; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value) if not isinstance(value, str) else int(value.strip(), 10)
    except (TypeError, ValueError, OverflowError):
        return None


def is_reserved(name):
    """Names that would collide with the store's own keys (`query.<name>`, `<name>epoch`, ...)."""
    return name.startswith(RESERVED_PREFIXES) or name.endswith(RESERVED_SUFFIXES)


def full_name(pack, short_name, delimiter):
    """The scheduled name: plain in `main`, else pack<d><pack><d><query>."""
    if pack == MAIN:
        return short_name
    return "pack" + delimiter + pack + delimiter + short_name


def _text(value):
    return "" if value is None else str(value)


def _query(pack, short_name, body, source, values):
    """(Query, None), or (None, (the key at fault or None, osquery's warning)) when it is not scheduled."""
    name = full_name(pack, short_name, values.pack_delimiter)
    if is_reserved(name):
        return None, (None, "Query name is reserved and cannot be scheduled: %s" % name)
    raw_interval = body.get("interval")
    interval = values.schedule_default_interval if raw_interval is None else to_count(raw_interval)
    if interval is None or interval <= 0 or interval > MAX_INTERVAL:
        shown = interval if raw_interval is None else raw_interval
        return None, ("interval", "Query has invalid interval: %s: %s" % (name, shown))
    return Query(name=name, short_name=short_name, pack=pack, sql=body["query"], interval=interval,
                 snapshot=to_bool(body.get("snapshot"), False), removed=to_bool(body.get("removed"), True),
                 denylist=to_bool(body.get("denylist"), True), platform=_text(body.get("platform")),
                 version=_text(body.get("version")), shard=to_count(body.get("shard")),
                 startup_priority=to_count(body.get("startup_priority")), source=source), None


def build_pack(name, body, source, values, skipped, where=("queries",)):
    """A Pack from its (schema-valid) JSON object at JSON path `where` of file `source`;
    rejected queries add '<file>: <JSON path>: <osquery's warning>' to `skipped`."""
    queries = []
    for short_name, query_body in body.get("queries", {}).items():
        query, rejected = _query(name, short_name, query_body, source, values)
        if rejected:
            key, warning = rejected
            location = list(where) + [short_name] + ([key] if key else [])
            skipped.append("%s: %s: %s" % (source, json_path(location), warning))
        else:
            queries.append(query)
    return Pack(name=name, queries=tuple(queries), discovery=tuple(body.get("discovery", ())),
                platform=_text(body.get("platform")), version=_text(body.get("version")),
                shard=to_count(body.get("shard")), source=source)
