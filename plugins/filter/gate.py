"""The gate filter: promote, hold or roll back a rollout stage."""

DOCUMENTATION = r"""
name: gate
short_description: Judge a rollout stage from its hosts' schedule_info results (promote, hold, rollback or partial_rollback)
version_added: 0.1.0
description:
  - Pure judgement for C(roles/rollout), done on the controller; the returned decision object is
    what the role acts on and what its report is built from.
  - Per rolled-out query, over the stage's hosts and only from the runs and executions since
    each host's baseline (never lifetime totals), it takes the p95 and maximum of CPU ms, wall
    ms, memory growth and output bytes per execution, each host's CPU duty cycle (CPU ms per run
    over the interval) against its share of that host's watchdog CPU budget, denylisted queries,
    watchdog stops, worker and agent restarts, and the hosts without usable figures.
  - "C(rollback): a p95 over its budget, a query denylisted or a worker stopped by the watchdog
    during the stage, host failures (a host's costliest run over a maximum, its duty cycle over
    its share, a worker or agent restart) beyond C(failure_budget) counted across the whole
    rollout, or a collateral slowdown of the agent's other queries when C(comparison_action) is
    C(rollback)."
  - "C(hold): more of the stage's hosts than C(max_missing_share) without usable figures
    (unreachable, task failed, no baseline, stats reset, query absent, fewer than
    C(min_executions) runs), or no host in the stage's shard. C(promote): otherwise."
  - "C(partial_rollback) (with O(scope=query)): the rollback reasons are each attributable to one
    rolled-out query (its figures, its denylisting, a watchdog stop naming it or the worker restart
    that stop caused) and some queries have none: only those queries are rolled back
    (C(rollback_queries)); the others are to be measured again on the stage without them. A reason
    no single query explains (another query denylisted, a stop or restart naming none of them, an
    agent restart beyond the failure budget, a collateral slowdown) or every query breaching is
    C(rollback) of the whole pack."
  - With at least C(comparison_min_hosts) hosts, the agent's other queries are compared (CPU
    and wall ms per run, Mann-Whitney U one-sided with a minimum effect size) either against
    hosts outside the stage's shard in the same window or before against during the stage;
    with fewer, the result says the comparison was not made and why.
  - Every setting, its default and the reasoning behind it is in the collection's README
    (the rollout gate's settings) and in C(plugins/module_utils/gate_settings.py).
positional: _input
options:
  _input:
    description:
      - Mapping of inventory host to the P(pyosquery.fleet.schedule_info#module) result read
        after the soak with C(since) set to that host's baseline. A registered result of an
        unreachable host or a failed task (the module fails when the agent is down) counts as a
        host without figures.
    type: dict
    required: true
  baselines:
    description:
      - Mapping of inventory host to the schedule_info result read before the queries were
        pushed (the C(since) of the current result). Needed for the comparison of the agent's
        own cost; a host of the stage with no usable baseline has no usable figures.
    type: dict
  queries:
    description: Names of the rolled-out queries as in C(osquery_schedule) (C(pack_<pack>_<query>)).
    type: list
    elements: str
    required: true
  stage:
    description:
      - "C(name): for the report. C(shard): the shard (1 to 100) the queries were pushed with; hosts
        whose machine shard is above it are outside the stage and serve as the comparison's
        control group. C(hosts): the inventory hosts targeted, so a host missing from both
        mappings still counts as a host without figures. Other keys are ignored."
    type: dict
  budget:
    description:
      - "Settings over the defaults: C(cpu_ms_p95) 1000, C(cpu_ms_max) 3000, C(wall_ms_p95) 2000,
        C(wall_ms_max) 10000, C(memory_p95) 16 MiB, C(memory_max) 50 MiB, C(output_bytes_p95)
        64 KiB, C(output_bytes_max) 256 KiB, C(duty_share) 0.1, C(fallback_cpu_limit_ms) 300,
        C(min_executions) 3, C(max_missing_share) 0.1, C(failure_budget) 0,
        C(comparison_min_hosts) 5, C(comparison_alpha) 0.05, C(comparison_min_shift) 0.2,
        C(comparison_min_delta) 0.33, C(comparison_action) rollback (or hold, report)."
      - "C(queries): per query name, overrides of the figure budgets (the C(*_p95), C(*_max) and
        C(duty_share) keys). An unknown key is an error."
    type: dict
  spent:
    description: Host failures spent by the rollout's earlier stages (the C(failures.total) of the last judged stage).
    type: int
    default: 0
  scope:
    description:
      - What a rollback removes. V(query) rolls back only the queries the reasons belong to when
        that is not all of them (C(partial_rollback)); V(pack) always rolls back the whole pack.
    type: str
    choices: [query, pack]
    default: query
author: pyosquery.fleet developers
"""

