# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout report, JSON and Markdown, built only from the stored state and the gate's
decision objects: the report shows the figures the decision was made from, nothing recomputed.
Pure functions, no I/O.
"""

from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_store import query_name

# rollout status -> the decision a workflow branches on; a rollout that rolled some of its queries
# back alone and completed (or is removing them) is a partial_rollback
OUTCOME = {"complete": "promote", "held": "hold", "rolling_back": "rollback", "rolled_back": "rollback",
           "running": "interrupted", "dropping": "partial_rollback"}
PARTIAL = "partial_rollback"
FIGURES = ("cpu_ms", "wall_ms", "memory", "output_bytes")
FIGURE_NAMES = {"cpu_ms": "CPU ms", "wall_ms": "wall ms", "memory": "memory", "output_bytes": "output"}


def build_report(state, decisions, earlier=None):
    """The whole rollout: its outcome, every stage with its decision objects, the removal if any.

    EARLIER: per stage, the decision objects of its soaks that rolled queries back alone.
    """
    stages = []
    earlier = earlier or [[] for _stage in state["stages"]]
    for index, stage in enumerate(state["stages"]):
        definition = state["definition"]["stages"][index]
        attempts = [dict(attempt, decision=earlier[index][number] if number < len(earlier[index]) else None)
                    for number, attempt in enumerate(stage.get("attempts", []))]
        stages.append({
            "name": stage["name"], "hosts": definition.get("hosts"), "shard": definition.get("shard"),
            "status": stage["status"], "started": stage.get("started"), "decided": stage.get("decided"),
            "reasons": stage.get("reasons", []), "pushed_to": stage.get("pushed_to", []),
            "attempts": attempts, "decision": decisions[index],
        })
    index = min(state["stage"], len(stages) - 1)
    dropped = state.get("dropped") or {}
    completed_partly = bool(dropped) and state["status"] == "complete"
    return {
        "rollout_id": state["rollout_id"], "pack": state["pack"],
        "queries": sorted((state["definition"]["pack"].get("queries") or {})),
        "dropped": dropped, "rolled_back_queries": rolled_back_queries(state),
        "decision": PARTIAL if completed_partly else OUTCOME.get(state["status"], state["status"]),
        "status": state["status"],
        "reason": dropped_reason(dropped, state) if completed_partly else state.get("reason"),
        "stage_reached": stages[index]["name"],
        "stage_index": index if stages[index]["status"] in ("held", "rollback", "dropping") else None,
        "stages_promoted": sum(1 for s in stages if s["status"] == "promoted"), "stages_total": len(stages),
        "created": state["created"], "updated": state["updated"], "runs": len(state["runs"]),
        "touched": state["touched"], "removal": state.get("removal"),
        "removal_pending": state.get("removal_pending", []), "stages": stages,
    }


def rolled_back_queries(state):
    """The queries (as osquery_schedule names them) taken off the hosts, or being taken off."""
    names = {entry["query"] for entry in (state.get("dropped") or {}).values()}
    if state["status"] in ("rolling_back", "rolled_back"):
        names.update(query_name(state["pack"], name) for name in state["definition"]["pack"]["queries"])
    return sorted(names)


def dropped_reason(dropped, state):
    """One line for a completed rollout that rolled some of its queries back alone."""
    kept = sorted(set(state["definition"]["pack"]["queries"]) - set(dropped))
    return "rolled back alone: %s; the rest (%s) promoted through every stage." % (
        "; ".join("%s at stage %s (%s)" % (entry["query"], entry["stage"],
                                           (entry["reasons"] or ["no reason recorded"])[0].rstrip("."))
                  for _name, entry in sorted(dropped.items())), ", ".join(kept))


def render_markdown(report):
    """A summary an operator reads at the end of the play (and in report.md)."""
    lines = ["# Rollout `%s` of pack `%s`: %s" % (report["rollout_id"], report["pack"], report["decision"].upper()),
             "",
             "Status %s after %d of %d stages (runs: %d, last update %s)." % (
                 report["status"], report["stages_promoted"], report["stages_total"], report["runs"],
                 report["updated"]),
             "Queries: %s." % ", ".join(query_outcome(q, report) for q in report["queries"])]
    reasons = report["stages"][report["stage_index"]]["reasons"] if report["stage_index"] is not None else []
    if reasons:
        lines.append("Why: %s%s" % (reasons[0], " (%d more reasons below)" % (len(reasons) - 1)
                                    if len(reasons) > 1 else ""))
    elif report["reason"]:
        lines.append("Why: %s" % report["reason"])
    lines += ["", "| stage | hosts | shard | status | decided |", "| --- | --- | --- | --- | --- |"]
    for stage in report["stages"]:
        lines.append("| %s | `%s` | %s | %s | %s |" % (
            stage["name"], stage["hosts"], "%s%%" % stage["shard"] if stage["shard"] else "all",
            stage["status"], stage["decided"] or "-"))
    for stage in report["stages"]:
        for number, attempt in enumerate(stage["attempts"], 1):
            if attempt["decision"]:
                lines += [""] + stage_section(stage, attempt["decision"], "`%s`, soak %d" % (stage["name"], number))
        if stage["decision"]:
            lines += [""] + stage_section(stage, stage["decision"], "`%s`%s" % (
                stage["name"], ", soak %d" % (len(stage["attempts"]) + 1) if stage["attempts"] else ""))
    if report["removal"] is not None:
        lines += ["", "## Removal", ""] + removal_lines(report)
    return "\n".join(lines) + "\n"


def query_outcome(query, report):
    """`name`, and what became of it when it was rolled back alone."""
    entry = report["dropped"].get(query)
    if entry is None:
        return "`%s`" % query
    pending = sorted(host for host, problem in entry["removal"].items() if problem)
    if pending:
        removal = "removal not verified on %s" % ", ".join(pending)
    elif entry["removal"]:
        removal = "removal verified on %s" % ", ".join(sorted(entry["removal"]))
    else:
        removal = "removal not checked yet"
    return "`%s` (rolled back alone at stage %s, %s)" % (query, entry["stage"], removal)


def stage_section(stage, decision, title):
    """One judged soak of a stage: its hosts, its queries' figures, worst hosts, comparison, reasons."""
    facts = decision.get("stage") or {}
    lines = ["## Stage %s: %s" % (title, str(decision.get("decision")).upper()), "",
             "Hosts `%s`, %s: %s targeted, %s in the stage%s." % (
                 stage["hosts"], "shard %s%%" % stage["shard"] if stage["shard"] else "every host",
                 facts.get("hosts_targeted", "-"), facts.get("hosts_in_stage", "-"),
                 "; outside the shard: %s" % ", ".join(facts["hosts_outside_shard"])
                 if facts.get("hosts_outside_shard") else "")]
    per_query = decision.get("per_query") or {}
    if per_query:
        lines += ["", "| query | hosts with figures | runs | %s | duty cycle max (limit) | denylisted | impact |"
                  % " | ".join("%s p50/p95/max" % FIGURE_NAMES[f] for f in FIGURES),
                  "| --- " * (6 + len(FIGURES)) + "|"]
        for name, figures in sorted(per_query.items()):
            duty = figures.get("duty") or {}
            lines.append("| %s | %s of %s | %s | %s | %s | %s | %s |" % (
                name, figures.get("hosts_with_data", "-"), figures.get("hosts_in_stage", "-"), figures.get("runs", "-"),
                " | ".join(spread(figures.get(f), f) for f in FIGURES),
                "%s (%s)" % (percent(duty.get("max")), percent(duty.get("limit"))) if duty else "-",
                ", ".join(figures.get("denylisted_hosts") or []) or "-", figures.get("impact") or "-"))
        missing = ["%s: %s" % (name, "; ".join("%s (%s)" % pair for pair in sorted(without.items())))
                   for name, without in sorted((n, f.get("hosts_without_data")) for n, f in per_query.items())
                   if without]
        if missing:
            lines += [""] + ["Without figures for %s." % line for line in missing]
    worst = decision.get("worst_hosts") or []
    if worst:
        lines += ["", "Worst hosts: " + "; ".join(
            "%s (%s %s %s, budget %s: x%s)" % (w["host"], w["query"], w["figure"], amount(w["value"], w["figure"]),
                                               amount(w["budget"], w["figure"]), number(float(w["ratio"])))
            for w in worst) + "."]
    comparison = decision.get("comparison") or {}
    if comparison.get("made"):  # when it was not, a note of the gate says why
        lines.append("The agent's own cost compared (%s): %s." % (
            comparison.get("design"), "slower" if comparison.get("slowdown") else "no slowdown"))
    failures = decision.get("failures") or {}
    if failures:
        lines.append("Failure budget: %s host failures spent in the rollout (%s here) of %s allowed." % (
            failures.get("total"), failures.get("this_stage"), failures.get("budget")))
    lines += [""] + ["- %s" % reason for reason in decision.get("reasons") or []]
    lines += ["- note: %s" % note for note in decision.get("notes") or []]
    return lines


def removal_lines(report):
    lines = ["| host | removal |", "| --- | --- |"]
    for host, problem in sorted((report["removal"] or {}).items()):
        lines.append("| %s | %s |" % (host, problem or "verified"))
    return lines


def spread(figure, name):
    if not isinstance(figure, dict):
        return "-"
    # the column says "ms"; bytes get their unit
    return "/".join(amount(figure.get(k), name) if name in ("memory", "output_bytes") else number(figure.get(k))
                    for k in ("p50", "p95", "max"))


def amount(value, figure=""):
    """A figure for people: ms, bytes as KiB/MiB, shares as %."""
    if value is None:
        return "-"
    if figure.startswith(("memory", "output_bytes")):
        for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
            if abs(value) >= size:
                return "%s %s" % (number(value / float(size)), unit)
        return "%s B" % number(value)
    if figure.startswith("duty"):
        return percent(value)
    return "%s ms" % number(value) if figure.startswith(("cpu_ms", "wall_ms")) else number(value)


def percent(share):
    return "-" if share is None else "%s%%" % number(share * 100.0)


def number(value):
    """Two significant digits below 10, whole numbers above."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return "%.2g" % value if abs(value) < 10 else "%.0f" % value
    return str(value)
