# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's plan: its variables checked and turned into what each stage does. Pure.

plan(pack, stages, hosts, defaults) checks the role's variables (messages name the variable at
fault, e.g. `rollout_stages[2].shard`) and returns, per stage, the hosts it targets, the shard
each of them gets in its copy of the pack, the soak's limits and the gate's budget.

A host's shard never narrows: a host that an earlier stage gave the pack unsharded (or with a
wider shard) keeps that when a later stage with a narrower shard names it again. Since a host
runs a pack with shard S when its machine shard is at most S, every cohort contains the smaller
ones, and the agent alone decides, from its hostname, whether it is in.
"""

import re

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import DEFAULTS as GATE_DEFAULTS
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_store import query_name

PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
QUERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PACK_KEYS = ("name", "queries", "discovery", "platform", "version")
STAGE_KEYS = ("name", "hosts", "shard", "soak_min", "soak_timeout", "budget")
EVERY_HOST = 100  # the widest shard: a pack without a shard key


class PlanError(ValueError):
    """A rollout variable that cannot work; the message names it."""


def plan(pack, stages, hosts, defaults):
    """The checked plan. HOSTS: per stage, the play's hosts its pattern matches.

    DEFAULTS: soak_min, soak_timeout, poll_interval (s) and budget (gate settings) from the
    role's variables; a stage's own soak_min, soak_timeout and budget keys win over them.
    """
    pack = checked_pack(pack)
    intervals = {query_name(pack["name"], name): query["interval"] for name, query in pack["queries"].items()}
    if not isinstance(stages, list) or not stages:
        raise PlanError("rollout_stages: give a list of stages (each with name and hosts), got %r" % (stages,))
    if not isinstance(hosts, list) or len(hosts) != len(stages):
        raise PlanError("the hosts resolved for the stages do not match rollout_stages")
    poll = whole(defaults.get("poll_interval"), "rollout_poll_interval", unit=" of seconds")
    planned, widest, seen = [], {}, set()
    for index, stage in enumerate(stages):
        where = "rollout_stages[%d]" % index
        stage = checked_stage(stage, where, seen)
        if not hosts[index]:
            raise PlanError("%s.hosts: %r matches no host of this play" % (where, stage["hosts"]))
        budget = dict(checked_dict(defaults.get("budget"), "rollout_budget"),
                      **checked_dict(stage.get("budget"), where + ".budget"))
        min_executions = budget.get("min_executions", GATE_DEFAULTS["min_executions"])
        soak_min = whole(stage.get("soak_min", defaults.get("soak_min", 0)), where + ".soak_min", 0, " of seconds")
        timeout = whole(stage.get("soak_timeout", defaults.get("soak_timeout")), where + ".soak_timeout", 1,
                        " of seconds")
        needed = max(intervals.values()) * max(min_executions, 1)
        if timeout < needed + soak_min:
            raise PlanError("%s.soak_timeout: %d s is too short for %d runs of a query every %d s (at least %d s)"
                            % (where, timeout, min_executions, max(intervals.values()), needed + soak_min))
        shard = stage.get("shard") or EVERY_HOST
        for host in hosts[index]:
            widest[host] = max(widest.get(host, 0), shard)
        planned.append({
            "index": index, "name": stage["name"], "pattern": stage["hosts"], "hosts": list(hosts[index]),
            "shard": stage.get("shard"),
            "host_shard": {host: None if widest[host] == EVERY_HOST else widest[host] for host in hosts[index]},
            "soak_min": soak_min, "soak_timeout": timeout, "retries": -(-timeout // poll), "poll_interval": poll,
            "min_executions": min_executions, "budget": budget,
        })
    return {"pack": pack, "queries": intervals, "stages": planned}


def checked_pack(pack):
    if not isinstance(pack, dict):
        raise PlanError("rollout_pack: give a mapping with name and queries, got %r" % (pack,))
    name = pack.get("name")
    if not isinstance(name, str) or not PACK_NAME.match(name):
        raise PlanError("rollout_pack.name: %r is not a pack name (1-64 letters, digits, '_' or '-')" % (name,))
    queries = pack.get("queries")
    if not isinstance(queries, dict) or not queries:
        raise PlanError("rollout_pack.queries: give at least one query (name: {query, interval}), got %r"
                        % (queries,))
    for query, options in queries.items():
        where = "rollout_pack.queries.%s" % query
        if not QUERY_NAME.match(str(query)):
            raise PlanError("%s: not a query name (letters, digits, '_', '.' or '-')" % where)
        if not isinstance(options, dict) or not isinstance(options.get("query"), str) or not options["query"].strip():
            raise PlanError("%s.query: give the query's SQL" % where)
        whole(options.get("interval"), where + ".interval", unit=" of seconds")
    if "shard" in pack:
        raise PlanError("rollout_pack.shard: the stages set the pack's shard (rollout_stages[].shard)")
    unknown = sorted(set(pack) - set(PACK_KEYS))
    if unknown:
        raise PlanError("rollout_pack.%s: unknown key (known: %s)" % (unknown[0], ", ".join(PACK_KEYS)))
    return pack


def checked_stage(stage, where, seen):
    if not isinstance(stage, dict):
        raise PlanError("%s: give a mapping with name and hosts, got %r" % (where, stage))
    unknown = sorted(set(stage) - set(STAGE_KEYS))
    if unknown:
        raise PlanError("%s.%s: unknown key (known: %s)" % (where, unknown[0], ", ".join(STAGE_KEYS)))
    name = stage.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanError("%s.name: give the stage a name" % where)
    if name in seen:
        raise PlanError("%s.name: %r names an earlier stage too; stage names must be unique" % (where, name))
    seen.add(name)
    if not isinstance(stage.get("hosts"), str) or not stage["hosts"].strip():
        raise PlanError("%s.hosts: give an inventory group or pattern" % where)
    shard = stage.get("shard")
    if shard is not None and (isinstance(shard, bool) or not isinstance(shard, int) or not 1 <= shard <= 100):
        raise PlanError("%s.shard: give a whole percentage from 1 to 100 (or leave it out), got %r" % (where, shard))
    return stage


def checked_dict(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError("%s: give a mapping of gate settings, got %r" % (where, value))
    return value


def whole(value, where, minimum=1, unit=""):
    """VALUE, a whole number of at least MINIMUM; else a PlanError naming WHERE."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PlanError("%s: give a whole number%s of %d or more, got %r" % (where, unit, minimum, value))
    return value
