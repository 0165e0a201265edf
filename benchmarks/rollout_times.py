"""Where a rollout's time goes, read from its task_times profile (callback_plugins/task_times.py).

A stage is the run of tasks from roles/rollout/tasks/stage.yml, one include per stage: a new
stage starts where the line number goes back to the file's top. The soak is the stage's task
named for it; what a stage spends beyond the soak is the rollout's own time (baseline, push,
judgement, state). A rollback is the run of tasks from rollback.yml.
"""

STAGE_FILE = "/roles/rollout/tasks/stage.yml"
ROLLBACK_FILE = "/roles/rollout/tasks/rollback.yml"


def _file_and_line(task):
    path, _, line = task["path"].rpartition(":")
    return path, int(line) if line.isdigit() else 0


def stages(tasks):
    """[[task, ...] per stage], in the order the stages ran."""
    found, last_line = [], None
    for task in tasks:
        path, line = _file_and_line(task)
        if not path.endswith(STAGE_FILE):
            last_line = None
            continue
        if last_line is None or line <= last_line:
            found.append([])
        found[-1].append(task)
        last_line = line
    return found


def _named(stage, word):
    """The stage's task whose name holds `word` (the bench's only tie to the role's task names)."""
    for task in stage:
        if word in task["task"].lower():
            return task
    raise SystemExit("no task with %r in its name among the stage's tasks %s: benchmarks/rollout_times.py needs "
                     "updating" % (word, [t["task"] for t in stage]))


def stage_figures(stage):
    """{seconds, soak, beyond, hosts}: the stage's wall time, its soak, the rest, and the hosts the push reached."""
    seconds = sum(t["seconds"] or 0.0 for t in stage)
    soak = _named(stage, "soak")["seconds"] or 0.0
    push = _named(stage, "push")["results"]
    return {"seconds": seconds, "soak": soak, "beyond": seconds - soak,
            "hosts": push.get("ok", 0) + push.get("changed", 0) + push.get("failed", 0)}


def removal_figures(tasks, canary):
    """{seconds, soak}: from the push's change on `canary` to the end of the rollback (removal verified)."""
    first = stages(tasks)[0]
    reached = _named(first, "push")["changed_at"].get(canary)
    rollback = [t for t in tasks if _file_and_line(t)[0].endswith(ROLLBACK_FILE)]
    if reached is None or not rollback:
        raise SystemExit("the over-budget rollout did not %s" % ("reach %s" % canary if reached is None else "roll back"))
    verified = rollback[-1]["start"] + (rollback[-1]["seconds"] or 0.0)
    return {"seconds": verified - reached, "soak": _named(first, "soak")["seconds"] or 0.0}
