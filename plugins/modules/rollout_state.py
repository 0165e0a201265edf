#!/usr/bin/python
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the rollout_state action plugin (it runs on the controller, never on a host)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rollout_state
short_description: Keep a staged rollout's state on the controller, with one lock per pack
description:
  - Reads and writes the state of one rollout of the C(pyosquery.fleet.rollout) role on the machine
    that runs C(ansible-playbook), in one directory per rollout id under O(state_dir), namely
    C(rollout.json) (status, stage reached, stages, hosts that got the pack, runs), per stage
    C(baseline.json) and C(decision.json), and at the end C(report.json) and C(report.md).
  - Every file is replaced atomically, so an interrupted run leaves the previous version.
  - A lock file per pack (C(locks/<pack>.json)) belongs to a rollout from its first run until it is
    complete or rolled back. A second rollout of the same pack is refused with a message naming the
    first one and what to do. The same rollout id run again resumes at the stage it reached; a held
    stage runs again from its stored baseline. Two runs of the same id at once are refused too
    (the owner is the C(ansible-playbook) process, with its start time against pid reuse).
  - An action plugin; needs no connection to the host it runs for. Use it with C(run_once).
version_added: 0.1.0
author:
  - pyosquery.fleet developers (@pyosquery)
options:
  state_dir:
    description: Directory on the controller holding one directory per rollout id and the C(locks/) directory.
    type: path
    required: true
  rollout_id:
    description: The rollout's id; 1-64 letters, digits, C(.), C(_) or C(-).
    type: str
    required: true
  step:
    description:
      - V(open) starts or resumes the rollout (takes the pack's lock); returns RV(state).
      - V(read) returns RV(state) and changes nothing.
      - V(baseline) records hosts' C(schedule_info) baselines for a stage; a host recorded earlier keeps
        its first baseline. Without O(baselines) it only reads. Returns RV(baselines).
      - V(push) records, before the pack goes out, the hosts that may get the rollout's queries.
      - V(decision) records a stage's decision object from the P(pyosquery.fleet.gate#filter) filter; a
        C(partial_rollback) records its C(rollback_queries) as dropped (C(state.dropped)) and the rollout
        as C(dropping).
      - V(removal) records, from O(removal), on which hosts the rollback is verified; the rollout is rolled
        back once every host it touched is. While C(dropping), only the dropped queries are checked; once
        they are gone from every touched host, the rollout is C(running) again and the stage that dropped
        them starts afresh (its earlier soak kept as C(attempt-N.*.json)).
      - V(close) writes the report, frees the pack once the rollout is complete or rolled back, and
        returns RV(report) and RV(markdown).
    type: str
    required: true
    choices: [open, read, baseline, push, decision, removal, close]
  definition:
    description:
      - With O(step=open), what must not change while the rollout id lives, a dict with the keys
        C(pack) (the pack, with C(name) and C(queries)) and C(stages) (a list of dicts, each with a unique C(name)).
      - Resuming with another definition is refused, but for O(mode=rollback), which removes what the stored one pushed.
    type: dict
  mode:
    description: With O(step=open), V(rollback) turns the rollout into the removal of what it pushed.
    type: str
    default: run
    choices: [run, rollback]
  stage_index:
    description: The stage, counted from 0, for O(step=baseline), O(step=push) and O(step=decision).
    type: int
  baselines:
    description: With O(step=baseline), the hosts' C(schedule_info) results by host name.
    type: dict
    default: {}
  hosts:
    description: With O(step=push), the hosts about to get the pack.
    type: list
    elements: str
    default: []
  decision:
    description: With O(step=decision), the decision object (its C(decision) is promote, hold, rollback or partial_rollback).
    type: dict
  removal:
    description:
      - With O(step=removal), by host name, the C(schedule_info) result read after the pack was removed
        (C(runs=false) is enough). A host counts as verified when none of the rollout's queries is in its
        C(queries); an unreachable or failed read, or a touched host missing here, is not verified.
    type: dict
attributes:
  action:
    description: An action plugin; it runs on the controller.
    support: full
  check_mode:
    description: Refused in check mode; a rollout acts on what it measures.
    support: none
  diff_mode:
    description: No diff.
    support: none
  platform:
    description: The controller, where C(ansible-playbook) runs.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Start or resume the rollout
  pyosquery.fleet.rollout_state:
    state_dir: ~/.ansible/pyosquery/rollouts
    rollout_id: detection-2024-06
    step: open
    definition:
      pack: {name: detection, queries: {listening: {query: "select * from listening_ports", interval: 300}}}
      stages: [{name: canary, hosts: canary, shard: null}]
  run_once: true
  register: rollout_open

- name: Write the report and free the pack
  pyosquery.fleet.rollout_state:
    state_dir: ~/.ansible/pyosquery/rollouts
    rollout_id: detection-2024-06
    step: close
  run_once: true
  register: rollout_closed
"""

RETURN = r"""
state:
  description: The rollout's C(rollout.json) after the step.
  returned: always
  type: dict
  contains:
    status:
      description: running, held, complete, dropping, rolling_back or rolled_back.
      type: str
    dropped:
      description:
        - Per query of the pack rolled back alone, C(query) (its name in C(osquery_schedule)), C(stage),
          C(decided), C(reasons) and C(removal) (per touched host, null once verified, else what is wrong).
        - The rollout's later stages push the pack without these queries, also after a resume.
      type: dict
    stage:
      description: Index of the first stage not promoted yet (the stage a resumed run starts at).
      type: int
    stages:
      description:
        - Per stage its name, status (pending, baselined, pushed, promoted, held, dropping, rollback), times and reasons.
        - C(attempts), per earlier soak of the stage that rolled queries back alone, its C(decided), C(reasons) and
          C(rolled_back) queries.
      type: list
      elements: dict
    touched:
      description: Every host that may have got the rollout's queries (written before each push).
      type: list
      elements: str
live:
  description:
    - The queries still in the rollout, those of the stored pack but the dropped ones, C(queries) as the pack takes
      them (name to definition) and C(intervals) as the gate and the soak take them (name in C(osquery_schedule) to
      interval).
  returned: always
  type: dict
state_path:
  description: The rollout's directory.
  returned: O(step=open)
  type: str
baselines:
  description: Every baseline recorded for the stage, by host.
  returned: O(step=baseline)
  type: dict
report:
  description: The report (also written to C(report.json)), built from the stored decision objects.
  returned: O(step=close)
  type: dict
markdown:
  description: The report as Markdown (also written to C(report.md)).
  returned: O(step=close)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyosquery.fleet.plugins.module_utils.rollout_state_spec import ARGUMENT_SPEC, REQUIRED_IF


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=False)
    module.fail_json(msg="pyosquery.fleet.rollout_state runs on the controller as an action plugin; "
                         "it was started as a module on a host instead")


if __name__ == "__main__":
    main()
