#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pack
short_description: Add, change or remove a query pack, or one query of it, on a pyosquery host
version_added: 0.1.0
description:
  - Manages C(<packs_dir>/<name>.conf), one pack in osquery's pack format, which the agent's config
    loads through the glob C(/etc/pyosquery/packs/*.conf) of its C(packs) key and names after the
    file, so the pack's queries are scheduled as C(pack_<name>_<query>).
  - Without O(query) the task describes the whole pack (O(queries) and the pack-level keys);
    with O(query) it adds, changes or removes that one query and keeps the rest of the file.
  - The new file is checked with the agent's own C(pyosqueryctl pack-check) (schema, every query
    prepared against the agent's tables, platform and version rules) before it replaces anything;
    a failed check fails the task naming the pack and the query and leaves the old file.
  - After a change the agent reloads its config (SIGHUP, never a restart) and the task waits until
    the agent has loaded it, so the next task finds the change in C(osquery_schedule).
  - The file is rewritten as plain JSON with sorted keys (comments in a hand-written file are not
    kept); content equal to the file's is no change, whatever the file's formatting.
author:
  - pyosquery.fleet developers (@pyosquery)
options:
  name:
    description:
      - The pack's name, which is the file's name without C(.conf).
    type: str
    required: true
  state:
    description:
      - V(present) writes the pack (or the query), V(absent) removes the pack file (or only the query).
    type: str
    choices: [present, absent]
    default: present
  query:
    description:
      - One query of the pack, by its name in the pack. With it, O(sql) and the other query options
        describe that query, and the other queries and the pack-level keys stay as they are.
      - The query's entry is exactly what the task gives; options not given are left out (the
        agent's defaults apply).
    type: str
  sql:
    description:
      - The SQL of O(query) (the C(query) key of osquery's pack format). Required with O(query)
        and O(state=present).
    type: str
  interval:
    description: Seconds between runs of O(query).
    type: int
  snapshot:
    description: Log O(query)'s whole result each run instead of the differences.
    type: bool
  removed:
    description: Log O(query)'s removed rows too (differential results).
    type: bool
  description:
    description: What O(query) is for.
    type: str
  denylist:
    description: Whether the watchdog may denylist O(query) (osquery's default is true).
    type: bool
  platform:
    description:
      - Platforms the query (with O(query)) or the whole pack (without it) runs on, e.g. C(linux), C(posix).
    type: str
  version:
    description:
      - Minimum agent version for the query (with O(query)) or the whole pack (without it).
    type: str
  shard:
    description:
      - Run the query (with O(query)) or the whole pack (without it) only on hosts whose machine
        shard is at most this (1 to 100), to slow-roll it inside a group; see the
        C(pyosquery.fleet.shard) filter.
    type: int
  queries:
    description:
      - Without O(query), the pack's queries, name to query in osquery's pack format
        (C(query), C(interval), C(snapshot), C(removed), C(platform), C(version), C(shard),
        C(description), C(denylist), C(startup_priority)). The pack then holds exactly these.
    type: dict
  discovery:
    description:
      - Without O(query), the pack's discovery queries; the pack runs only where each returns a row.
    type: list
    elements: str
  packs_dir:
    description: Where the agent's config finds pack files.
    type: path
    default: /etc/pyosquery/packs
  flagfile:
    description: The agent's flagfile, for the check (C(pack_delimiter)) and for C(pyosqueryctl reload).
    type: path
    default: /etc/pyosquery/pyosquery.flags
  pyosqueryctl:
    description: The agent's control command, which checks the pack (C(pack-check)) and reloads it without systemd.
    type: path
    default: /opt/pyosquery/bin/pyosqueryctl
  reload:
    description:
      - Reload the agent after a change. Where systemd runs the C(pyosqueryd) unit this is
        C(systemctl reload pyosqueryd), else C(pyosqueryctl reload) (SIGHUP to the pidfile's pid).
        An agent that is not running gets no reload and loads the file when it starts.
    type: bool
    default: true
  reload_timeout:
    description:
      - Seconds to wait, after the reload, for the agent to report a new C(config_hash); 0 does not wait.
      - The agent reloads between two scheduled queries, within about a second unless a long
        query is running. The task fails if it has not reloaded in time.
    type: float
    default: 30
extends_documentation_fragment:
  - pyosquery.fleet.agent
attributes:
  check_mode:
    support: full
    description: Nothing is written or reloaded; the new content is still checked with pack-check.
  diff_mode:
    support: full
    description: Shows the pack file before and after.
notes:
  - The file is owned by root with mode 0600; O(packs_dir) is created with mode 0700 when missing.
  - A pack managed by this module should not also be templated by the C(pyosquery.fleet.agent)
    role; give rollouts packs of their own.
seealso:
  - module: pyosquery.fleet.schedule_info
'''

EXAMPLES = r'''
- name: One query, on the first 10% of the machine shards
  pyosquery.fleet.pack:
    name: rollout_ports
    query: listening
    sql: SELECT pid, port, address FROM listening_ports
    interval: 300
    shard: 10
  become: true

- name: The whole pack
  pyosquery.fleet.pack:
    name: baseline
    platform: linux
    queries:
      procs:
        query: SELECT pid, name FROM processes
        interval: 600
        snapshot: true
      users:
        query: SELECT uid, username FROM users
        interval: 3600
  become: true

- name: Remove one query
  pyosquery.fleet.pack:
    name: rollout_ports
    query: listening
    state: absent
  become: true

- name: Remove the pack
  pyosquery.fleet.pack:
    name: rollout_ports
    state: absent
  become: true
'''

RETURN = r'''
path:
  description: The pack file.
  returned: always
  type: str
  sample: /etc/pyosquery/packs/rollout_ports.conf
pack:
  description: The pack as the file now holds it (in check mode, as it would); null when there is no file.
  returned: success
  type: dict
  sample: {"queries": {"listening": {"query": "SELECT pid, port FROM listening_ports", "interval": 300}}}
reload:
  description: The command that reloaded the agent; null when nothing changed, O(reload=false), in check
    mode, or when no agent runs.
  returned: success
  type: str
  sample: pyosqueryctl --flagfile /etc/pyosquery/pyosquery.flags reload
config_hash:
  description: The agent's config_hash once it loaded the change; null when the module did not wait.
  returned: success
  type: str
  sample: 0f5c1e2d3b4a59687766554433221100ffeeddcc
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import (
    AgentError, connection_argument_spec)
from ansible_collections.pyosquery.fleet.plugins.module_utils.pack_deploy import PackDeployError, apply
from ansible_collections.pyosquery.fleet.plugins.module_utils.pack_file import PackFileError


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        query=dict(type="str"), sql=dict(type="str"), interval=dict(type="int"), snapshot=dict(type="bool"),
        removed=dict(type="bool"), description=dict(type="str"), denylist=dict(type="bool"),
        platform=dict(type="str"), version=dict(type="str"), shard=dict(type="int"),
        queries=dict(type="dict"), discovery=dict(type="list", elements="str"),
        packs_dir=dict(type="path", default="/etc/pyosquery/packs"),
        flagfile=dict(type="path", default="/etc/pyosquery/pyosquery.flags"),
        pyosqueryctl=dict(type="path", default="/opt/pyosquery/bin/pyosqueryctl"),
        reload=dict(type="bool", default=True),
        reload_timeout=dict(type="float", default=30.0))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("query", "queries"), ("query", "discovery")])
    try:
        result = apply(module)
    except (PackFileError, PackDeployError, AgentError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
