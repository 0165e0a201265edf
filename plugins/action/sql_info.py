# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sql_info's controller side: its fact joins the `pyosquery` facts earlier tasks set.

Ansible merges a module's ansible_facts into the host's facts one top-level key at a time,
so a second sql_info with fact_name would otherwise replace ansible_facts.pyosquery whole.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        result.update(self._execute_module(task_vars=task_vars))
        new = result.get("ansible_facts", {}).get("pyosquery")
        if new is not None:
            facts = dict(task_vars.get("ansible_facts", {}).get("pyosquery") or {})
            facts.update(new)
            result["ansible_facts"] = {"pyosquery": facts}
        return result
