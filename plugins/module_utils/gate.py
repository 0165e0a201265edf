"""The rollout gate: promote, hold or roll back one stage, from what its hosts' agents measured.

judge(currents, baselines, queries, stage, budget, spent, scope) -> decision object (pure: no I/O).

Input, per host of the stage (inventory name -> registered result):
  baselines  pyosquery.fleet.schedule_info read before the queries were pushed;
  currents   schedule_info read after the soak with since=<that host's baseline>, so its deltas
             cover exactly the stage (never lifetime totals). An unreachable host's or a failed
             task's registered result (ignore_unreachable / ignore_errors), or no entry, is a
             host without figures.
  queries    the rolled-out queries' names as in osquery_schedule (pack_<pack>_<query>);
  stage      {name, shard, hosts}: shard (1..100, none: every host) as pushed with the pack;
             hosts, the inventory hosts targeted (hosts missing from both result maps count as
             without figures); other keys are ignored so a role's stage entry can be passed;
  budget     settings over gate_settings.SETTINGS (each default with its reasoning), plus
             `queries: {name: {figure budgets}}` per query;
  spent      host failures already spent by the rollout's earlier stages;
  scope      what a rollback removes: "query" (only the queries that breached, when that is not
             all of them) or "pack" (always the whole pack).

Judgement, per rolled-out query over the stage's hosts:
  * rollback: a p95 over all the stage's runs above its budget (CPU ms, wall ms, memory growth,
    output bytes per execution); a host where the agent denylisted a query during the stage;
    a watchdog stop during the stage; host failures beyond the failure budget counted across
    the rollout (a host's costliest run over a maximum, its CPU duty cycle over its share of the
    host's watchdog budget, a worker or agent restart); a collateral slowdown of the agent's
    other queries (gate_compare) when comparison_action is rollback;
  * hold: a larger share of the stage's hosts than max_missing_share without usable figures
    (unreachable, task failed, no baseline, stats reset, query absent, fewer than
    min_executions runs), or no host of the stage in its shard;
  * promote: otherwise.
Every rollback reason and host failure carries the query it is attributable to: its own figures,
its denylisting, a watchdog stop naming it (or on a host where it alone was denylisted) and the
worker restart of that stop; or none (another query denylisted, a stop or restart no rolled-out
query explains, an agent restart, a collateral slowdown). With scope "query", when every reason
has a query and some queries have none, the decision is partial_rollback of those queries
(rollback_queries); their hosts' failures are not charged to the failure budget, since the
queries that caused them are removed. Anything else is a rollback of the whole pack.
The CPU duty cycle of a query on a host is its CPU ms per run over its interval in ms; the
host's watchdog allows the whole worker cpu_limit_ms per 3 s check (osquery_watchdog), so the
query may use duty_share of cpu_limit_ms / 3000 ms of CPU time per second.
"""

from operator import itemgetter

from ansible_collections.pyosquery.fleet.plugins.module_utils import gate_reasons as reasons
from ansible_collections.pyosquery.fleet.plugins.module_utils import gate_text as text
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_compare import comparison
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_hosts import USABLE, views
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import (
    WATCHDOG_CHECK_MS, GateError, query_budget, settings)
from ansible_collections.pyosquery.fleet.plugins.module_utils.impact import fleet_indicator, label, window_averages
from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule_results import (
    FIGURES, NEW, OK, figure_summaries, number)

PROMOTE, HOLD, ROLLBACK, PARTIAL = "promote", "hold", "rollback", "partial_rollback"
# what a rollback removes: only the queries whose reasons are theirs, or always the whole pack
QUERY, PACK = "query", "pack"
WORST_HOSTS = 5


# inputs

def _stage(stage):
    stage = {} if stage is None else stage
    if not isinstance(stage, dict):
        raise GateError("stage: expected a mapping (name, shard, hosts), got %s" % type(stage).__name__)
    shard = stage.get("shard")
    if isinstance(shard, str) and shard.strip().isdigit():
        shard = int(shard)
    if shard is not None and (isinstance(shard, bool) or not isinstance(shard, int) or not 0 <= shard <= 100):
        raise GateError("stage.shard: expected a whole number from 0 to 100 (or none), got %r" % (shard,))
    hosts = stage.get("hosts") or []
    if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
        raise GateError("stage.hosts: expected the list of inventory hosts targeted (resolve a pattern first, "
                        "e.g. with ansible_play_hosts), got %r" % (hosts,))
    return {"name": str(stage.get("name") or "stage"), "shard": shard or None, "hosts": hosts}


