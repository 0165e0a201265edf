# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What happened between two schedule_info results of one host: pure, no I/O.

The agent keeps osquery_schedule's counters in its store, so they survive a restart and only
start again when a query's SQL changes or the store is new. A delta is therefore the
difference of two counters when both belong to the same SQL in the same store; otherwise the
query is `reset` and carries no figures. No delta is ever negative.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule import cpu_ms, per_execution

OK, NEW, RESET, REMOVED = "ok", "new", "reset", "removed"
REQUIRED_KEYS = ("collected_at", "hostname", "agent", "queries")


class BaselineError(ValueError):
    """`since` is not an earlier schedule_info result of this host."""


def check_baseline(since, hostname):
    missing = [key for key in REQUIRED_KEYS if key not in since]
    if missing:
        raise BaselineError("since is not a schedule_info result: it has no %s" % ", ".join(missing))
    if since["hostname"] != hostname:
        raise BaselineError("since was collected on %s, not on this host (%s)" % (since["hostname"], hostname))


def restart(current, since):
    """(restarted, reason) from osquery_info (and osquery_watchdog for the reason)."""
    before, now = since["agent"], current["agent"]
    if before.get("instance_id") != now.get("instance_id"):
        return True, "the agent's store is new (instance_id %s -> %s)" % (before.get("instance_id"),
                                                                          now.get("instance_id"))
    if before.get("start_time") == now.get("start_time") and before.get("pid") == now.get("pid"):
        return False, None
    if _same_watcher(current, since) and new_worker_restarts(current, since):
        stop = current["watchdog"].get("last_stop_reason")
        if stop and current["watchdog"].get("last_stop_time", 0) >= since["collected_at"]:
            return True, "the watchdog restarted the worker: %s" % stop
        return True, "the worker restarted (%s)" % (current["watchdog"].get("last_exit") or "no exit recorded")
    return True, "the agent restarted (start_time %s -> %s)" % (before.get("start_time"), now.get("start_time"))


def _same_watcher(current, since):
    watcher = current["agent"].get("watcher", -1)
    return watcher not in (-1, None) and watcher == since["agent"].get("watcher")


def new_worker_restarts(current, since):
    """Worker restarts since the baseline: the counter's growth under the same watcher, else its value."""
    now = current.get("watchdog", {}).get("worker_restarts")
    if now is None:
        return 0
    before = (since.get("watchdog") or {}).get("worker_restarts")
    if before is None or not _same_watcher(current, since) or now < before:
        return now
    return now - before


def _reset_reason(now, before, new_store):
    if new_store:
        return "the agent's store is new: its counters started again"
    if now["query"] != before["query"]:
        return "SQL changed: the agent reset the query's statistics"
    if now["executions"] < before["executions"]:
        return "executions went down (%d -> %d): the statistics were reset" % (before["executions"], now["executions"])
    for column in ("user_time", "system_time", "wall_time_ms", "output_size"):
        if now[column] < before[column]:
            return "%s went down (%d -> %d): the statistics were reset" % (column, before[column], now[column])
    return None


def _empty(status, reason, denylisted, newly):
    return dict(status=status, reason=reason, executions=0, cpu_ms=0.0, wall_ms=0.0, output_bytes=0,
                per_execution=None, denylisted=denylisted, newly_denylisted=newly, runs=[])


def _figures(status, reason, now, before, since_time):
    """A delta entry from the counters' growth (`before` all zero for a new query)."""
    runs = [run for run in now.get("runs", ()) if run["started"] > since_time]
    executions = now["executions"] - before["executions"]
    cpu = float(cpu_ms(now) - cpu_ms(before))
    wall = float(now["wall_time_ms"] - before["wall_time_ms"])
    output = now["output_size"] - before["output_size"]
    # memory per execution: the runs measure each execution; without them, the agent's running average
    memory = sum(run["memory"] for run in runs) / len(runs) if runs else now["average_memory"]
    return dict(status=status, reason=reason, executions=executions, cpu_ms=cpu, wall_ms=wall, output_bytes=output,
                per_execution=per_execution(cpu, wall, memory, output, executions),
                denylisted=bool(now["denylisted"]), newly_denylisted=bool(now["denylisted"]) and not before["denylisted"],
                runs=runs)


NOTHING_BEFORE = dict(executions=0, user_time=0, system_time=0, wall_time_ms=0, output_size=0, denylisted=0)


def query_delta(now, before, since_time, new_store=False):
    """One query's entry in deltas.queries; `now` or `before` is None when it is absent there."""
    if now is None:
        return _empty(REMOVED, "no longer in osquery_schedule", False, False)
    denylisted = bool(now["denylisted"])
    if before is None:
        return _figures(NEW, "not in the baseline", now, NOTHING_BEFORE, since_time)
    reason = _reset_reason(now, before, new_store)
    if reason:
        return _empty(RESET, reason, denylisted, denylisted and not before["denylisted"])
    return _figures(OK, None, now, before, since_time)


def compute(current, since, names=None):
    """deltas for `current` against the baseline `since` (both schedule_info results of this host)."""
    check_baseline(since, current["hostname"])
    restarted, reason = restart(current, since)
    new_store = since["agent"].get("instance_id") != current["agent"].get("instance_id")
    before_queries = since["queries"]
    wanted = set(current["queries"]) | set(before_queries)
    if names:
        wanted &= set(names)
    queries = dict((name, query_delta(current["queries"].get(name), before_queries.get(name),
                                      since["collected_at"], new_store))
                   for name in sorted(wanted))
    return dict(since=since["collected_at"], restarted=restarted, restart_reason=reason,
                worker_restarts=new_worker_restarts(current, since), queries=queries)
