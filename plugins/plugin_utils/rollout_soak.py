# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a host has soaked long enough for its stage to be judged. Pure.

The role polls each host with schedule_info (since = the host's baseline) until this says so or
the stage's soak timeout passes; the last poll is what the gate judges. A host has soaked when

* something already happened that the gate acts on whatever else comes: the agent or its worker
  restarted, the watchdog stopped the worker, or one of the rolled-out queries was denylisted;
* or the watchdog can act on the new queries (its delay after the worker's start has passed),
  the stage's minimum soak has passed, and every rolled-out query in the host's schedule ran at
  least min_executions times since the baseline. A host whose schedule holds none of them (its
  machine shard is outside the stage's shard) waits as long as min_executions runs of the
  slowest query take, so that it covers the same window as the hosts that run them (it is the
  gate's control group).

A poll that failed (the agent restarting, say) is never enough: the role polls again.
"""

OK_STATUSES = ("ok", "new")


def soaked(poll, intervals, min_executions, soak_min=0):
    """True when POLL (a registered schedule_info result) is enough; INTERVALS: {query name: s}."""
    deltas = (poll or {}).get("deltas") if isinstance(poll, dict) else None
    if not deltas or poll.get("failed") or poll.get("unreachable"):
        return False
    if something_happened(poll, deltas, intervals):
        return True
    elapsed = poll["collected_at"] - deltas["since"]
    watchdog = poll.get("watchdog") or {}
    enforced_from = (watchdog.get("worker_start_time") or 0) + (watchdog.get("delay_s") or 0)
    if elapsed < soak_min or poll["collected_at"] < enforced_from:
        return False
    running = [deltas["queries"][name] for name in intervals
               if name in (poll.get("queries") or {}) and name in (deltas.get("queries") or {})]
    if not running:
        return elapsed >= min_executions * max(intervals.values())
    return all(seen.get("status") in OK_STATUSES and seen.get("executions", 0) >= min_executions
               for seen in running)


def something_happened(poll, deltas, intervals):
    """A restart, a watchdog stop or a denylisted rolled-out query since the baseline."""
    if deltas.get("restarted") or (deltas.get("worker_restarts") or 0) > 0:
        return True
    if ((poll.get("watchdog") or {}).get("last_stop_time") or 0) >= deltas["since"]:
        return True
    queries = deltas.get("queries") or {}
    return any(queries.get(name, {}).get("denylisted") or queries.get(name, {}).get("newly_denylisted")
               for name in intervals)
