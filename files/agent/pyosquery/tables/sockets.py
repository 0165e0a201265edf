"""Socket tables: process_open_sockets and listening_ports.

As osquery: the sockets of each network namespace come from /proc/PID/net/* of the first
process seen in that namespace, and a socket's owner (pid, fd) from the `socket:[inode]`
links in /proc/PID/fd. That owner map costs one readlink per open descriptor on the host, so
it is only built when the query reads pid or fd, or constrains pid.
"""

import socket

from pyosquery.tables import _os

AF_UNIX, AF_INET, AF_INET6, AF_PACKET = 1, 2, 10, 17
# (file name, protocol number) in osquery's order: icmp, tcp, udp, udplite, raw; v4 then v6
INET_FILES = (("icmp", 1), ("tcp", 6), ("udp", 17), ("udplite", 136), ("raw", 255))
TCP_STATES = ("UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
              "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING")


def _pids():
    return sorted((name for name in _os.list_dir("/proc") if name.isdigit()), key=str)


def _net_namespace(pid):
    link = _os.read_link("/proc/%s/ns/net" % pid) or ""
    return link[5:-1] if link.startswith("net:[") and link.endswith("]") else "0"


def owners(pids):
    """socket inode -> (pid, fd); pids in string order, a later pid wins a shared socket."""
    found = {}
    for pid in pids:
        base = "/proc/%s/fd" % pid
        for fd in _os.list_dir(base):
            link = _os.read_link(base + "/" + fd)
            if link and link.startswith("socket:["):
                found[link[8:-1]] = (int(pid), int(fd))
    return found


def _decode_address(text, family):
    """/proc/net hex addresses are 32-bit words in host (little-endian) order."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return ""
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    try:
        return socket.inet_ntop(socket.AF_INET if family == AF_INET else socket.AF_INET6, words)
    except (ValueError, OSError):
        return ""


def _endpoint(text, family):
    address, _, port = text.partition(":")
    return _decode_address(address, family), int(port, 16) if port else 0


def _tcp_state(text):
    try:
        number = int(text, 16)
    except ValueError:
        return "UNKNOWN"
    return TCP_STATES[number] if 0 < number < len(TCP_STATES) else "UNKNOWN"


def _inet(pid, name, family, protocol):
    lines = _os.read_lines("/proc/%s/net/%s" % (pid, name))
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        local, remote = _endpoint(fields[1], family), _endpoint(fields[2], family)
        yield {"socket": fields[9], "family": family, "protocol": protocol,
               "local_address": local[0], "local_port": local[1],
               "remote_address": remote[0], "remote_port": remote[1], "path": "",
               "state": _tcp_state(fields[3]) if protocol == 6 else ""}


def _unix(pid):
    # Num RefCount Protocol Flags Type St Inode [Path]; the path may contain spaces
    for line in _os.read_lines("/proc/%s/net/unix" % pid)[1:]:
        fields = line.split(None, 7)
        if len(fields) < 7:
            continue
        yield {"socket": fields[6], "family": AF_UNIX, "protocol": int(fields[2], 16),
               "local_address": "", "local_port": 0, "remote_address": "", "remote_port": 0,
               "path": fields[7] if len(fields) > 7 else "", "state": ""}


def _packet(pid):
    # sk RefCnt Type Proto Iface R Rmem User Inode
    for line in _os.read_lines("/proc/%s/net/packet" % pid)[1:]:
        fields = line.split()
        if len(fields) < 9:
            continue
        yield {"socket": fields[8], "family": AF_PACKET, "protocol": int(fields[3], 16),
               "local_address": "", "local_port": 0, "remote_address": "", "remote_port": 0,
               "path": "", "state": "NONE"}


def namespace_sockets(pid):
    """Every socket of `pid`'s network namespace."""
    for name, protocol in INET_FILES:
        for family, suffix in ((AF_INET, ""), (AF_INET6, "6")):
            yield from _inet(pid, name + suffix, family, protocol)
    yield from _unix(pid)
    yield from _packet(pid)


def _wanted_pids(context):
    """The pids asked for with `pid = N` / IN, or None for all (osquery treats -1 as all)."""
    pids = context.equals("pid")
    if pids is None or -1 in pids:
        return None
    return sorted((str(pid) for pid in pids if isinstance(pid, int) and pid > 0), key=str)


def _namespace_readers(pids):
    """(namespace, pid) in pid order; pids whose namespace link is unreadable ("0") come last,
    so their sockets (osquery would list them twice) only add what the others did not show."""
    pairs = [(_net_namespace(pid), pid) for pid in pids]
    return [pair for pair in pairs if pair[0] != "0"] + [pair for pair in pairs if pair[0] == "0"]


def open_sockets(context, need_owner):
    """process_open_sockets rows, with pid/fd when `need_owner` or when pid is constrained."""
    wanted = _wanted_pids(context)
    pids = _pids() if wanted is None else wanted
    owner = owners(pids) if need_owner or wanted is not None else {}
    seen, inodes = set(), set()
    for namespace, pid in _namespace_readers(pids):
        if namespace in seen:
            continue
        seen.add(namespace)
        for row in namespace_sockets(pid):
            if row["socket"] in inodes:
                continue                  # already listed from a namespace we could name
            inodes.add(row["socket"])
            found = owner.get(row["socket"])
            if found is None and wanted is not None:
                continue                  # filtering by pid: only that process's sockets
            row["pid"], row["fd"] = found or (-1, -1)
            row["socket"] = int(row["socket"])
            row["net_namespace"] = namespace
            yield row


def gen_process_open_sockets(context):
    # pid is an "additional" column: SQLite does not re-check it, so the filter above is the filter
    return open_sockets(context, context.uses("pid") or context.uses("fd"))


def gen_listening_ports(context):
    for row in open_sockets(context, context.uses("pid") or context.uses("fd")):
        family = row["family"]
        if family == AF_UNIX and not row["path"]:
            continue                              # anonymous unix sockets listen on nothing
        if family in (AF_INET, AF_INET6) and row["remote_port"] != 0:
            continue                              # connected: not a listener
        result = {"pid": row["pid"], "protocol": row["protocol"], "family": family, "fd": row["fd"],
                  "net_namespace": row["net_namespace"]}
        if family == AF_UNIX:
            result.update(port=0, path=row["path"], socket=0)
        else:
            result.update(address=row["local_address"], port=row["local_port"], socket=row["socket"])
        yield result
