"""Kernel tables: kernel_info, kernel_modules, system_controls (sysctl)."""

import glob
import os

from pyosquery.tables import _os

SYSCTL_ROOT = "/proc/sys"
SYSCTL_FILE = "/etc/sysctl.conf"
# osquery's order (posix/system_controls.cpp): sysctl.conf, then every *.conf of these
# directories in turn, a later setting overriding an earlier one, so /lib/sysctl.d has the
# last word (systemd-sysctl's own precedence differs: /etc first, file names shadowing).
SYSCTL_DIRS = ("/run/sysctl.d", "/etc/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
               "/lib/sysctl.d")


def gen_kernel_info(_context):
    row = {}
    text = _os.read_text("/proc/cmdline")
    if text is not None:
        rest = []
        for argument in text.split():
            if argument.startswith("BOOT_IMAGE="):
                row["path"] = argument[len("BOOT_IMAGE="):]
            elif argument.startswith("root="):
                row["device"] = argument[len("root="):]
            else:
                rest.append(argument)
        row["arguments"] = " ".join(rest)
    # "Linux version 6.1.0-18-amd64 (debian-kernel@...) ...": the third word is the release
    words = (_os.read_text("/proc/version") or "").split()
    if len(words) > 2 and words[1] == "version":
        row["version"] = words[2]
    return [row]


MODULES_PATH = "/proc/modules"


def gen_kernel_modules(_context):
    rows = []
    # name size refcount used_by status address, e.g. "ext4 999424 1 - Live 0x0000000000000000"
    for line in _os.read_lines(MODULES_PATH):
        fields = line.split()
        if len(fields) < 6:
            continue
        rows.append({"name": fields[0], "size": int(fields[1]), "used_by": fields[3].rstrip(","),
                     "status": fields[4], "address": fields[5]})
    return rows


def _config_files():
    """The files osquery reads for config_value, in its order (the last setting of a name wins)."""
    return [SYSCTL_FILE] + [path for directory in SYSCTL_DIRS
                            for path in sorted(glob.glob(os.path.join(glob.escape(directory), "*.conf")))]


def _normal_name(name):
    """sysctl accepts "a/b/c" as well as "a.b.c"; a leading "-" only means "ignore errors"."""
    name = name.strip().lstrip("-")
    return name.replace("/", ".") if "/" in name and "." not in name else name


def sysctl_config():
    """name -> value configured in sysctl.conf and sysctl.d."""
    config = {}
    for path in _config_files():
        for line in _os.read_lines(path):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            name, sep, value = line.partition("=")
            if sep:
                config[_normal_name(name)] = value.strip()
    return config


def _control_row(path, config):
    name = os.path.relpath(path, SYSCTL_ROOT).replace("/", ".")
    row = {"name": name, "subsystem": name.split(".", 1)[0], "type": "string",
           "config_value": config.get(name)}
    try:
        value = _os.read_text(path)
    except OSError:
        value = None     # some controls refuse reads with unusual errors (EOPNOTSUPP...)
    if value is not None:
        row["current_value"] = value.strip()
    return row


def _walk(top, config):
    """Leaf controls under `top`, directories first as osquery lists them."""
    entries = sorted(_os.list_dir(top))
    dirs, files = [], []
    for entry in entries:
        path = os.path.join(top, entry)
        (dirs if os.path.isdir(path) and not os.path.islink(path) else files).append(path)
    for path in dirs:
        yield from _walk(path, config)
    for path in files:
        yield _control_row(path, config)


def _by_name(name, config):
    """One control, read straight from its /proc/sys file (no walk)."""
    if not isinstance(name, str) or not name or ".." in name.split("."):
        return
    path = os.path.join(SYSCTL_ROOT, name.replace(".", "/"))
    if os.path.isdir(path):
        yield from _walk(path, config)
    elif os.path.exists(path):
        yield _control_row(path, config)


def _candidates(context, config):
    names = context.equals("name")
    if names is None:
        for subsystem in sorted(_os.list_dir(SYSCTL_ROOT)):
            yield from _walk(os.path.join(SYSCTL_ROOT, subsystem), config)
        return
    for name in sorted(names, key=str):
        yield from _by_name(name, config)


def gen_system_controls(context):
    if context.equals("oid") is not None:
        # Linux has no numeric sysctl MIBs (the sysctl(2) call is gone): no row has an oid.
        return
    config = sysctl_config() if context.uses("config_value") else {}
    subsystems = context.equals("subsystem")
    for row in _candidates(context, config):
        # subsystem is an "additional" column, which SQLite does not re-check: filter here
        if subsystems is None or row["subsystem"] in subsystems:
            yield row
