"""Fleet's performance-impact label for a scheduled query, from pyosquery figures.

Fleet (fleetdm/fleet, read in 2025: server/datastore/mysql/aggregated_stats.go and
frontend/utilities/helpers.tsx getPerformanceImpactDescription) labels a query as follows:
  * per host with executions > 0: average user time and average system time per execution
    (osquery_schedule's lifetime user_time / executions, system_time / executions, in ms);
  * across those hosts, the p50 of the user averages and, separately, the p50 of the system
    averages, each picked as the value at rank floor(0.5 * n) + 1 of the sorted averages;
  * no executions anywhere: "Undetermined"; else user p50 + system p50 below 2000 ms:
    "Minimal", below 4000 ms: "Considerable", otherwise "Excessive".
"""

from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule_results import number, window
from ansible_collections.pyosquery.fleet.plugins.module_utils.stats import FLEET, percentile

MINIMAL_BELOW_MS = 2000
CONSIDERABLE_BELOW_MS = 4000
UNDETERMINED, MINIMAL, CONSIDERABLE, EXCESSIVE = "Undetermined", "Minimal", "Considerable", "Excessive"


def label(cpu_ms):
    """The label for a CPU figure in ms per execution (None: Undetermined)."""
    if cpu_ms is None:
        return UNDETERMINED
    if cpu_ms < MINIMAL_BELOW_MS:
        return MINIMAL
    if cpu_ms < CONSIDERABLE_BELOW_MS:
        return CONSIDERABLE
    return EXCESSIVE


def fleet_indicator(hosts):
    """Fleet's figure from (user ms, system ms) averages per execution, one pair per host that ran
    the query: the p50 of the user averages plus the p50 of the system averages; None if no host."""
    if not hosts:
        return None
    return percentile([pair[0] for pair in hosts], 50, FLEET) + percentile([pair[1] for pair in hosts], 50, FLEET)


def host_averages(result, name):
    """(user ms, system ms) per execution of query `name` on one host, or None if it did not run.

    Without deltas: the lifetime osquery_schedule counters, exactly what Fleet reads. With
    deltas (a window since a baseline): the means over the window's runs; when the runs were not
    read, the window's CPU average, all counted as user time.
    """
    if result.get("deltas") is None:
        row = result["queries"].get(name)
        path = "queries." + name
        executions = number(row, "executions", path, 0) if row else 0
        if not executions:
            return None
        return number(row, "user_time", path, 0) / executions, number(row, "system_time", path, 0) / executions
    return window_averages(window(result, name))


def window_averages(seen):
    """(user ms, system ms) per execution over a schedule_results.window(), or None if it did not run."""
    if seen is None or not seen["executions"] or not seen["runs"]:
        return None
    runs = seen["runs"]
    if runs[0].get("averaged"):
        return runs[0]["cpu_ms"], 0.0
    return sum(run["user_ms"] for run in runs) / len(runs), sum(run["system_ms"] for run in runs) / len(runs)