def _names(queries):
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, list) or not queries or not all(isinstance(name, str) and name for name in queries):
        raise GateError("queries: give the rolled-out queries' names as in osquery_schedule "
                        "(pack_<pack>_<query>), got %r" % (queries,))
    return queries


def _mapping(value, option):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise GateError("%s: expected a mapping of inventory host to schedule_info result, got %s"
                        % (option, type(value).__name__))
    return value


def _scope(scope):
    if scope not in (QUERY, PACK):
        raise GateError("scope: expected %s (roll back only the queries that breached) or %s (the whole pack), "
                        "got %r" % (QUERY, PACK, scope))
    return scope


def _spent(spent):
    if isinstance(spent, bool) or not isinstance(spent, int) or spent < 0:
        raise GateError("spent: expected the number of host failures earlier stages spent (0 or more), got %r"
                        % (spent,))
    return spent


# one query on one host

def _gap(seen, config):
    """Why a host's window of the query is not evidence, or None."""
    if seen is None:
        return "the query is not in its agent's schedule (pack not loaded, or excluded by shard, platform or discovery)"
    if seen["status"] not in (NEW, OK):
        return "its stats were %s during the stage (%s)" % (
            "reset" if seen["status"] == "reset" else "removed", seen["reason"] or "no reason given")
    if seen["executions"] < config["min_executions"]:
        return "it ran %s, fewer than the %d needed" % (
            text.plural(seen["executions"], "time"), config["min_executions"])
    return None


def _duty(seen, watchdog, config, budget):
    """{duty, duty_limit, watchdog_cpu_limit_ms}: the query's CPU time per second of wall time,
    what its share of the host's watchdog budget allows, and that budget (per 3 s check)."""
    cpu_limit = number(watchdog or {}, "cpu_limit_ms", "watchdog", 0) or config["fallback_cpu_limit_ms"]
    duty = None
    if seen["executions"] and seen["interval"] and seen["cpu_ms"] is not None:
        duty = seen["cpu_ms"] / seen["executions"] / (seen["interval"] * 1000.0)
    return {"duty": duty, "duty_limit": budget["duty_share"] * cpu_limit / WATCHDOG_CHECK_MS,
            "watchdog_cpu_limit_ms": cpu_limit}


def _host_query(found, name, config, budget):
    """One host's figures for one query, and the sentences of its host failures."""
    seen = found["windows"].get(name)
    gap = _gap(seen, config)
    figures = {"status": "no data" if gap else "ok", "why": gap, "executions": seen["executions"] if seen else 0,
               "runs": len(seen["runs"]) if seen else 0, "denylisted": bool(seen and seen["denylisted"])}
    failures = []
    if seen is None or seen["status"] not in (NEW, OK):
        return figures, failures, []
    figures.update(figure_summaries(seen["runs"]))
    for figure in FIGURES:
        top, allowed = figures[figure]["max"], budget[figure + "_max"]
        if top is not None and top > allowed:
            failures.append("%s on %s: its costliest run took %s of %s, over the per-run maximum of %s"
                            % (name, found["host"], text.figure(figure, top), text.FIGURE_NAMES[figure],
                               text.figure(figure, allowed)))
    figures.update(_duty(seen, found["current"].get("watchdog"), config, budget))
    if figures["duty"] is not None and figures["duty"] > figures["duty_limit"]:
        failures.append("%s on %s: its CPU duty cycle is %s (%s a run every %d s), over its share of the watchdog's "
                        "budget, %s (%s of %s per 3 s check)" % (
                            name, found["host"], text.cpu_share(figures["duty"]),
                            text.milliseconds(seen["cpu_ms"] / seen["executions"]), seen["interval"],
                            text.cpu_share(figures["duty_limit"]), text.share(budget["duty_share"]),
                            text.milliseconds(figures["watchdog_cpu_limit_ms"])))
    return figures, failures, seen["runs"]


# one query over the stage

