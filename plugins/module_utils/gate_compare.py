"""Did the new queries slow the agent's other queries down? (the collateral comparison)

Samples are runs of the agent's other queries (every query but the rolled-out ones, present
before and during the stage), each divided by the median of the same query on the same host
before the stage, so hosts and queries of very different cost can be pooled: 1.0 is "as
before". Figures under 1 ms are timer noise, so 1 ms is added to each figure before dividing.
Each (host, query) gives at most its last RUNS_PER_SIDE runs a side, so no fast query or busy
host outweighs the rest.

Two designs, the first one possible wins:
  * control: the stage's hosts against hosts that did not get the queries in the same window
    (hosts of the stage's group outside its shard): the during-stage samples of both groups;
    what happened to the whole fleet in that window (a backup, a patch run) cancels out;
  * before/during: the stage's hosts' samples during the stage against their own before it.
Both need comparison_min_hosts hosts with samples in each group. The test is Mann-Whitney U,
one-sided (slower), at comparison_alpha split over the gating figures (Bonferroni); a slowdown
also needs the median sample to move by comparison_min_shift and Cliff's delta to reach
comparison_min_delta, so that a tiny but consistent shift over many runs does not count.

The agent's total scheduled CPU per second (all queries, the new ones included) is compared
per host as well, for the report: it includes the new queries' own cost, which the budgets
already judge, so it never gates.
"""

from ansible_collections.pyosquery.fleet.plugins.module_utils import gate_text as text
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_hosts import USABLE
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import GateError
from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule_results import (
    OK, ResultError, number, run_figures)
from ansible_collections.pyosquery.fleet.plugins.module_utils.stats import GREATER, compare, median

GATING = ("cpu_ms", "wall_ms")
TOTAL = "total_cpu_ms_per_s"
RUNS_PER_SIDE = 20
MIN_RUNS_PER_SIDE = 3
NOISE_MS = 1.0
CONTROL, BEFORE_DURING = "control", "before/during"


def _runs(entry, path):
    return [run_figures(run, "%s.runs[%d]" % (path, index)) for index, run in enumerate(entry.get("runs") or [])]


def _baseline_runs(found):
    """{query: its runs kept at the baseline}, each read once for both comparisons."""
    since = found["since"]
    return {name: [run for run in _runs(row, "baseline.queries." + name) if run["started"] <= since]
            for name, row in found["baseline"]["queries"].items()}


def _host_samples(found, names, baseline_runs):
    """{figure: {"before": [...], "during": [...]}} of one host's other queries, normalised."""
    samples = {figure: {"before": [], "during": []} for figure in GATING}
    for name, entry in found["current"]["deltas"]["queries"].items():
        if name in names or not isinstance(entry, dict) or entry.get("status") != OK or name not in baseline_runs:
            continue
        before = baseline_runs[name][-RUNS_PER_SIDE:]
        during = _runs(entry, "deltas.queries." + name)[-RUNS_PER_SIDE:]
        if len(before) < MIN_RUNS_PER_SIDE or len(during) < MIN_RUNS_PER_SIDE:
            continue
        for figure in GATING:
            scale = median([run[figure] for run in before]) + NOISE_MS
            samples[figure]["before"].extend((run[figure] + NOISE_MS) / scale for run in before)
            samples[figure]["during"].extend((run[figure] + NOISE_MS) / scale for run in during)
    return samples


def _total_rates(found, baseline_runs):
    """(before, during): CPU ms per second of every scheduled query, before and during the stage.

    During: the deltas' CPU totals over the stage. Before: the baseline's kept runs over a window
    as long as the stage's, or over what a query's kept runs cover when its older runs are gone.
    """
    current, baseline, since = found["current"], found["baseline"], found["since"]
    span = number(current, "collected_at", "current") - since
    if span <= 0:
        return None
    during = sum(number(entry, "cpu_ms", "deltas.queries." + name, 0)
                 for name, entry in current["deltas"]["queries"].items() if isinstance(entry, dict))
    before = 0.0
    for name, runs in baseline_runs.items():
        if not runs:
            continue
        truncated = len(runs) < number(baseline["queries"][name], "executions", "baseline.queries." + name, 0)
        covered = min(span, since - runs[0]["started"]) if truncated else span
        if covered > 0:
            before += sum(run["cpu_ms"] for run in runs if run["started"] > since - covered) / covered
    return before, during / span


