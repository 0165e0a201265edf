# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of pyosquery.fleet.rollout_state, shared by its action plugin and its documentation module."""

from __future__ import annotations

STEPS = ["open", "read", "baseline", "push", "decision", "removal", "close"]

ARGUMENT_SPEC = {
    "state_dir": {"type": "path", "required": True},
    "rollout_id": {"type": "str", "required": True},
    "step": {"type": "str", "required": True, "choices": STEPS},
    "definition": {"type": "dict"},
    "mode": {"type": "str", "default": "run", "choices": ["run", "rollback"]},
    "stage_index": {"type": "int"},
    "baselines": {"type": "dict", "default": {}},
    "hosts": {"type": "list", "elements": "str", "default": []},
    "decision": {"type": "dict"},
    "removal": {"type": "dict"},
}

# step -> the options it cannot do without
REQUIRED_IF = [
    ["step", "open", ["definition"]],
    ["step", "baseline", ["stage_index"]],
    ["step", "push", ["stage_index"]],
    ["step", "decision", ["stage_index", "decision"]],
    ["step", "removal", ["removal"]],
]