def _query(name, stage_views, config, per_query):
    budget = query_budget(config, per_query, name)
    hosts, runs, failures, missing = {}, [], {}, {}
    for host, found in stage_views.items():
        if found["status"] != USABLE:
            missing[host] = found["reason"]
            continue
        hosts[host], host_failures, host_runs = _host_query(found, name, config, budget)
        runs.extend(dict(run, host=host) for run in host_runs)
        if host_failures:
            failures[host] = host_failures
        if hosts[host]["why"]:
            missing[host] = hosts[host]["why"]
    summary = dict(figure_summaries(runs), hosts_in_stage=len(stage_views),
                   hosts_with_data=len(stage_views) - len(missing), hosts_without_data=missing,
                   missing_share=(len(missing) / float(len(stage_views))) if stage_views else None,
                   executions=sum(figures["executions"] for figures in hosts.values()), runs=len(runs),
                   denylisted_hosts=sorted(host for host, figures in hosts.items() if figures["denylisted"]),
                   budget=budget, duty=_worst_duty(hosts),
                   impact=label(fleet_indicator([pair for pair in (window_averages(stage_views[host]["windows"][name])
                                                                   for host in hosts) if pair is not None])))
    return summary, hosts, failures, _breaches(name, summary, runs, budget)


def _worst_duty(hosts):
    """The host whose duty cycle is closest to (or furthest over) its own limit."""
    duties = [(figures["duty"] / figures["duty_limit"] if figures["duty_limit"] else float("inf"), host)
              for host, figures in hosts.items() if figures.get("duty") is not None]
    if not duties:
        return None
    host = max(duties)[1]
    return {"max": hosts[host]["duty"], "host": host, "limit": hosts[host]["duty_limit"]}


def _breaches(name, summary, runs, budget):
    """Sentences for each p95 over its budget (these roll back whatever the failure budget)."""
    sentences = []
    for figure in FIGURES:
        p95, allowed = summary[figure]["p95"], budget[figure + "_p95"]
        if p95 is not None and p95 > allowed:
            worst = max(runs, key=itemgetter(figure))
            sentences.append("%s: p95 %s per run is %s, over its budget of %s (%s on %s; costliest on %s at %s)"
                             % (name, text.FIGURE_NAMES[figure], text.figure(figure, p95), text.figure(figure, allowed),
                                text.plural(len(runs), "run"), text.plural(len({run["host"] for run in runs}), "host"),
                                worst["host"], text.figure(figure, worst[figure])))
    return sentences


# what happened to the agents

def _denylisted(seen):
    return seen is not None and bool(seen["denylisted"] or seen["newly_denylisted"])


def _culprit(named, culprits, names):
    """The one rolled-out query an event on a host belongs to, or None: the query the watchdog
    named when it stopped the worker, else the only rolled-out query denylisted there."""
    if named in names:
        return named
    return culprits[0] if not named and len(culprits) == 1 else None


def _events(stage_views, names):
    """([(query or None, rollback sentence)], {host: [(query or None, failure sentence)]}) from
    denylists, stops and restarts; the query is the one the event is attributable to."""
    hard, failures = [], {}
    for host, found in stage_views.items():
        events = found["events"]
        if events is None:
            continue
        culprits = [name for name in names if _denylisted(found["windows"].get(name))]
        for name in culprits:
            hard.append((name, "%s on %s: the agent denylisted it (a worker was stopped while it ran)" % (name, host)))
        for other in events["newly_denylisted"]:
            if other not in names:
                hard.append((None, "%s: the agent denylisted %s during the stage; the new queries may have pushed the "
                                   "worker over its limits while it ran" % (host, other)))
        stop = events["watchdog_stop"]
        culprit = _culprit(stop["query"] if stop else None, culprits, names)
        if stop:
            hard.append((culprit, "%s: the watchdog stopped the worker during the stage: %s%s" % (
                host, stop["reason"], " (running: %s)" % stop["query"] if stop["query"] else "")))
        if events["worker_restarts"]:
            failures.setdefault(host, []).append((culprit, "%s: %s during the stage%s" % (
                host, text.plural(events["worker_restarts"], "worker restart"),
                " (last exit: %s)" % events["last_exit"] if events["last_exit"] else "")))
        elif events["agent_restarted"]:     # a restart the worker restarts do not explain
            failures.setdefault(host, []).append((None, "%s: a restart during the stage: %s" % (
                host, events["restart_reason"] or "the agent restarted")))
    return hard, failures


