#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: profile_info
short_description: Profile queries on a host with pyosquery-profile, scores and figures back
version_added: 0.1.0
description:
  - Runs the agent's C(pyosquery-profile) (osquery's C(profile.py) for C(pyosqueryi)) on the host.
    Each query runs in a fresh C(pyosqueryi) process that the tool samples, and is scored on
    C(utilization) (mean CPU %), C(cpu_time) (user + system seconds), C(memory) (resident bytes),
    C(fds) (open descriptors) and C(duration) (wall seconds), each ranked 0 (best) to 3 (worst)
    against osquery's thresholds or O(thresholds).
  - The queries run in their own process, not in the daemon, so profiling does not disturb the
    agent's schedule, and works where no agent runs.
  - The task fails when a query fails under the profiler (bad SQL, killed after O(timeout)),
    naming the query and the reason; the other queries' results are still returned.
author:
  - pyosquery.fleet developers (@pyosquery)
options:
  queries:
    description:
      - The queries to profile, name to SQL. Their results carry these names.
      - One of O(queries) and O(pack) is required.
    type: dict
  pack:
    description:
      - Profile the queries of this pack on the host (C(<packs_dir>/<pack>.conf)); their results
        carry the names C(osquery_schedule) gives them (C(pack_<pack>_<query>)).
    type: str
  packs_dir:
    description: Where the pack files are.
    type: path
    default: /etc/pyosquery/packs
  rounds:
    description: Profile each query this many times, each in a fresh process, and average.
    type: int
    default: 1
  count:
    description: Run the query this many times within each profiled process.
    type: int
    default: 1
  timeout:
    description: Kill a query's process after this many seconds; 0 never does.
    type: float
    default: 0
  delay:
    description: Seconds the profiled process sleeps before and after the query (osquery's C(profile_delay)).
    type: float
    default: 1.0
  interval:
    description: Seconds between two samples of the profiled process.
    type: float
    default: 0.5
  thresholds:
    description:
      - Per metric (C(utilization), C(cpu_time), C(memory), C(fds), C(duration)), three strictly
        increasing limits (warn, error, critical) for the ranks; osquery's defaults otherwise.
    type: dict
  pyosquery_profile:
    description: The agent's profiler.
    type: path
    default: /opt/pyosquery/bin/pyosquery-profile
extends_documentation_fragment:
  - pyosquery.fleet.attributes.info_module
seealso:
  - module: pyosquery.fleet.schedule_info
'''

EXAMPLES = r'''
- name: What would this query cost on the canary hosts?
  pyosquery.fleet.profile_info:
    queries:
      listening: SELECT pid, port FROM listening_ports
    rounds: 3
  become: true
  register: cost

- name: Stop when one ranks worse than 1 anywhere
  ansible.builtin.assert:
    that: cost.profile.listening.worst <= 1
    fail_msg: "{{ cost.profile.listening.scores }}"

- name: Every query of a pack on the host
  pyosquery.fleet.profile_info:
    pack: rollout_ports
  become: true
'''

RETURN = r'''
profile:
  description: Per query, its ranks and the measured figures.
  returned: success, and on failure when the profiler ran
  type: dict
  contains:
    sql:
      description: The query (null for a pack's queries).
      type: str
      returned: always
    scores:
      description: Rank per metric, 0 (best) to 3 (worst).
      type: dict
      returned: always
    figures:
      description: The value per metric (utilization %, cpu_time s, memory bytes, fds, duration s); -1 when
        the query failed.
      type: dict
      returned: always
    worst:
      description: The highest rank of the query.
      type: int
      returned: always
    failed:
      description: Whether the query failed under the profiler.
      type: bool
      returned: always
    errors:
      description: What the profiler reported for the query.
      type: list
      elements: str
      returned: always
  sample: {"listening": {"sql": "SELECT pid, port FROM listening_ports", "worst": 2, "failed": false,
           "scores": {"utilization": 1, "cpu_time": 0, "memory": 2, "fds": 0, "duration": 0},
           "figures": {"utilization": 9.9, "cpu_time": 0.05, "memory": 17448960, "fds": 3, "duration": 0.3},
           "errors": []}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyosquery.fleet.plugins.module_utils import profile


def main():
    module = AnsibleModule(
        argument_spec=dict(
            queries=dict(type="dict"), pack=dict(type="str"),
            packs_dir=dict(type="path", default="/etc/pyosquery/packs"),
            rounds=dict(type="int", default=1), count=dict(type="int", default=1),
            timeout=dict(type="float", default=0.0), delay=dict(type="float", default=1.0),
            interval=dict(type="float", default=0.5), thresholds=dict(type="dict"),
            pyosquery_profile=dict(type="path", default="/opt/pyosquery/bin/pyosquery-profile")),
        mutually_exclusive=[("queries", "pack")], required_one_of=[("queries", "pack")],
        supports_check_mode=True)
    try:
        results = profile.run(module)
    except profile.ProfileError as error:
        module.fail_json(msg=str(error))
    failed = profile.failure_message(results)
    if failed:
        module.fail_json(msg=failed, profile=results)
    module.exit_json(changed=False, profile=results)


if __name__ == "__main__":
    main()
