# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout_plan filter: the rollout role's variables, checked and turned into its stages."""

DOCUMENTATION = r"""
name: rollout_plan
short_description: Check a rollout's pack and stages and plan each stage
version_added: 0.1.0
description:
  - Used by the C(pyosquery.fleet.rollout) role. Checks O(_input) (the role's C(rollout_pack)) and
    O(stages) with messages that name the variable at fault (for example C(rollout_stages[2].shard)),
    and returns the plan of each stage.
  - A host keeps the widest shard any stage so far gave it, so a later, narrower stage never takes
    the queries away from a host; cohorts nest because the agent runs a pack with shard S when its
    machine shard is at most S.
positional: _input
options:
  _input:
    description: The pack, C(name) and C(queries) (each with C(query) and C(interval)), plus any other pack keys but C(shard).
    type: dict
    required: true
  stages:
    description: The stages, each with C(name), C(hosts) and optionally C(shard), C(soak_min), C(soak_timeout), C(budget).
    type: list
    elements: dict
    required: true
  hosts:
    description: Per stage, the hosts of the play that its C(hosts) pattern matches.
    type: list
    elements: list
    required: true
  defaults:
    description: C(soak_min), C(soak_timeout), C(poll_interval) and C(budget) for stages that do not set their own.
    type: dict
    required: true
author: pyosquery.fleet developers (@pyosquery)
"""

EXAMPLES = r"""
- name: Plan the rollout
  ansible.builtin.set_fact:
    plan: >-
      {{ rollout_pack | pyosquery.fleet.rollout_plan(rollout_stages, stage_hosts,
           {'soak_min': 0, 'soak_timeout': 1800, 'poll_interval': 15, 'budget': {}}) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    pack:
      description: The pack as given.
      type: dict
    queries:
      description: The rolled-out queries' names in C(osquery_schedule) (C(pack_<pack>_<query>)), with their intervals.
      type: dict
    stages:
      description:
        - Per stage C(index), C(name), C(pattern), C(hosts), C(shard), C(host_shard) (per host, the shard its
          copy of the pack gets, null for none), C(soak_min), C(soak_timeout), C(poll_interval), C(retries),
          C(min_executions) and C(budget) (the gate's settings for the stage).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_plan import PlanError, plan


def rollout_plan(pack, stages, hosts, defaults):
    """The checked plan of a rollout."""
    try:
        return plan(pack, stages, hosts, defaults)
    except PlanError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    """pyosquery.fleet.rollout_plan"""

    def filters(self):
        return {"rollout_plan": rollout_plan}