EXAMPLES = r"""
- name: Judge the stage
  ansible.builtin.set_fact:
    rollout_decision: >-
      {{ stage_current | pyosquery.fleet.gate(stage_baselines,
                                               queries=['pack_rollout42_users', 'pack_rollout42_ports'],
                                               stage={'name': 'canary', 'shard': 10, 'hosts': stage_hosts},
                                               budget={'cpu_ms_p95': 500, 'failure_budget': 1},
                                               spent=rollout_failures_spent | default(0)) }}
  vars:
    stage_hosts: "{{ ansible_play_hosts_all }}"
    # inventory host -> its registered schedule_info results (ignore_unreachable / ignore_errors
    # on the tasks that read them, so unreachable and failed hosts are judged, not dropped)
    stage_current: "{{ dict(stage_hosts | zip(stage_hosts | map('extract', hostvars, '_rollout_current'))) }}"
    stage_baselines: "{{ dict(stage_hosts | zip(stage_hosts | map('extract', hostvars, '_rollout_baseline'))) }}"
  run_once: true
  delegate_to: localhost

- name: Stop here unless the stage may be promoted
  ansible.builtin.fail:
    msg: "{{ rollout_decision.decision }}: {{ rollout_decision.reasons | join(' ') }}"
  when: rollout_decision.decision != 'promote'
  run_once: true
"""

RETURN = r"""
_value:
  description: The decision object.
  type: dict
  contains:
    decision:
      description: C(promote), C(hold), C(rollback) (the whole pack) or C(partial_rollback) (C(rollback_queries) only).
      type: str
    reasons:
      description: Sentences that led to the decision, naming query, host and figure against budget.
      type: list
      elements: str
    notes:
      description: Other findings (tolerated host failures, hold reasons under a rollback, a comparison not made).
      type: list
      elements: str
    stage:
      description: C(name), C(shard), C(hosts_targeted), C(hosts_in_stage), C(hosts_outside_shard).
      type: dict
    per_query:
      description:
        - "Per query: C(hosts_in_stage), C(hosts_with_data), C(hosts_without_data) (host: why),
          C(missing_share), C(executions), C(runs), C(cpu_ms)/C(wall_ms)/C(memory)/C(output_bytes)
          each C({p50, p95, max}), C(duty) (C({max, host, limit}) or null), C(denylisted_hosts),
          C(impact) (Fleet's label), C(budget) (the figure budgets applied)."
      type: dict
    hosts:
      description:
        - "Per inventory host: C(status) (ok, unreachable, failed, no_baseline), C(reason),
          C(hostname), C(machine_shard), C(in_stage), C(queries) (per query: C(status), C(why),
          C(executions), C(runs), the figures' C({p50, p95, max}), C(duty), C(duty_limit),
          C(denylisted)), C(events) (C(watchdog_stop), C(worker_restarts), C(agent_restarted),
          C(newly_denylisted), ...), C(failures)."
      type: dict
    worst_hosts:
      description: Up to 5 hosts, each with its figure closest to or furthest over its budget (C(host), C(query), C(figure), C(value), C(budget), C(ratio)).
      type: list
      elements: dict
    comparison:
      description:
        - "C(made), C(reason), C(design) (control or before/during), C(hosts_stage), C(hosts_control),
          C(figures) (per figure: the Mann-Whitney U result with C(p_value), C(median_shift),
          C(cliffs_delta), C(common_language), C(slowdown), C(gates)), C(slowdown), C(action)."
      type: dict
    failures:
      description:
        - C(spent_before), C(this_stage), C(total) (pass it as C(spent) to the next stage), C(budget), C(exhausted),
          C(hosts) (charged), C(explained) (hosts whose failures all belong to queries rolled back alone, not charged).
      type: dict
    rollback_queries:
      description: The queries to remove, every one for C(rollback), some for C(partial_rollback), none otherwise.
      type: list
      elements: str
    query_reasons:
      description: Per rolled-out query, the rollback reasons and host failures attributed to it (queries without any left out).
      type: dict
    scope:
      description: The O(scope) applied.
      type: str
    settings:
      description: The settings applied, defaults included.
      type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate import judge
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import GateError


def gate(currents, baselines=None, queries=None, stage=None, budget=None, spent=0, scope="query"):
    """The stage's decision object."""
    try:
        return judge(currents, baselines, queries=queries, stage=stage, budget=budget, spent=spent, scope=scope)
    except GateError as error:
        raise AnsibleFilterError("gate: %s" % error) from None


class FilterModule:
    """pyosquery.fleet.gate"""

    def filters(self):
        return {"gate": gate}
