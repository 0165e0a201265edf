#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: sql_info
short_description: Run read-only SQL in the running pyosquery agent
version_added: 0.1.0
description:
  - Runs one SQL query in the pyosquery agent running on the host, over its extension socket,
    and returns the rows.
  - The agent's SQL is read-only (its authorizer refuses writes, C(ATTACH) and C(PRAGMA) writes),
    so the task never changes the host and reports C(changed=false).
  - Optionally stores the rows as a fact, C(ansible_facts.pyosquery.<fact_name>); facts of several
    tasks add up under C(ansible_facts.pyosquery).
author:
  - pyosquery.fleet developers (@pyosquery)
options:
  query:
    description:
      - The SQL to run, in osquery's dialect (SQLite with the agent's tables).
    type: str
    required: true
  typed:
    description:
      - Convert values by the column types the agent declares (C(INTEGER), C(BIGINT) and C(DOUBLE)
        become numbers, an empty value in such a column becomes C(null)); values of expressions
        with no declared type become numbers when they are numbers written canonically.
      - With V(false) every value is a string, as osquery sends them and C(osqueryi --json) prints them.
    type: bool
    default: true
  fact_name:
    description:
      - Also return the rows as the fact C(ansible_facts.pyosquery.<fact_name>).
    type: str
extends_documentation_fragment:
  - pyosquery.fleet.agent
  - pyosquery.fleet.attributes.info_module
attributes:
  facts:
    support: full
    description: With O(fact_name), the rows are returned under C(ansible_facts.pyosquery).
  action:
    support: full
    description: An action plugin merges this task's fact into the C(pyosquery) facts that earlier tasks set.
seealso:
  - module: pyosquery.fleet.schedule_info
'''

EXAMPLES = r'''
- name: Listening ports on the host
  pyosquery.fleet.sql_info:
    query: SELECT pid, port, address FROM listening_ports WHERE port < 1024
  become: true
  register: ports

- name: OS and agent version as facts
  pyosquery.fleet.sql_info:
    query: SELECT name, version FROM os_version
    fact_name: os_version
  become: true

- name: Use the fact
  ansible.builtin.debug:
    msg: "{{ ansible_facts.pyosquery.os_version[0].version }}"
'''

RETURN = r'''
rows:
  description: The rows, one dict per row, keyed by column name.
  returned: success
  type: list
  elements: dict
  sample: [{"pid": 812, "port": 22, "address": "0.0.0.0"}]
columns:
  description: The column names in the order of the result.
  returned: success
  type: list
  elements: str
  sample: ["pid", "port", "address"]
ansible_facts:
  description: With O(fact_name), the rows under C(pyosquery.<fact_name>).
  returned: when O(fact_name) is set
  type: dict
  sample: {"pyosquery": {"os_version": [{"name": "Debian GNU/Linux", "version": "12 (bookworm)"}]}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import (
    AgentClient, AgentError, connection_argument_spec)
from ansible_collections.pyosquery.fleet.plugins.module_utils.rows import typed_rows


def run_query(params):
    """(rows, column names) of the task's query."""
    with AgentClient.from_params(params) as client:
        rows = client.query(params["query"])
        columns = client.columns(params["query"])
    return (typed_rows(rows, columns) if params["typed"] else rows), [name for name, _type in columns]


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(query=dict(type="str", required=True),
                         typed=dict(type="bool", default=True),
                         fact_name=dict(type="str"))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        rows, columns = run_query(module.params)
    except AgentError as error:
        module.fail_json(msg=str(error), error=error.kind)
    result = dict(changed=False, rows=rows, columns=columns)
    if module.params["fact_name"]:
        result["ansible_facts"] = dict(pyosquery={module.params["fact_name"]: rows})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
