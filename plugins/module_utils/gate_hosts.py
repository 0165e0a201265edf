"""The gate's view of each host: can its results be used, is it in the stage, what happened on it.

A host's current result is pyosquery.fleet.schedule_info read with since=<its baseline>, so its
deltas cover exactly the stage; the baseline (read before the queries were pushed) is what the
comparison of the agent's own cost looks back at.
"""

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import GateError
from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule_results import (
    ResultError, number, unusable, window)
from ansible_collections.pyosquery.fleet.plugins.module_utils.shard import in_shard, machine_shard

# host status: usable figures, or why not
USABLE, UNREACHABLE, FAILED, NO_BASELINE = "ok", "unreachable", "failed", "no_baseline"

SINCE_TOLERANCE_S = 0.001


def _hostname(*results):
    for result in results:
        if result and isinstance(result.get("hostname"), str):
            return result["hostname"]
    return None


def _status(current, baseline, baselines_given):
    """(status, reason) from what the current and the baseline result hold."""
    why = unusable(current)
    if why:
        return (UNREACHABLE if current is None or current.get("unreachable") else FAILED), why
    if baselines_given:
        why = unusable(baseline)
        if why:
            return NO_BASELINE, "no baseline to measure from (%s)" % why
    if current.get("deltas") is None:
        if baselines_given:
            raise ResultError("deltas: missing; read the current figures with since=<this host's baseline>")
        return NO_BASELINE, "read without a baseline (no deltas)"
    return USABLE, None


def _check_since(current, baseline):
    since = number(current["deltas"], "since", "deltas")
    if baseline is not None and abs(since - number(baseline, "collected_at", "baseline")) > SINCE_TOLERANCE_S:
        raise ResultError("deltas.since is %s but the baseline given was collected at %s: read the current figures "
                          "with since=<this host's baseline>" % (since, baseline["collected_at"]))
    return since


def _events(current, since):
    """What happened to the agent during the stage, from the watchdog row and the deltas."""
    deltas = current["deltas"]
    watchdog = current.get("watchdog") or {}
    stop_time = number(watchdog, "last_stop_time", "watchdog", 0)
    stop = None
    if stop_time >= since:      # whole seconds, cut: a stop stamped with the baseline's second came after it
        stop = {"time": stop_time, "reason": watchdog.get("last_stop_reason") or "no reason given",
                "query": watchdog.get("last_denylisted_query") or None}
    queries = deltas.get("queries") or {}
    return {"watchdog_stop": stop,
            "worker_restarts": int(number(deltas, "worker_restarts", "deltas", 0)),
            "last_exit": watchdog.get("last_exit") or None,
            "agent_restarted": bool(deltas.get("restarted")),
            "restart_reason": deltas.get("restart_reason"),
            "newly_denylisted": sorted(name for name, entry in queries.items()
                                       if isinstance(entry, dict) and entry.get("newly_denylisted"))}


def view(host, current, baseline, baselines_given, names, shard):
    """Everything the gate needs from one host; a result not in schedule_info's shape is a GateError."""
    try:
        status, reason = _status(current, baseline, baselines_given)
        hostname = _hostname(current, baseline)
        found = {"host": host, "status": status, "reason": reason, "hostname": hostname,
                 "machine_shard": machine_shard(hostname if hostname is not None else host),
                 "shard_from": "hostname" if hostname is not None else "inventory name",
                 "current": current, "baseline": baseline if baselines_given and status == USABLE else None,
                 "windows": {}, "events": None, "since": None}
        if status == USABLE:
            found["since"] = _check_since(current, found["baseline"])
            found["windows"] = {name: window(current, name) for name in names}
            found["events"] = _events(current, found["since"])
    except (ResultError, ValueError) as error:
        raise GateError("host %s: %s" % (host, error)) from None
    runs_them = any(found["windows"].get(name) is not None for name in names)
    found["in_shard"] = in_shard(found["machine_shard"], shard)
    found["in_stage"] = found["in_shard"] or runs_them       # the agent's own shard test wins
    return found


def views(currents, baselines, names, stage):
    """{host: view} for every host in the currents, the baselines and the stage's host list."""
    baselines_given = baselines is not None
    hosts = set(currents) | set(baselines or {}) | set(stage["hosts"])
    return {host: view(host, currents.get(host), (baselines or {}).get(host), baselines_given, names, stage["shard"])
            for host in sorted(hosts)}
