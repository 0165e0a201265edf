"""The schedule_summary filter: each query's cost across hosts."""

DOCUMENTATION = r"""
name: schedule_summary
short_description: Per query, its cost across hosts from pyosquery.fleet.schedule_info results
version_added: 0.1.0
description:
  - Pools every host's recent runs of each query (C(osquery_schedule_runs)) and reports, per
    query, the hosts that ran it, their executions, and the p50, p95 and maximum of CPU ms, wall
    ms, memory growth and output bytes per execution, with the hosts where it is denylisted.
  - When a result has C(deltas) (it was read with C(since)), only the runs and executions since
    that baseline count, and a query whose stats were reset or that was removed since counts as
    no data on that host. Without deltas the query's recent runs and lifetime executions count.
  - Percentiles are nearest-rank, so each figure is a run that happened (see
    C(plugins/module_utils/stats.py)). A host whose runs were not read (C(runs=false)) adds its
    average per execution as one sample.
  - Hosts whose task failed or that were unreachable are left out (the rollout gate reports them).
positional: _input
options:
  _input:
    description: Mapping of host name to a P(pyosquery.fleet.schedule_info#module) result.
    type: dict
    required: true
  queries:
    description: Names of the queries to summarise (as in C(osquery_schedule)); default every query any host reports.
    type: list
    elements: str
author: pyosquery.fleet developers
"""

EXAMPLES = r"""
- name: Read the schedule of every host
  pyosquery.fleet.schedule_info:
  register: schedule

- name: Cost of each query across the fleet
  ansible.builtin.debug:
    msg: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'schedule')))
             | pyosquery.fleet.schedule_summary }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: Mapping of query name to its summary.
  type: dict
  contains:
    hosts:
      description: Hosts that report the query with usable figures.
      type: int
    executions:
      description: Executions on those hosts (since the baseline when results have deltas).
      type: int
    runs:
      description: Runs the percentiles were taken over.
      type: int
    cpu_ms:
      description: "C(p50), C(p95) and C(max) of user + system CPU ms per execution (null without runs)."
      type: dict
    wall_ms:
      description: "C(p50), C(p95) and C(max) of wall-clock ms per execution."
      type: dict
    memory:
      description: "C(p50), C(p95) and C(max) of the worker's resident memory growth per execution, bytes."
      type: dict
    output_bytes:
      description: "C(p50), C(p95) and C(max) of output bytes per execution."
      type: dict
    denylisted_hosts:
      description: Hosts where the agent has the query denylisted, sorted.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.module_utils.filter_input import (
    InputError, per_host, query_list, results_by_host)
from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule_results import (
    RESET, REMOVED, figure_summaries, query_names, window)

NAME = "schedule_summary"


def _summary(windows):
    hosts, executions, runs, denylisted = 0, 0, [], []
    for host in sorted(windows):
        seen = windows[host]
        if seen is None or seen["status"] in (RESET, REMOVED):
            continue
        hosts += 1
        executions += seen["executions"]
        runs.extend(seen["runs"])
        if seen["denylisted"]:
            denylisted.append(host)
    return dict(figure_summaries(runs), hosts=hosts, executions=executions, runs=len(runs), denylisted_hosts=denylisted)


def schedule_summary(results, queries=None):
    """Per query: hosts, executions, p50/p95/max of each figure per execution, denylisted hosts."""
    try:
        usable = results_by_host(results, NAME)[0]
        names = query_list(queries, NAME)
        if names is None:
            names = sorted(set().union(*per_host(usable, NAME, query_names).values()))
        return {name: _summary(per_host(usable, NAME, window, name)) for name in names}
    except InputError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    """pyosquery.fleet.schedule_summary"""

    def filters(self):
        return {NAME: schedule_summary}
