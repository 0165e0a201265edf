"""processes and the per-process tables, read straight from /proc.

Each process costs one read of /proc/PID/stat; every other file is read only when the
query uses a column that comes from it, so `SELECT pid, name FROM processes` never
opens cmdline, status or the exe link.
"""

import os

from pyosquery.tables import _os

PROC = "/proc"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

STATUS_IDS = (("uid", "gid"), ("euid", "egid"), ("suid", "sgid"))
STATUS_COLUMNS = frozenset([c for pair in STATUS_IDS for c in pair] + ["resident_size"])
IO_COLUMNS = frozenset(("disk_bytes_read", "disk_bytes_written"))
NAMESPACES = ("cgroup", "ipc", "mnt", "net", "pid", "user", "uts")
DELETED = " (deleted)"
# fd targets osquery's process_open_files skips (matched anywhere in the target)
NOT_FILES = ("socket:", "anon_inode:", "pipe:")


def boot_time():
    """Seconds since the epoch at boot (`btime` in /proc/stat)."""
    for line in _os.read_lines(os.path.join(PROC, "stat")):
        if line.startswith("btime "):
            return int(line.split()[1])
    return 0


def pids(context, column="pid"):
    """The pids a query asks for: those constrained by `pid = / IN`, else every process."""
    wanted = context.equals(column)
    if wanted is not None:
        return sorted(p for p in map(_as_pid, wanted) if p)
    return sorted(int(name) for name in _os.list_dir(PROC) if name.isdigit())


def _as_pid(value):
    # `pid = '1'` arrives as text; SQLite's affinity would still match it to 1
    try:
        pid = int(value)
    except (TypeError, ValueError):
        return None
    return pid if pid > 0 else None


def parse_stat(data):
    """Fields of /proc/PID/stat after the command name, and the name itself.

    The name sits in parentheses and may itself contain spaces and ')', so split on the
    last ')'. Returned fields start at `state` (field 3 of proc(5)).
    """
    open_at = data.index(b"(")
    close_at = data.rindex(b")")
    name = data[open_at + 1:close_at].decode("utf-8", "replace")
    return name, data[close_at + 2:].split()


def _stat_columns(row, fields, boot):
    # proc(5) numbering minus 3: state=0, ppid=1, pgrp=2, utime=11, stime=12,
    # nice=16, num_threads=17, starttime=19, vsize=20, rss=21
    row["state"] = fields[0].decode()
    row["parent"] = int(fields[1])
    row["pgroup"] = int(fields[2])
    row["user_time"] = int(fields[11]) * 1000 // CLOCK_TICKS
    row["system_time"] = int(fields[12]) * 1000 // CLOCK_TICKS
    row["nice"] = int(fields[16])
    row["threads"] = int(fields[17])
    row["start_time"] = boot + int(fields[19]) // CLOCK_TICKS if boot else -1
    # kernel threads and zombies have no memory (no VmSize/VmRSS in status): empty, as in osquery
    vsize = int(fields[20])
    row["total_size"] = vsize or None
    row["resident_size"] = int(fields[21]) * PAGE_SIZE if vsize else None
    row["wired_size"] = 0       # Linux has no wired (unpageable) counter, as osquery reports


def _status_values(row, base):
    # ids, and VmRSS: stat's rss field lags the kernel's per-CPU counters; ps and osquery use VmRSS
    status = _os.read_small(base + "/status")
    if status is None:
        return
    for line in status.split(b"\n"):
        if line.startswith(b"Uid:") or line.startswith(b"Gid:"):
            kind = 0 if line[0:1] == b"U" else 1
            values = line.split()[1:4]
            for pair, value in zip(STATUS_IDS, values):
                row[pair[kind]] = int(value)
        elif line.startswith(b"VmRSS:"):
            row["resident_size"] = int(line.split()[1]) * 1024


def _io_counters(row, base):
    io = _os.key_values(base + "/io")
    if io:
        row["disk_bytes_read"] = int(io.get("read_bytes", 0))
        row["disk_bytes_written"] = int(io.get("write_bytes", 0)) - int(io.get("cancelled_write_bytes", 0))


