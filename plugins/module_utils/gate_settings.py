"""The rollout gate's settings: each default with the reasoning a careful operator would give.

SETTINGS is the one source: the gate reads its defaults from it, GateError messages name its
keys, and the README's table and the gate filter's documentation say the same.
"""

import math

MIB = 1024 * 1024
KIB = 1024

# The watchdog checks the worker's CPU every 3 s; osquery_watchdog.cpu_limit_ms is per check.
WATCHDOG_CHECK_MS = 3000

# key, default, kind, reasoning
SETTINGS = (
    ("cpu_ms_p95", 1000, "number",
     "Half of the 2000 ms under which Fleet labels a query Minimal, and taken at the p95 where Fleet "
     "takes the p50: a promoted query reads Minimal in Fleet on its typical and on its slow hosts."),
    ("cpu_ms_max", 3000, "number",
     "Half the restrictive watchdog's sustained-CPU window (6 s; 12 s at the normal level): no single "
     "run comes within twice the CPU burst that gets a worker stopped and its query denylisted."),
    ("wall_ms_p95", 2000, "number",
     "The scheduler runs one query at a time, so a long run delays every query due behind it; twice "
     "the CPU budget leaves room for I/O waits."),
    ("wall_ms_max", 10000, "number",
     "No run holds the scheduler so long that a query on a 10 s interval misses a whole run."),
    ("memory_p95", 16 * MIB, "number",
     "The worker's resident memory seldom shrinks after a run; a query that grows it this much on a "
     "typical run walks the worker toward the watchdog's memory limit (100 MB restrictive, 200 MB "
     "normal) within a few runs."),
    ("memory_max", 50 * MIB, "number",
     "Half the restrictive watchdog's memory limit over the worker's start-up footprint: one run "
     "alone never takes the worker halfway to being stopped."),
    ("output_bytes_p95", 64 * KIB, "number",
     "Results are logged (and shipped) on every run; a quarter of the maximum keeps typical runs "
     "well clear of it."),
    ("output_bytes_max", 256 * KIB, "number",
     "A snapshot result is one log line; log pipelines drop lines above their limit (Grafana Loki's "
     "default max_line_size is 256 KB), so a bigger run may never arrive."),
    ("duty_share", 0.1, "share",
     "One query's sustained CPU (CPU ms per run over its interval) may use a tenth of what the "
     "watchdog allows the whole worker: the agent runs dozens of queries and the watchdog's budget "
     "must also absorb their bursts."),
    ("fallback_cpu_limit_ms", 300, "number",
     "Hosts without a watchdog report no CPU limit; the normal level's 10 % of one CPU per 3 s "
     "check (300 ms), the smallest normal-level budget a host can have, stands in."),
    ("min_executions", 3, "count",
     "Fewer runs on a host is not evidence: the first run after a push pays for cold caches, and "
     "one or two runs cannot show a tail."),
    ("max_missing_share", 0.1, "share",
     "Some hosts are always off or asleep: a tenth of a stage may lack figures without holding "
     "it, but in a stage of fewer than 10 hosts any host without figures holds it."),
    ("failure_budget", 0, "count",
     "Host failures (a host's run over a maximum, its duty cycle over its share, a worker or agent "
     "restart) tolerated across the whole rollout, not per stage; start at none and raise it "
     "only for fleets with known flaky hosts."),
    ("comparison_min_hosts", 5, "count",
     "Hosts per group before the agent's own cost is compared: one host's runs move together (its "
     "load, its disk), so with fewer hosts one odd host could pass its own slowdown off as the stage's."),
    ("comparison_alpha", 0.05, "share",
     "Family-wise error over the compared figures (Bonferroni: each of the two gating figures is "
     "tested at half of it), one-sided because only a slowdown matters."),
    ("comparison_min_shift", 0.2, "number",
     "A slowdown must move the median run of the agent's other queries by at least 20 %: smaller "
     "shifts are what background load and the CPU clock's tick (a few ms) do to cheap queries "
     "between two windows."),
    ("comparison_min_delta", 0.33, "share",
     "Cliff's delta of at least 0.33, a medium effect (Romano et al., 2006): most pairs of runs "
     "must show the slowdown, not a few outliers."),
    ("comparison_action", "rollback", "action",
     "A significant and large slowdown of the agent's other queries is harm done by the new "
     "queries: remove them. 'hold' stops for a person to look, 'report' only reports."),
)

DEFAULTS = {key: default for key, default, _kind, _reason in SETTINGS}
KINDS = {key: kind for key, _default, kind, _reason in SETTINGS}
ACTIONS = ("rollback", "hold", "report")
FIGURE_BUDGETS = tuple("%s_%s" % (figure, level) for figure in ("cpu_ms", "wall_ms", "memory", "output_bytes")
                       for level in ("p95", "max")) + ("duty_share",)


class GateError(ValueError):
    """Bad input to the gate; the message names the option, host or query at fault."""


def _checked(path, key, value):
    kind = KINDS[key]
    if kind == "action":
        if value not in ACTIONS:
            raise GateError("%s: expected one of %s, got %r" % (path, ", ".join(ACTIONS), value))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise GateError("%s: expected a number of 0 or more, got %r" % (path, value))
    if kind == "share" and value > 1:
        raise GateError("%s: expected a share from 0 to 1, got %r" % (path, value))
    if kind == "count" and int(value) != value:
        raise GateError("%s: expected a whole number, got %r" % (path, value))
    if key == "comparison_min_hosts" and value < 1:
        # a group of no hosts has no runs to rank
        raise GateError("%s: expected 1 or more hosts per group, got %r" % (path, value))
    return value


def settings(budget):
    """The effective settings: DEFAULTS, then `budget`'s keys, then its per-query overrides.

    Returns (settings, {query: figure budgets}); an unknown key or a bad value is a GateError.
    """
    if budget is None:
        budget = {}
    if not isinstance(budget, dict):
        raise GateError("budget: expected a mapping of settings, got %s" % type(budget).__name__)
    merged = dict(DEFAULTS)
    for key, value in budget.items():
        if key == "queries":
            continue
        if key not in DEFAULTS:
            raise GateError("budget.%s: unknown setting (known: %s, queries)" % (key, ", ".join(DEFAULTS)))
        merged[key] = _checked("budget." + key, key, value)
    overrides = budget.get("queries") or {}
    if not isinstance(overrides, dict):
        raise GateError("budget.queries: expected a mapping of query name to budgets")
    per_query = {}
    for name, override in overrides.items():
        path = "budget.queries.%s" % name
        if not isinstance(override, dict):
            raise GateError("%s: expected a mapping of budgets" % path)
        for key in override:
            if key not in FIGURE_BUDGETS:
                raise GateError("%s.%s: not a per-query budget (those are: %s)" % (path, key, ", ".join(FIGURE_BUDGETS)))
        per_query[name] = {key: _checked("%s.%s" % (path, key), key, value) for key, value in override.items()}
    return merged, per_query


def query_budget(config, per_query, name):
    """The figure budgets that apply to query `name`."""
    budget = {key: config[key] for key in FIGURE_BUDGETS}
    budget.update(per_query.get(name, {}))
    return budget