def _failure_budget(failures, spent, config, explained=()):
    """The rollout's failure budget after this stage; a host whose failures all belong to queries
    rolled back alone (EXPLAINED) is not charged: those queries were removed for it."""
    charged = sorted(host for host, entries in failures.items() if any(query not in explained for query, _sentence in entries))
    total = spent + len(charged)
    return {"spent_before": spent, "this_stage": len(charged), "total": total, "budget": config["failure_budget"],
            "exhausted": total > config["failure_budget"], "hosts": charged,
            "explained": sorted(set(failures) - set(charged))}


def _partial(names, rollback, failures, spent, config):
    """The queries to roll back alone (scope query), or None when the whole pack goes or nothing does.

    Each rollback reason names the query it is attributable to, or None (another query denylisted,
    a stop naming no rolled-out query, a collateral slowdown). The queries with reasons go; when
    the host failures left over still exhaust the failure budget, their queries go too, unless
    one of those failures belongs to no query. If every query would go, it is the whole pack.
    """
    if any(query is None for query, _sentence in rollback):
        return None
    dropped = {query for query, _sentence in rollback}
    if _failure_budget(failures, spent, config, dropped)["exhausted"]:
        left = {query for entries in failures.values() for query, _sentence in entries if query not in dropped}
        if None in left:
            return None
        dropped.update(left)
    return sorted(dropped) if dropped and not dropped.issuperset(names) else None


def _evidence(stage, all_views, stage_views, per_query, config):
    """Hold sentences: too few hosts with usable figures."""
    if not stage_views:
        shards = ", ".join("%s %d" % (host, found["machine_shard"]) for host, found in sorted(all_views.items()))
        return ["no host of the stage is in shard %s (machine shards: %s): nothing was measured"
                % (stage["shard"], shards or "no hosts")]
    sentences = []
    for name, summary in per_query.items():
        share, missing = summary["missing_share"], summary["hosts_without_data"]
        if share > config["max_missing_share"] or not summary["hosts_with_data"]:
            sentences.append("%s: %d of %d hosts of the stage gave no usable figures (%s, %s %s allowed): %s" % (
                name, len(missing), summary["hosts_in_stage"], text.share(share),
                "more than the" if summary["hosts_with_data"] else "none left;",
                text.share(config["max_missing_share"]),
                text.listing("%s: %s" % (host, why) for host, why in sorted(missing.items()))))
    return sentences


def _ratios(figures, budget):
    """(figure / budget, label, figure, budget) for each budgeted figure a host has for a query."""
    ratios = []
    for figure in FIGURES:
        for level in ("p95", "max"):
            value, allowed = figures.get(figure, {}).get(level), budget["%s_%s" % (figure, level)]
            if value is not None and allowed:
                ratios.append((value / float(allowed), "%s %s" % (figure, level), value, allowed))
    if figures.get("duty") is not None and figures["duty_limit"]:
        ratios.append((figures["duty"] / figures["duty_limit"], "duty", figures["duty"], figures["duty_limit"]))
    return ratios


def _worst_hosts(host_figures, per_query):
    """The hosts closest to (or furthest over) a budget: each host's largest figure / budget."""
    worst = {}
    for name, hosts in host_figures.items():
        for host, figures in hosts.items():
            for ratio, figure, value, allowed in _ratios(figures, per_query[name]["budget"]):
                if host not in worst or ratio > worst[host]["ratio"]:
                    worst[host] = {"host": host, "query": name, "figure": figure, "value": value, "budget": allowed,
                                   "ratio": ratio}
    return sorted(worst.values(), key=lambda entry: (-entry["ratio"], entry["host"]))[:WORST_HOSTS]


def _host_entry(found, host_figures, failures):
    host = found["host"]
    return {"status": found["status"], "reason": found["reason"], "hostname": found["hostname"],
            "machine_shard": found["machine_shard"], "shard_from": found["shard_from"], "in_stage": found["in_stage"],
            "queries": {name: hosts[host] for name, hosts in host_figures.items() if host in hosts},
            "events": found["events"], "failures": [sentence + "." for _query, sentence in failures.get(host, [])]}


# the decision