def cmdline(base):
    """argv joined by spaces, as osquery shows it ('' for kernel threads and zombies)."""
    data = _os.read_small(base + "/cmdline")
    if not data:
        return ""
    return data.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def cgroup_path(base):
    """The process's cgroup v2 path (the '0::' line), else the first hierarchy's path."""
    lines = (_os.read_small(base + "/cgroup") or b"").decode("utf-8", "replace").splitlines()
    for line in lines:
        if line.startswith("0::"):
            return line[3:]
    first = lines[0].split(":", 2) if lines else []
    return first[2] if len(first) == 3 else None


def without_deleted(path):
    """The path without the kernel's ` (deleted)` suffix for an unlinked file, as osquery shows it.

    A file whose name really ends so (it exists under that name) keeps it.
    """
    if path.endswith(DELETED) and not os.path.lexists(path):
        return path[:-len(DELETED)]
    return path


def _links(row, base, context):
    if context.uses("path") or context.uses("on_disk"):
        path = _os.read_link(base + "/exe")
        if path is None:
            row["path"], row["on_disk"] = "", -1
        else:
            row["path"] = without_deleted(path)
            row["on_disk"] = 1 if row["path"] == path and os.path.exists(path) else 0
    if context.uses("cwd"):
        row["cwd"] = _os.read_link(base + "/cwd") or ""
    if context.uses("root"):
        row["root"] = _os.read_link(base + "/root") or ""


def process_row(pid, context, boot):
    """One processes row for `pid`, or None when the process is gone."""
    base = "%s/%d" % (PROC, pid)
    data = _os.read_small(base + "/stat")
    if not data:
        return None
    name, fields = parse_stat(data)
    row = {"pid": pid, "name": name}
    _stat_columns(row, fields, boot)
    if context.uses("cmdline"):
        row["cmdline"] = cmdline(base)
    if any(context.uses(c) for c in STATUS_COLUMNS):
        _status_values(row, base)
    if any(context.uses(c) for c in IO_COLUMNS):
        _io_counters(row, base)
    if context.uses("cgroup_path"):
        row["cgroup_path"] = cgroup_path(base)
    _links(row, base, context)
    return row


def gen_processes(context):
    boot = boot_time() if context.uses("start_time") else 0
    for pid in pids(context):
        row = process_row(pid, context, boot)
        if row is not None:
            yield row


def gen_process_envs(context):
    for pid in pids(context):
        data = _os.read_small("%s/%d/environ" % (PROC, pid))
        for item in (data or b"").split(b"\0"):
            key, sep, value = item.partition(b"=")
            if sep:
                yield {"pid": pid, "key": key.decode("utf-8", "replace"),
                       "value": value.decode("utf-8", "replace")}


def gen_process_open_files(context):
    for pid in pids(context):
        base = "%s/%d/fd" % (PROC, pid)
        for fd in _os.list_dir(base):
            target = _os.read_link(base + "/" + fd)
            # sockets, pipes and anon inodes are not files; the rest (paths, net:[...]) is listed
            if target is not None and not any(kind in target for kind in NOT_FILES):
                yield {"pid": pid, "fd": int(fd), "path": target}


def _map_row(pid, line):
    parts = line.split(None, 5)
    if len(parts) < 5:
        return None
    start, _, end = parts[0].partition("-")
    path = without_deleted(parts[5].strip()) if len(parts) > 5 else ""
    # pseudo: a named mapping with no inode ([heap], [stack], [vdso]); anonymous ones are not
    return {"pid": pid, "start": "0x" + start, "end": "0x" + end, "permissions": parts[1],
            "offset": int(parts[2], 16), "device": parts[3], "inode": int(parts[4]),
            "path": path, "pseudo": 1 if parts[4] == "0" and path else 0}


def gen_process_memory_map(context):
    for pid in pids(context):
        for line in _os.read_lines("%s/%d/maps" % (PROC, pid)):
            row = _map_row(pid, line)
            if row is not None:
                yield row


def gen_process_namespaces(context):
    for pid in pids(context):
        row = {"pid": pid}
        for kind in NAMESPACES:
            link = _os.read_link("%s/%d/ns/%s" % (PROC, pid, kind))
            if link is not None:
                # 'net:[4026531840]' -> '4026531840', as osquery shows the inode
                row[kind + "_namespace"] = link[link.find("[") + 1:-1]
        if len(row) > 1:
            yield row
