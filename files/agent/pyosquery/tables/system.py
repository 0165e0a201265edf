"""Host-wide system tables: system_info, os_version, uptime, memory_info, cpu_time,
load_average, time, ulimit_info.

Values follow osquery's Linux generators: the same sources (/proc, /sys, /etc/os-release)
and the same units (memory in bytes, cpu_time in USER_HZ ticks as /proc/stat gives them).
"""

import os
import platform
import re
import resource
import socket
import time as _time

from pyosquery.tables import _os

DMI_DIR = "/sys/class/dmi/id"


# --- system_info -------------------------------------------------------------------------

def _cpuinfo_blocks():
    """/proc/cpuinfo as a list of dicts, one per logical processor."""
    return _os.key_value_blocks(_os.read_lines("/proc/cpuinfo"), ":")


def _physical_cores(blocks, logical):
    """Distinct (package, core) pairs, as boost::thread::physical_concurrency counts them."""
    pairs = {(b.get("physical id"), b.get("core id")) for b in blocks
             if "physical id" in b and "core id" in b}
    return len(pairs) or logical


def _fqdn(hostname):
    """The canonical name from /etc/hosts (as NSS `files` would give it); no DNS traffic."""
    if "." in hostname:
        return hostname
    for line in _os.config_lines("/etc/hosts"):
        names = line.split()[1:]
        if hostname in names:
            return names[0]
    return hostname


def _host_uuid():
    text = (_os.read_text(DMI_DIR + "/product_uuid") or "").strip()
    if text:
        return text
    # No DMI (containers, some VMs): the machine-id, shaped like a UUID.
    mid = (_os.read_text("/etc/machine-id") or "").strip().lower()
    if len(mid) == 32:
        return "%s-%s-%s-%s-%s" % (mid[:8], mid[8:12], mid[12:16], mid[16:20], mid[20:])
    return ""


def _dmi(name):
    value = _os.read_text(DMI_DIR + "/" + name)
    return None if value is None else value.rstrip()


def _hardware(row):
    """hardware_* and board_* from the kernel's copy of the SMBIOS system/board records."""
    row["hardware_vendor"] = _dmi("sys_vendor")
    row["hardware_model"] = _dmi("product_name") or ""
    row["hardware_version"] = _dmi("product_version")
    row["hardware_serial"] = _dmi("product_serial")
    if (row["hardware_vendor"] or "").lower() == "lenovo":
        # Lenovo keeps the model in "version" and the SKU in "name": osquery swaps them.
        row["hardware_model"], row["hardware_version"] = row["hardware_version"], row["hardware_model"]
    row["board_vendor"] = _dmi("board_vendor")
    row["board_model"] = _dmi("board_name")
    row["board_version"] = _dmi("board_version")
    row["board_serial"] = _dmi("board_serial")


def gen_system_info(_context):
    hostname = socket.gethostname()
    fqdn = _fqdn(hostname)
    logical = os.cpu_count() or -1
    blocks = _cpuinfo_blocks()
    first = blocks[0] if blocks else {}
    row = {"hostname": fqdn, "computer_name": hostname, "local_hostname": fqdn,
           "uuid": _host_uuid(), "cpu_type": platform.machine(),
           "cpu_subtype": first.get("model", "0"), "cpu_microcode": first.get("microcode"),
           "cpu_brand": first.get("model name"), "cpu_logical_cores": logical,
           "cpu_physical_cores": _physical_cores(blocks, logical)}
    siblings = _int(first.get("siblings"))
    if siblings is not None:
        row["cpu_sockets"] = logical // siblings if siblings > 0 and logical > 0 else -1
    try:
        row["physical_memory"] = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        row["physical_memory"] = -1
    _hardware(row)
    return [row]


def _int(text, base=10):
    try:
        return int(text, base)
    except (TypeError, ValueError):
        return None


# --- os_version --------------------------------------------------------------------------

OS_RELEASE_KEYS = {"NAME": "name", "VERSION": "version", "BUILD_ID": "build", "ID": "platform",
                   "ID_LIKE": "platform_like", "VERSION_CODENAME": "codename", "VERSION_ID": "_id"}


def namespace_roots(context):
    """(pid_with_namespace, path prefix) pairs: a pid's view of / (its mount namespace), or ours."""
    pids = context.equals("pid_with_namespace")
    if not pids:
        return [(0, "")]
    return [(pid, "/proc/%d/root" % pid) for pid in sorted(pids) if isinstance(pid, int) and pid > 0]


def _os_release(row, path):
    for line in _os.read_lines(path):
        key, sep, value = line.partition("=")
        if not sep:
            continue
        column = OS_RELEASE_KEYS.get(key)
        if column is None:
            if "CODENAME" not in key:
                continue
            column = "codename"      # some distributions invent their own *_CODENAME key
        if value[:1] in ('"', "'"):
            value = value[1:-1]
        row[column] = value
        if column == "_id":
            parts = value.split(".", 2)
            for name, part in zip(("major", "minor", "patch"), parts):
                row[name] = _int(part) if _int(part) is not None else 0
    row.pop("_id", None)


