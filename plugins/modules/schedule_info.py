#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: schedule_info
short_description: What the agent's scheduled queries cost, and what changed since an earlier reading
version_added: 0.1.0
description:
  - Reads the running pyosquery agent's C(osquery_schedule) (osquery's counters per scheduled query),
    C(osquery_schedule_runs) (its last 100 executions per query), C(osquery_info) and
    C(osquery_watchdog) over the agent's extension socket.
  - Returns the raw figures and per-execution averages, no judgement; the collection's filters
    (C(pyosquery.fleet.schedule_summary), C(pyosquery.fleet.gate)) judge them.
  - Given an earlier result in O(since), also returns the deltas since then. The agent keeps the
    counters across restarts, so a restart is flagged but the figures stay; a query whose SQL
    changed, or whose counters went down (a new store), is C(reset) and carries no figures.
    No delta is negative.
author:
  - pyosquery.fleet developers (@pyosquery)
options:
  queries:
    description:
      - Names of the scheduled queries to read, as C(osquery_schedule) names them
        (C(pack_<pack>_<query>) for a pack's query). Default is every query.
      - Names that are not scheduled are listed in RV(missing).
    type: list
    elements: str
  since:
    description:
      - An earlier result of this module for this host (the whole registered dict). With it the
        result has RV(deltas).
    type: dict
  runs:
    description:
      - Also read C(osquery_schedule_runs), each query's recent executions (C(runs) of each query).
    type: bool
    default: true
extends_documentation_fragment:
  - pyosquery.fleet.agent
  - pyosquery.fleet.attributes.info_module
seealso:
  - module: pyosquery.fleet.sql_info
'''

EXAMPLES = r'''
- name: Baseline
  pyosquery.fleet.schedule_info:
  become: true
  register: baseline

- name: Some time later, what the rollout's queries cost since the baseline
  pyosquery.fleet.schedule_info:
    queries: [pack_rollout_ports_listening]
    since: "{{ baseline }}"
  become: true
  register: now

- name: Say when the agent restarted meanwhile
  ansible.builtin.debug:
    msg: "{{ now.deltas.restart_reason }}"
  when: now.deltas.restarted
'''

RETURN = r'''
collected_at:
  description: Host time (epoch seconds) just before C(osquery_schedule) was read.
  returned: success
  type: float
  sample: 1796032669.52
hostname:
  description: The host's name (C(socket.gethostname())).
  returned: success
  type: str
  sample: host-3
agent:
  description: From C(osquery_info) (C(pid) and C(start_time) are the worker's).
  returned: success
  type: dict
  contains:
    version:
      description: The agent's version.
      type: str
      returned: success
    pid:
      description: Process id answering the socket (the worker).
      type: int
      returned: success
    watcher:
      description: The watcher's pid, -1 without a watchdog.
      type: int
      returned: success
    start_time:
      description: When that process started (epoch seconds).
      type: int
      returned: success
    instance_id:
      description: Kept in the agent's store; changes when the store is new.
      type: str
      returned: success
    uuid:
      description: The host's uuid.
      type: str
      returned: success
    config_hash:
      description: Hash of the loaded config and packs; changes when a reload loads changed files.
      type: str
      returned: success
    config_valid:
      description: 1 when the config loaded.
      type: int
      returned: success
  sample: {"version": "0.1.0", "pid": 812, "watcher": 810, "start_time": 1796032669, "config_valid": 1}
watchdog:
  description: Every column of C(osquery_watchdog) (C(worker_restarts), C(last_stop_reason),
    C(last_denylisted_query), C(cpu_limit_ms), C(memory_limit_mb), ...); empty without a daemon.
  returned: success
  type: dict
  sample: {"worker_restarts": 0, "last_stop_reason": "", "cpu_limit_ms": 600, "memory_limit_mb": 200}
queries:
  description:
    - One entry per C(osquery_schedule) row, keyed by its name, with every column of the row
      (C(executions), C(wall_time_ms), C(user_time), C(system_time), C(average_memory), C(output_size),
      C(denylisted), ...), plus the keys below.
  returned: success
  type: dict
  contains:
    per_execution:
      description: Lifetime averages C(cpu_ms) (user + system), C(wall_ms), C(memory) (the agent's
        average), C(output_bytes); null before the first execution.
      type: dict
      returned: success
    runs:
      description: The recent executions, oldest first, each with C(started), C(lateness_ms), C(wall_ms),
        C(user_ms), C(system_ms), C(cpu_ms), C(memory), C(rows), C(output_size).
      type: list
      elements: dict
      returned: when O(runs=true)
  sample: {"pack_base_procs": {"name": "pack_base_procs", "executions": 12, "interval": 60,
           "per_execution": {"cpu_ms": 31.5, "wall_ms": 40.1, "memory": 0, "output_bytes": 5120.0}, "runs": []}}
missing:
  description: Names in O(queries) that C(osquery_schedule) does not list (not loaded yet, or not for this host).
  returned: success
  type: list
  elements: str
  sample: []
deltas:
  description:
    - Null without O(since). Else what happened since that result; C(restarted) and
      C(restart_reason) say whether and why the agent or its worker restarted,
      C(worker_restarts) counts the worker restarts since the baseline.
    - Per query, C(status) is C(ok), C(new) (not in the baseline, so its whole counters), C(reset)
      (SQL changed or counters went down; no figures) or C(removed); with C(reason), and
      C(executions), C(cpu_ms), C(wall_ms), C(output_bytes) (totals over the new executions),
      C(per_execution) (memory from the new runs when read, else the agent's average),
      C(denylisted), C(newly_denylisted), and C(runs) (those started after the baseline).
  returned: success
  type: dict
  sample: {"since": 1796032600.1, "restarted": false, "restart_reason": null, "worker_restarts": 0,
           "queries": {"pack_base_procs": {"status": "ok", "reason": null, "executions": 2, "cpu_ms": 61.0,
                                            "wall_ms": 80.0, "output_bytes": 10240, "denylisted": false,
                                            "newly_denylisted": false, "runs": []}}}
'''

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyosquery.fleet.plugins.module_utils import deltas, schedule
from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import (
    AgentClient, AgentError, connection_argument_spec)


def collect(params):
    """The module's result: the tables read and shaped, and the deltas when `since` is given."""
    names = params["queries"]
    with AgentClient.from_params(params) as client:
        tables = schedule.read_tables(client, names, params["runs"])
    result = schedule.shape(tables, socket.gethostname(), names)
    result["deltas"] = deltas.compute(result, params["since"], names) if params["since"] else None
    return result


def shown_args(params):
    """The task's arguments as the result shows them, `since` cut to what identifies it.

    A result registered and passed back as `since` would otherwise carry its own baseline, and
    a chain of readings would grow with every step.
    """
    shown = dict(params)
    if shown["since"]:
        shown["since"] = dict((key, shown["since"].get(key)) for key in ("hostname", "collected_at"))
    return shown


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(queries=dict(type="list", elements="str"),
                         since=dict(type="dict"),
                         runs=dict(type="bool", default=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = collect(module.params)
    except AgentError as error:
        module.fail_json(msg=str(error), error=error.kind)
    except deltas.BaselineError as error:
        module.fail_json(msg=str(error), error="bad_baseline")
    module.exit_json(changed=False, invocation=dict(module_args=shown_args(module.params)), **result)


if __name__ == "__main__":
    main()
