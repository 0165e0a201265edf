# Run on the host by the role (python -c CODE REQUEST): the state of everything the role manages,
# read in one round trip, so that a run with nothing to change makes no other call to the host.
# REQUEST (JSON): install dir, release file name, packs manifest, pidfile, unit, wants link,
# files and dirs to describe. Prints one JSON object.
import hashlib
import json
import os
import sys

REQUEST = json.loads(sys.argv[1])


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, ValueError):
        return ""


def glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    except (AttributeError, IndexError, OSError, ValueError):
        return ""      # not glibc (musl), or no answer


def managed_packs():
    try:
        names = json.loads(read(REQUEST["manifest"]) or "[]")
    except ValueError:
        return []
    return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []


def describe(path, directory):
    """'<sha1 or dir>:<mode>:<uid>:<gid>', as the role would leave it; '' when missing or another kind."""
    try:
        info = os.lstat(path)
        if directory != os.path.isdir(path) or os.path.islink(path):
            return ""
        if directory:
            digest = "dir"
        else:
            with open(path, "rb") as handle:
                digest = hashlib.sha1(handle.read()).hexdigest()
    except OSError:
        return ""
    return "%s:%04o:%d:%d" % (digest, info.st_mode & 0o7777, info.st_uid, info.st_gid)


def running():
    """The pidfile names a live pyosqueryd."""
    pid = read(REQUEST["pidfile"])
    return pid.isdigit() and "pyosqueryd" in read("/proc/%s/cmdline" % pid)


def auditd():
    """The pid of a running auditd, else 0: it holds the kernel's one audit socket."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and read("/proc/%s/comm" % entry) == "auditd":
            return int(entry)
    return 0


install = REQUEST["install"]
# a release counts only while its Python runs (a removed host Python breaks the venv: reinstall)
usable = os.access(os.path.join(install, "bin", "python"), os.X_OK)
print(json.dumps({
    "glibc": glibc(),
    "release": read(os.path.join(install, REQUEST["release_file"])) if usable else "",
    "current": os.path.realpath(install) if os.path.islink(install) else "",
    "foreign": os.path.lexists(install) and not os.path.islink(install),
    "packs": managed_packs(),
    "unit": os.path.exists(REQUEST["unit"]),
    # systemd's own sd_booted() test; Ansible's service_mgr fact also says systemd where PID 1 is a
    # shell in a container whose /sbin/init links to systemd
    "systemd": os.path.isdir("/run/systemd/system"),
    "enabled": os.path.exists(REQUEST["wants"]),
    "running": running(),
    "auditd": auditd() if REQUEST.get("audit") else 0,
    "states": (["%s=%s" % (path, describe(path, False)) for path in REQUEST["files"]]
               + ["%s=%s" % (path, describe(path, True)) for path in REQUEST["dirs"]]),
}))