def _groups(views, names):
    stage, control = {}, {}
    for host, found in views.items():
        if found["status"] != USABLE or found["baseline"] is None:
            continue
        try:
            baseline_runs = _baseline_runs(found)
            entry = {"samples": _host_samples(found, names, baseline_runs),
                     "totals": _total_rates(found, baseline_runs)}
        except ResultError as error:
            raise GateError("host %s: %s" % (host, error)) from None
        (stage if found["in_stage"] else control)[host] = entry
    return stage, control


def _pooled(group, figure, side):
    return [value for entry in group.values() for value in entry["samples"][figure][side]]


def _contributing(group, figure, side):
    return sum(1 for entry in group.values() if entry["samples"][figure][side])


def _design(stage, control, config):
    """(design, x group/side, y group/side) or (None, reason)."""
    need = config["comparison_min_hosts"]
    stage_hosts = min(_contributing(stage, figure, "during") for figure in GATING) if stage else 0
    control_hosts = min(_contributing(control, figure, "during") for figure in GATING) if control else 0
    if stage_hosts >= need and control_hosts >= need:
        return CONTROL, ((stage, "during"), (control, "during")), None
    if stage_hosts >= need:
        return BEFORE_DURING, ((stage, "during"), (stage, "before")), None
    why = "%s of the stage had runs of the agent's other queries before and during the stage (%d needed)" % (
        text.plural(stage_hosts, "host"), need)
    return None, None, why


def _figure_test(figure, groups, alpha, config):
    (x_group, x_side), (y_group, y_side) = groups
    result = compare(_pooled(x_group, figure, x_side), _pooled(y_group, figure, y_side), GREATER)
    result.update(hosts_x=_contributing(x_group, figure, x_side), hosts_y=_contributing(y_group, figure, y_side),
                  alpha=alpha, gates=True, made=True)
    shift = result["median_shift"]
    result["slowdown"] = bool(result["p_value"] < alpha and shift is not None
                              and shift >= config["comparison_min_shift"]
                              and result["cliffs_delta"] >= config["comparison_min_delta"])
    return result


def _totals_test(design, stage, control):
    """Per host: in the control design its total's growth (during / before), else the totals themselves."""
    def growth(group):
        return [during / before for before, during in (entry["totals"] for entry in group.values() if entry["totals"])
                if before > 0]

    if design == CONTROL:
        x, y = growth(stage), growth(control)
    else:
        pairs = [entry["totals"] for entry in stage.values() if entry["totals"]]
        x, y = [pair[1] for pair in pairs], [pair[0] for pair in pairs]
    if not x or not y:
        return {"made": False, "gates": False, "slowdown": False,
                "reason": "no host had CPU figures covering both windows"}
    result = compare(x, y, GREATER)
    result.update(made=True, gates=False, slowdown=False)
    return result


def comparison(views, names, config):
    """The comparison's result for the decision object; `slowdown` says whether it found one."""
    stage, control = _groups(views, names)
    design, groups, why = _design(stage, control, config)
    base = {"hosts_stage": len(stage), "hosts_control": len(control), "slowdown": False,
            "min_hosts": config["comparison_min_hosts"], "action": config["comparison_action"]}
    if design is None:
        return dict(base, made=False, design=None, figures={},
                    reason="not made: %s, and %d hosts outside it to compare with" % (why, len(control)))
    alpha = config["comparison_alpha"] / len(GATING)
    figures = {figure: _figure_test(figure, groups, alpha, config) for figure in GATING}
    figures[TOTAL] = _totals_test(design, stage, control)
    slowed = [figure for figure in GATING if figures[figure]["slowdown"]]
    return dict(base, made=True, design=design, figures=figures, slowdown=bool(slowed), slowed=slowed,
                reason="made: %s" % ("stage hosts against hosts without the queries, same window" if design == CONTROL
                                     else "stage hosts during the stage against before it"))
