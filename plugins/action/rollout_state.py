# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind pyosquery.fleet.rollout_state: the rollout's state, on the controller.

It needs no connection: it reads and writes the state directory of the machine that runs
ansible-playbook. The run's owner is the ansible-playbook process itself (every task runs in a
worker forked from it), so all tasks of one run share an owner and a second run does not.
"""

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.pyosquery.fleet.plugins.module_utils.rollout_state_spec import ARGUMENT_SPEC, REQUIRED_IF
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_report import build_report, render_markdown
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_owner import owner_of
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_store import RolloutStore, StateError, live_queries


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._task.check_mode:
            raise AnsibleActionFail("rollout_state cannot run in check mode: a rollout acts on what it measures")
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF)[1]
        store = RolloutStore(args["state_dir"])
        try:
            result.update(run_step(store, args))
            result["live"] = live_queries(result["state"])
        except StateError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        except OSError as exc:
            raise AnsibleActionFail("rollout state in %s: %s" % (store.state_dir, exc)) from exc
        result["changed"] = args["step"] not in ("read", "baseline") or bool(args["baselines"])
        return result


def run_step(store, args):
    """One step against the store; returns what the task registers."""
    rollout_id, step, index = args["rollout_id"], args["step"], args["stage_index"]
    if step == "open":
        state = store.open(rollout_id, args["definition"], owner_of(os.getppid()), args["mode"])
        return {"state": state, "state_path": store.rollout_dir(rollout_id)}
    if step == "read":
        return {"state": store.load(rollout_id)}
    if step == "baseline":
        state, baselines = store.record_baselines(rollout_id, index, {
            host: plain(result) for host, result in args["baselines"].items()})
        return {"state": state, "baselines": baselines}
    if step == "push":
        return {"state": store.record_push(rollout_id, index, args["hosts"])}
    if step == "decision":
        return {"state": store.record_decision(rollout_id, index, args["decision"])}
    if step == "removal":
        return {"state": store.record_removal(rollout_id, args["removal"])}
    report = build_report(store.load(rollout_id), store.decisions(rollout_id), store.earlier_decisions(rollout_id))
    markdown = render_markdown(report)
    return {"state": store.close(rollout_id, report, markdown), "report": report, "markdown": markdown}


def plain(result):
    """A registered module result without what Ansible added (its invocation repeats the arguments)."""
    return {key: value for key, value in result.items()
            if key not in ("invocation", "changed", "failed", "attempts") and not key.startswith("_ansible")}
