# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout report, JSON and Markdown, built only from the stored state and the gate's
decision objects: the report shows the figures the decision was made from, nothing recomputed.
Pure functions, no I/O.
"""

# rollout status -> the decision a workflow branches on
OUTCOME = {"complete": "promote", "held": "hold", "rolling_back": "rollback", "rolled_back": "rollback",
           "running": "interrupted"}
FIGURES = ("cpu_ms", "wall_ms", "memory", "output_bytes")


def build_report(state, decisions):
    """The whole rollout: its outcome, every stage with its decision object, the removal if any."""
    stages = []
    for index, stage in enumerate(state["stages"]):
        definition = state["definition"]["stages"][index]
        stages.append({
            "name": stage["name"], "hosts": definition.get("hosts"), "shard": definition.get("shard"),
            "status": stage["status"], "started": stage.get("started"), "decided": stage.get("decided"),
            "reasons": stage.get("reasons", []), "pushed_to": stage.get("pushed_to", []),
            "decision": decisions[index],
        })
    reached = state["stages"][min(state["stage"], len(stages) - 1)]["name"]
    return {
        "rollout_id": state["rollout_id"], "pack": state["pack"],
        "queries": sorted((state["definition"]["pack"].get("queries") or {})),
        "decision": OUTCOME.get(state["status"], state["status"]), "status": state["status"],
        "reason": state.get("reason"), "stage_reached": reached,
        "stages_promoted": sum(1 for s in stages if s["status"] == "promoted"), "stages_total": len(stages),
        "created": state["created"], "updated": state["updated"], "runs": len(state["runs"]),
        "touched": state["touched"], "removal": state.get("removal"),
        "removal_pending": state.get("removal_pending", []), "stages": stages,
    }


def render_markdown(report):
    """A summary an operator reads at the end of the play (and in report.md)."""
    lines = ["# Rollout `%s` of pack `%s`: %s" % (report["rollout_id"], report["pack"], report["decision"].upper()),
             "",
             "Status %s after %d of %d stages (runs: %d, last update %s)." % (
                 report["status"], report["stages_promoted"], report["stages_total"], report["runs"],
                 report["updated"]),
             "Queries: %s." % ", ".join("`%s`" % q for q in report["queries"])]
    if report["reason"]:
        lines.append("Reason: %s." % report["reason"].rstrip("."))
    lines += ["", "| stage | hosts | shard | decision | reasons |", "| --- | --- | --- | --- | --- |"]
    for stage in report["stages"]:
        lines.append("| %s | `%s` | %s | %s | %s |" % (
            stage["name"], stage["hosts"], "%s%%" % stage["shard"] if stage["shard"] else "all",
            stage["status"], "; ".join(stage["reasons"]) or "-"))
    for stage in report["stages"]:
        if stage["decision"]:
            lines += [""] + stage_section(stage)
    if report["removal"] is not None:
        lines += ["", "## Removal", ""] + removal_lines(report)
    return "\n".join(lines) + "\n"


def stage_section(stage):
    decision = stage["decision"]
    hosts = decision.get("hosts") or {}
    lines = ["## Stage `%s`: %s" % (stage["name"], decision.get("decision")), ""]
    lines.append("Hosts: %s." % ", ".join("%s %s" % (key.replace("_", " "), count(value))
                                          for key, value in sorted(hosts.items())) if hosts else "Hosts: none.")
    per_query = decision.get("per_query") or {}
    if per_query:
        lines += ["", "| query | hosts | executions | %s | denylisted |" % " | ".join(
            "%s p50/p95/max" % f for f in FIGURES), "| --- | --- | --- |%s --- |" % (" --- |" * len(FIGURES))]
        for name, figures in sorted(per_query.items()):
            lines.append("| %s | %s | %s | %s | %s |" % (
                name, count(figures.get("hosts")), figures.get("executions", "-"),
                " | ".join(spread(figures.get(f)) for f in FIGURES),
                ", ".join(figures.get("denylisted_hosts") or []) or "-"))
    comparison = decision.get("comparison")
    if comparison:
        lines += ["", "Comparison: %s" % (comparison.get("summary") or comparison)]
    for reason in decision.get("reasons") or []:
        lines.append("- %s" % reason)
    return lines


def removal_lines(report):
    lines = ["| host | removal |", "| --- | --- |"]
    for host, problem in sorted((report["removal"] or {}).items()):
        lines.append("| %s | %s |" % (host, problem or "verified"))
    return lines


def count(value):
    return str(len(value)) if isinstance(value, (list, dict)) else str(value)


def spread(figure):
    if not isinstance(figure, dict):
        return "-"
    return "/".join(number(figure.get(k)) for k in ("p50", "p95", "max"))


def number(value):
    if value is None:
        return "-"
    return ("%.1f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
