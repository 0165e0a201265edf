"""The gate's reasons in words: why a stage was promoted, held or rolled back, per query and host.

Sentences are built from the judgement (gate.judge's verdict); each decision lists at most
MAX_SENTENCES of a kind, every one staying in its host's entry.
"""

from ansible_collections.pyosquery.fleet.plugins.module_utils import gate_text as text

MAX_SENTENCES = 10


def promote_sentences(per_query):
    sentences = []
    for name, summary in per_query.items():
        budget, duty = summary["budget"], summary["duty"]
        sentences.append("%s: within budget on %d of %d hosts: p95 CPU %s (budget %s), p95 wall time %s (%s), "
                         "max memory growth %s (%s), max output %s (%s)%s" % (
                             name, summary["hosts_with_data"], summary["hosts_in_stage"],
                             text.milliseconds(summary["cpu_ms"]["p95"]), text.milliseconds(budget["cpu_ms_p95"]),
                             text.milliseconds(summary["wall_ms"]["p95"]), text.milliseconds(budget["wall_ms_p95"]),
                             text.size(summary["memory"]["max"]), text.size(budget["memory_max"]),
                             text.size(summary["output_bytes"]["max"]), text.size(budget["output_bytes_max"]),
                             ", worst duty cycle %s (limit %s)" % (text.cpu_share(duty["max"]), text.cpu_share(duty["limit"]))
                             if duty else ""))
    return sentences


def slowdown_sentence(result, config):
    parts = []
    for figure in result["slowed"]:
        test = result["figures"][figure]
        parts.append("%s per run up %s (Cliff's delta %.2f, p = %.4f)" % (
            text.FIGURE_NAMES[figure], text.share(test["median_shift"]), test["cliffs_delta"], test["p_value"]))
    return "the agent's other queries ran slower on the stage's hosts (%s comparison: %s), beyond the %s and %.2f " \
        "allowed" % (result["design"], "; ".join(parts), text.share(config["comparison_min_shift"]),
                     config["comparison_min_delta"])


def _capped(sentences):
    """At most MAX_SENTENCES of a kind in the reasons; every one stays in its host's entry."""
    if len(sentences) <= MAX_SENTENCES:
        return sentences
    return sentences[:MAX_SENTENCES] + ["and %d more like these (see hosts.<host>.failures)"
                                        % (len(sentences) - MAX_SENTENCES)]


def _failure_sentences(failures, keep):
    return [sentence for host in sorted(failures) for query, sentence in failures[host] if keep(query)]


def rollback_reasons(verdict):
    """(reasons, notes) of a rollback: of the queries rolled back alone, or of the whole pack."""
    dropped, budget_state, failures = verdict["dropped"], verdict["budget"], verdict["failures"]
    if dropped:
        reasons = [sentence for query, sentence in verdict["rollback"] if query in dropped]
        reasons += _capped(_failure_sentences(failures, lambda query: query in dropped))
    else:
        reasons = [sentence for _query, sentence in verdict["rollback"]]
    notes = []
    charged = _failure_sentences(failures, lambda query: query not in (dropped or ()))
    if budget_state["exhausted"]:
        reasons.append("failure budget exhausted: %s in this rollout (%d in this stage, %d before), %d allowed" % (
            text.plural(budget_state["total"], "host failure"), budget_state["this_stage"],
            budget_state["spent_before"], budget_state["budget"]))
        reasons.extend(_capped(charged))
    elif charged:
        notes.append("%s tolerated: %d of the %d allowed across the rollout now spent" % (
            text.plural(budget_state["this_stage"], "host failure"), budget_state["total"], budget_state["budget"]))
        notes.extend(_capped(charged))
    return reasons, notes


def query_reasons(verdict):
    """{query: the rollback reasons and host failures that are its own}, for every query with any."""
    mine = {}
    for query, sentence in verdict["rollback"] + [entry for host in sorted(verdict["failures"])
                                                  for entry in verdict["failures"][host]]:
        if query is not None:
            mine.setdefault(query, []).append(sentence + ".")
    return mine
