# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout_soaked filter: whether a host's poll is enough to judge its stage."""

DOCUMENTATION = r"""
name: rollout_soaked
short_description: Whether a host has soaked long enough for its rollout stage to be judged
version_added: 0.1.0
description:
  - Used by the C(pyosquery.fleet.rollout) role as the C(until) of its soak, on a
    P(pyosquery.fleet.schedule_info#module) result read with C(since) set to the host's baseline.
  - True at once when the agent or its worker restarted, the watchdog stopped the worker, or a
    rolled-out query was denylisted since the baseline (the gate acts on those whatever comes next).
  - Otherwise true when the watchdog enforces its limits (its delay after the worker's start has
    passed), O(soak_min) seconds have passed, and every rolled-out query in the host's schedule ran
    O(min_executions) times since the baseline. A host whose schedule holds none of them waits as
    long as O(min_executions) runs of the slowest query take.
  - False for a failed or unreachable poll.
positional: _input
options:
  _input:
    description: The registered C(schedule_info) result.
    type: dict
    required: true
  intervals:
    description: The rolled-out queries' names in C(osquery_schedule), with their intervals in seconds.
    type: dict
    required: true
  min_executions:
    description: Runs of each query needed since the baseline.
    type: int
    required: true
  soak_min:
    description: Seconds since the baseline before a host counts as soaked.
    type: int
    default: 0
author: pyosquery.fleet developers (@pyosquery)
"""

EXAMPLES = r"""
- name: Soak
  pyosquery.fleet.schedule_info:
    since: "{{ baseline }}"
  register: poll
  until: "poll | pyosquery.fleet.rollout_soaked({'pack_demo_ports': 10}, 3)"
  retries: 60
  delay: 5
"""

RETURN = r"""
_value:
  description: Whether the poll is enough.
  type: bool
"""

from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_soak import soaked


def rollout_soaked(poll, intervals, min_executions, soak_min=0):
    """Whether POLL is enough to judge the stage."""
    return soaked(poll, intervals, min_executions, soak_min)


class FilterModule:
    """pyosquery.fleet.rollout_soaked"""

    def filters(self):
        return {"rollout_soaked": rollout_soaked}
