# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who runs a rollout: a process on this controller, told apart from a later process with the same pid."""

import socket


def process_start(pid):
    """The start time of PID in clock ticks since boot (field 22 of /proc/PID/stat), or None
    when no such process runs. A zombie does not run: a controller killed by a crash stays one
    until its new parent reaps it, and its rollout must be resumable meanwhile."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: fields follow the last ')'
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def owner_of(pid):
    """Who runs a rollout: a process on this controller, identified beyond pid reuse."""
    return {"pid": pid, "pid_start": process_start(pid), "host": socket.gethostname()}


def owner_alive(owner):
    """True while the owning process still runs; a process on another controller counts as alive."""
    if not owner:
        return False
    if owner.get("host") != socket.gethostname():
        return True
    return owner.get("pid_start") is not None and process_start(owner["pid"]) == owner["pid_start"]


def same_owner(first, second):
    keys = ("pid", "pid_start", "host")
    return bool(first) and bool(second) and all(first.get(k) == second.get(k) for k in keys)