OLD_RELEASE = re.compile(r"([\w+\s]+) .* ([0-9]+)\.([0-9]+)\.?(\w+)?")


def _old_release(row, root):
    """RHEL/CentOS 6 and Gentoo describe themselves in their own release files."""
    for platform_id, name in (("rhel", "/etc/redhat-release"), ("gentoo", "/etc/gentoo-release")):
        content = _os.read_text(root + name)
        if content is None:
            continue
        content = " ".join(content.split())
        row["platform"] = row["platform_like"] = platform_id
        row["version"], row["build"] = content, ""
        match = OLD_RELEASE.search(content)
        if match:
            row["name"], row["major"], row["minor"] = match.group(1), int(match.group(2)), int(match.group(3))
            row["patch"] = _int(match.group(4)) or 0
        return


def gen_os_version(context):
    rows = []
    for pid, root in namespace_roots(context):
        row = {"name": "Unknown", "major": 0, "minor": 0, "patch": 0, "platform": "posix",
               "pid_with_namespace": pid, "arch": platform.machine()}
        _os_release(row, root + "/etc/os-release")
        _old_release(row, root)
        if pid:
            link = _os.read_link("/proc/%d/ns/mnt" % pid) or ""
            row["mount_namespace_id"] = link[5:-1] if link.startswith("mnt:[") else None
        rows.append(row)
    return rows


# --- uptime, memory_info, cpu_time, load_average -----------------------------------------

def gen_uptime(_context):
    text = _os.read_text("/proc/uptime")
    if not text:
        return []
    total = int(float(text.split()[0]))
    return [{"days": total // 86400, "hours": total % 86400 // 3600, "minutes": total % 3600 // 60,
             "seconds": total % 60, "total_seconds": total}]


MEMINFO = {"MemTotal": "memory_total", "MemFree": "memory_free", "MemAvailable": "memory_available",
           "Buffers": "buffers", "Cached": "cached", "SwapCached": "swap_cached", "Active": "active",
           "Inactive": "inactive", "SwapTotal": "swap_total", "SwapFree": "swap_free"}


def gen_memory_info(_context):
    row = {}
    for key, value in _os.key_values("/proc/meminfo").items():
        column = MEMINFO.get(key)
        number = _int(value.split()[0]) if column and value else None
        if number is not None:
            row[column] = number * 1024      # /proc/meminfo counts kB
    return [row]


CPU_TIME_COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest",
                    "guest_nice")


def gen_cpu_time(_context):
    rows = []
    for line in _os.read_lines("/proc/stat"):
        words = line.split()
        # per-core lines only ("cpu0", "cpu1", ...); the "cpu" total line is left out
        if len(words) < 8 or not words[0].startswith("cpu") or not words[0][3:].isdigit():
            continue
        row = {"core": int(words[0][3:])}
        for index, column in enumerate(CPU_TIME_COLUMNS, start=1):
            row[column] = int(words[index]) if index < len(words) else 0
        rows.append(row)
    return rows


def gen_load_average(_context):
    try:
        loads = os.getloadavg()
    except OSError:
        return []
    # osquery prints the doubles with std::to_string: six decimals
    return [{"period": period, "average": "%f" % load} for period, load in zip(("1m", "5m", "15m"), loads)]


# --- time ----------------------------------------------------------------------------------

def gen_time(_context):
    now = int(_time.time())
    utc = _time.gmtime(now)
    local_zone = _time.strftime("%Z", _time.localtime(now)) or "UTC"
    iso = _time.strftime("%Y-%m-%dT%H:%M:%SZ", utc)
    return [{"weekday": _time.strftime("%A", utc), "year": utc.tm_year, "month": utc.tm_mon,
             "day": utc.tm_mday, "hour": utc.tm_hour, "minutes": utc.tm_min, "seconds": utc.tm_sec,
             "timezone": "UTC", "local_timezone": local_zone, "unix_time": now,
             # asctime format as osquery's log lines: "Mon May  2 22:27:32 2016 UTC"
             "timestamp": _time.strftime("%a %b ", utc) + "%2d" % utc.tm_mday
             + _time.strftime(" %H:%M:%S %Y UTC", utc),
             "datetime": iso, "iso_8601": iso}]


# --- ulimit_info ---------------------------------------------------------------------------

ULIMITS = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
           "nproc", "rss", "rtprio", "sigpending", "stack")


# Linux resource numbers Python's resource module does not name (RLIMIT_LOCKS, <sys/resource.h>)
LINUX_RLIMITS = {"locks": 10}


def _limit(value):
    return "unlimited" if value == resource.RLIM_INFINITY else str(value)


def gen_ulimit_info(_context):
    rows = []
    # osquery walks a std::map, so the rows come in name order
    for name in ULIMITS:
        number = getattr(resource, "RLIMIT_" + name.upper(), LINUX_RLIMITS.get(name))
        if number is None:
            continue
        try:
            soft, hard = resource.getrlimit(number)
        except (OSError, ValueError):
            continue
        rows.append({"type": name, "soft_limit": _limit(soft), "hard_limit": _limit(hard)})
    return rows
