"""Ansible callback for the fleet benchmarks: where a playbook's time goes, and what it changed.

Enabled only by benchmarks/lab.py (ANSIBLE_CALLBACKS_ENABLED=task_times); writes one JSON file
to $BENCH_TASK_TIMES at the end of the play: each task's wall time (from its start to the next
task's start, as the linear strategy runs them, so the times add up to the run) and per-host
result counts, when each host's change was reported, plus the recap's per-host totals.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: each task's wall time and result counts, as JSON, for benchmarks/
description: Writes the file named by the environment variable BENCH_TASK_TIMES at the end of the play.
requirements: [enable in the configuration]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._loaded = time.time()
        self._tasks = []

    def _end_current(self, now):
        if self._tasks and self._tasks[-1]["seconds"] is None:
            self._tasks[-1]["seconds"] = now - self._tasks[-1]["start"]

    def _start(self, task):
        now = time.time()
        self._end_current(now)
        self._tasks.append({"task": task.get_name(), "path": task.get_path(), "start": now, "seconds": None,
                            "results": {}, "changed_at": {}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _count(self, result, status):
        if not self._tasks:
            return
        if status == "ok" and result.is_changed():
            status = "changed"
            self._tasks[-1]["changed_at"][result.host.get_name()] = time.time()   # ansible-core 2.19+, as make venv
        counts = self._tasks[-1]["results"]
        counts[status] = counts.get(status, 0) + 1

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self._end_current(now)
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        target = os.environ.get("BENCH_TASK_TIMES")
        if not target:
            return
        with open(target, "w", encoding="utf-8") as handle:
            json.dump({"loaded": self._loaded, "ended": now, "tasks": self._tasks, "recap": recap}, handle, indent=1)
