"""Reading pyosquery.fleet.schedule_info results for the filters and the rollout gate.

One place knows the module's result shape (see the module's RETURN): which figures a run
carries, where the window since a baseline lives (`deltas`), and what a failed or unreachable
task looks like. A result that is not in that shape raises ResultError naming the JSON path.
"""

import math

from ansible_collections.pyosquery.fleet.plugins.module_utils.stats import summary

# the per-execution figures every judgement and summary reads, and the run column behind each
FIGURES = ("cpu_ms", "wall_ms", "memory", "output_bytes")
RUN_COLUMNS = {"cpu_ms": "cpu_ms", "wall_ms": "wall_ms", "memory": "memory", "output_bytes": "output_size"}

# deltas.queries.<name>.status values
NEW, OK, RESET, REMOVED = "new", "ok", "reset", "removed"


class ResultError(ValueError):
    """A schedule_info result that is not in the module's shape."""


def _mapping(value, path):
    if not isinstance(value, dict):
        raise ResultError("%s: expected a mapping, got %s" % (path, type(value).__name__))
    return value


def _list(value, path):
    if not isinstance(value, list):
        raise ResultError("%s: expected a list, got %s" % (path, type(value).__name__))
    return value


def number(mapping, key, path, default=None):
    """mapping[key] as a number; `default` when absent or null (ResultError if there is no default)."""
    value = mapping.get(key)
    if value is None:
        if default is None:
            raise ResultError("%s.%s: missing" % (path, key))
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ResultError("%s.%s: expected a number, got %r" % (path, key, value))
    return value


def unusable(result):
    """Why a registered result holds no schedule_info data (None if it does).

    None, an unreachable host and a failed task (the module fails when the agent is down,
    saying why) are reasons; anything else must be a result of the module's shape.
    """
    if result is None:
        return "no result"
    _mapping(result, "result")
    if result.get("unreachable"):
        return "unreachable: %s" % (result.get("msg") or "no message")
    if result.get("failed"):
        return "task failed: %s" % (result.get("msg") or "no message")
    if result.get("skipped"):
        return "task skipped"
    _mapping(result.get("queries"), "queries")
    return None


def run_figures(run, path):
    """One run's per-execution figures; memory growth below zero counts as none."""
    _mapping(run, path)
    figures = {}
    for figure, column in RUN_COLUMNS.items():
        if column == "cpu_ms" and run.get("cpu_ms") is None:
            # older result without the sum: user + system
            figures[figure] = number(run, "user_ms", path) + number(run, "system_ms", path)
        else:
            figures[figure] = number(run, column, path)
    figures["memory"] = max(0, figures["memory"])
    figures["started"] = number(run, "started", path, 0)
    figures["user_ms"] = number(run, "user_ms", path, 0)
    figures["system_ms"] = number(run, "system_ms", path, 0)
    return figures


def _samples(entry, executions, path):
    """The runs of a query as figure dicts; the averages as one sample when runs were not read."""
    runs = [run_figures(run, "%s.runs[%d]" % (path, index))
            for index, run in enumerate(_list(entry.get("runs") or [], path + ".runs"))]
    averages = entry.get("per_execution")
    if not runs and executions and averages:
        _mapping(averages, path + ".per_execution")
        runs = [dict({figure: number(averages, figure, path + ".per_execution") for figure in FIGURES},
                     started=0, user_ms=None, system_ms=None, averaged=True)]
    return runs


def window(result, name):
    """What `result` says about query `name`, from its deltas when present, else its lifetime.

    Returns None when the query is not in the result at all, else a dict: status (new, ok,
    reset, removed; "ok" for a lifetime view), reason, executions, runs (figure dicts), cpu_ms
    (total, or None), denylisted, newly_denylisted, interval.
    """
    scheduled = _mapping(result["queries"], "queries").get(name)
    interval = number(_mapping(scheduled, "queries." + name), "interval", "queries." + name, 0) if scheduled else 0
    deltas = result.get("deltas")
    if deltas is None:
        if scheduled is None:
            return None
        path = "queries." + name
        executions = number(scheduled, "executions", path, 0)
        return {"status": OK, "reason": None, "executions": executions, "runs": _samples(scheduled, executions, path),
                "cpu_ms": None, "denylisted": bool(scheduled.get("denylisted")), "newly_denylisted": False,
                "interval": interval}
    path = "deltas.queries." + name
    entry = _mapping(_mapping(deltas, "deltas").get("queries"), "deltas.queries").get(name)
    if entry is None:
        return None
    _mapping(entry, path)
    status = entry.get("status")
    if status not in (NEW, OK, RESET, REMOVED):
        raise ResultError("%s.status: expected new, ok, reset or removed, got %r" % (path, status))
    executions = number(entry, "executions", path, 0)
    usable = status in (NEW, OK)
    return {"status": status, "reason": entry.get("reason"), "executions": executions if usable else 0,
            "runs": _samples(entry, executions, path) if usable else [],
            "cpu_ms": number(entry, "cpu_ms", path, 0) if usable else None,
            "denylisted": bool(entry.get("denylisted")), "newly_denylisted": bool(entry.get("newly_denylisted")),
            "interval": interval}


def query_names(result):
    """The query names a result reports: its deltas' when present, else its schedule's."""
    deltas = result.get("deltas")
    source = _mapping(deltas, "deltas").get("queries") if deltas is not None else result["queries"]
    return list(_mapping(source, "deltas.queries" if deltas is not None else "queries"))


def figure_summaries(runs):
    """{figure: {p50, p95, max}} over the runs' per-execution figures (nearest-rank percentiles)."""
    return {figure: summary([run[figure] for run in runs]) for figure in FIGURES}
