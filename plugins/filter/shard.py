"""The shard filter: a hostname's osquery machine shard."""

DOCUMENTATION = r"""
name: shard
short_description: The osquery machine shard (0..100) of a hostname
version_added: 0.1.0
description:
  - Computes the machine shard that the agent (and osquery's C(getMachineShard)) derives from a
    host's name, so a playbook can tell which hosts a query or pack with a C(shard) key reaches.
  - The hostname is trimmed of surrounding whitespace, hashed with SHA-1 over its UTF-8 bytes,
    and the hash's first byte is scaled to 0..100 with integer division.
  - A query with C(shard) S runs on hosts whose machine shard is at most S (every host when S is 0
    or absent), so the 10 % cohort is contained in the 25 % cohort.
  - Pass the name the agent sees (C(hostname) in a P(pyosquery.fleet.schedule_info#module) result,
    or C(ansible_facts.hostname)), not the inventory name, when they differ.
positional: _input
options:
  _input:
    description: The hostname.
    type: str
    required: true
author: pyosquery.fleet developers
"""

EXAMPLES = r"""
- name: Machine shard of every host in the play
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts | map('extract', hostvars, ['ansible_facts', 'hostname'])
             | map('pyosquery.fleet.shard') | list }}"

- name: Is this host in the 25 % cohort?
  ansible.builtin.set_fact:
    in_cohort: "{{ (ansible_facts.hostname | pyosquery.fleet.shard) <= 25 }}"
"""

RETURN = r"""
_value:
  description: The machine shard, 0 to 100.
  type: int
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.module_utils.shard import machine_shard


def shard(hostname):
    """The machine shard of `hostname`, as the agent computes it."""
    try:
        return machine_shard(hostname)
    except ValueError as error:
        raise AnsibleFilterError("shard: %s" % error) from None


class FilterModule:
    """pyosquery.fleet.shard"""

    def filters(self):
        return {"shard": shard}
