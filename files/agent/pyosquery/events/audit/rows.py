"""process_events and socket_events rows from one assembled audit event (its records by type)."""

import errno
import os

from pyosquery.events.audit import records, sockaddr

ID_COLUMNS = ("auid", "uid", "euid", "gid", "egid", "fsuid", "suid", "fsgid", "sgid")
SOCKET_ACTIONS = {"connect": "connect", "bind": "bind", "accept": "accept", "accept4": "accept"}
PROCESS_SYSCALLS = ("execve", "execveat")


def process_row(event, syscall_name, uptime_base):
    """osquery's process_events row: ids and path from SYSCALL, argv from EXECVE, cwd, first PATH."""
    syscall = event.syscall
    path = records.text(syscall.get("exe"))
    argv = records.arguments(event.all(records.EXECVE))
    cmdline = " ".join(argv)
    item = event.first(records.PATH)
    row = {
        "pid": records.number(syscall.get("pid")),
        "parent": records.number(syscall.get("ppid"), -1),
        "path": path,
        "mode": item.get("mode", ""),
        "cmdline": cmdline,
        "cmdline_size": len(cmdline.encode("utf-8")),
        "env": "", "env_count": 0, "env_size": 0,
        "cwd": records.text(event.first(records.CWD).get("cwd")),
        "owner_uid": records.number(item.get("ouid")),
        "owner_gid": records.number(item.get("ogid")),
        "overflows": "",
        "syscall": syscall_name,
        "time": event.time,
        "uptime": event.time - uptime_base,
    }
    for column in ID_COLUMNS:
        row[column] = records.number(syscall.get(column))
    row.update(file_times(path))
    return row


def file_times(path):
    """atime..ctime of the executed file now (as osquery reads them from the `file` table)."""
    try:
        info = os.stat(path)
    except OSError:
        return {"atime": 0, "mtime": 0, "ctime": 0, "btime": 0}
    return {"atime": int(info.st_atime), "mtime": int(info.st_mtime), "ctime": int(info.st_ctime),
            "btime": 0}


def socket_status(action, syscall):
    """succeeded, failed, in_progress (non-blocking connect) or no_client (non-blocking accept)."""
    if syscall.get("success") == "yes":
        return "succeeded"
    code = -records.number(syscall.get("exit"))
    if action == "connect" and code == errno.EINPROGRESS:
        return "in_progress"
    if action == "accept" and code in (errno.EAGAIN, errno.EWOULDBLOCK):
        return "no_client"
    return "failed"


def socket_row(event, syscall_name, uptime_base, values):
    """osquery's socket_events row, or None when the flags leave this kind of event out."""
    action = SOCKET_ACTIONS[syscall_name]
    syscall = event.syscall
    status = socket_status(action, syscall)
    if not _shown(action, status, values):
        return None
    address = None
    saddr = event.first(records.SOCKADDR).get("saddr")
    if saddr:
        address = sockaddr.decode(saddr)
        if address is None or (address["family"] == sockaddr.AF_UNIX and not values.audit_allow_unix):
            return None
    row = {
        "action": action,
        "pid": records.number(syscall.get("pid")),
        "path": records.text(syscall.get("exe")),
        "fd": str(int(syscall.get("a0", "0"), 16)),
        "auid": records.number(syscall.get("auid")),
        "family": address["family"] if address else 0,
        "protocol": 0,  # audit does not record it (osquery shows 0 too)
        "local_address": "", "local_port": 0, "remote_address": "", "remote_port": 0,
        "socket": address["socket"] if address else "",
        "time": event.time,
        "uptime": event.time - uptime_base,
        "success": 1 if status == "succeeded" else 0,
        "status": status,
    }
    if address:
        side = "local" if action == "bind" else "remote"
        row[side + "_address"], row[side + "_port"] = address["address"], address["port"]
    return row


def _shown(action, status, values):
    if action == "accept" and not values.audit_allow_accept_socket_events:
        return False
    if status == "no_client":
        return values.audit_allow_null_accept_socket_events
    if status == "failed":
        return values.audit_allow_failed_socket_events
    return True