def judge(currents, baselines=None, queries=None, stage=None, budget=None, spent=0, scope=QUERY):
    """The stage's decision object; bad input is a GateError naming the option, host or query."""
    config, per_query_budgets = settings(budget)
    names, stage, spent, scope = _names(queries), _stage(stage), _spent(spent), _scope(scope)
    currents = _mapping(currents, "currents") or {}
    all_views = views(currents, _mapping(baselines, "baselines"), names, stage)
    stage_views = {host: found for host, found in all_views.items() if found["in_stage"]}

    # every rollback reason and host failure carries the query it is attributable to, or None
    per_query, host_figures, failures, rollback = {}, {}, {}, []
    for name in names:
        per_query[name], host_figures[name], query_failures, breaches = _query(name, stage_views, config,
                                                                               per_query_budgets)
        rollback.extend((name, sentence) for sentence in breaches)
        for host, sentences in query_failures.items():
            failures.setdefault(host, []).extend((name, sentence) for sentence in sentences)
    hard, event_failures = _events(stage_views, names)
    rollback.extend(hard)
    for host, entries in event_failures.items():
        failures.setdefault(host, []).extend(entries)
    compared = comparison(all_views, names, config)
    if compared["slowdown"] and config["comparison_action"] == ROLLBACK:
        rollback.append((None, reasons.slowdown_sentence(compared, config)))    # the whole agent: no one query
    dropped = _partial(names, rollback, failures, spent, config) if scope == QUERY else None
    budget_state = _failure_budget(failures, spent, config, dropped or ())
    hold = _evidence(stage, all_views, stage_views, per_query, config)
    verdict = {"rollback": rollback, "failures": failures, "budget": budget_state, "hold": hold,
               "dropped": dropped, "names": names, "scope": scope}
    return _decision(stage, all_views, per_query, host_figures, verdict, compared, config, per_query_budgets)


def _decision(stage, all_views, per_query, host_figures, verdict, compared, config, overrides):
    hold, dropped = verdict["hold"], verdict["dropped"]
    rollback, notes = reasons.rollback_reasons(verdict)
    if compared["slowdown"] and config["comparison_action"] != ROLLBACK:
        {"hold": hold, "report": notes}[config["comparison_action"]].append(reasons.slowdown_sentence(compared, config))
    elif not compared["made"]:
        notes.append("the agent's own cost was not compared: " + compared["reason"][len("not made: "):])
    for host, found in all_views.items():
        if found["in_stage"] and not found["in_shard"]:
            notes.append("%s runs the queries although its machine shard %d (from its %s) is above the stage's shard "
                         "%s; judged with the stage" % (host, found["machine_shard"], found["shard_from"], stage["shard"]))
    decision = PARTIAL if dropped else ROLLBACK if rollback else HOLD if hold else PROMOTE
    if dropped:
        kept = [name for name in verdict["names"] if name not in dropped]
        notes = ["%s stay%s in the rollout: %s measured again on this stage without %s" % (
            text.listing(kept, limit=len(kept)), "s" if len(kept) == 1 else "", "it is" if len(kept) == 1 else "they are",
            text.listing(dropped, limit=len(dropped)))] + hold + notes
    elif decision == ROLLBACK:
        notes = hold + notes
    said = rollback if decision in (ROLLBACK, PARTIAL) else hold if decision == HOLD else reasons.promote_sentences(per_query)
    stage_hosts = [host for host, found in all_views.items() if found["in_stage"]]
    return {
        "decision": decision,
        "reasons": [sentence + "." for sentence in said],
        "notes": [sentence + "." for sentence in notes],
        "stage": {"name": stage["name"], "shard": stage["shard"], "hosts_targeted": len(all_views),
                  "hosts_in_stage": len(stage_hosts),
                  "hosts_outside_shard": sorted(host for host in all_views if host not in stage_hosts)},
        "per_query": per_query,
        "hosts": {host: _host_entry(found, host_figures, verdict["failures"]) for host, found in all_views.items()},
        "worst_hosts": _worst_hosts(host_figures, per_query),
        "comparison": compared,
        "failures": verdict["budget"],
        "scope": verdict["scope"],
        "rollback_queries": dropped or (list(verdict["names"]) if decision == ROLLBACK else []),
        "query_reasons": reasons.query_reasons(verdict),
        "settings": dict(config, queries=overrides),
    }
