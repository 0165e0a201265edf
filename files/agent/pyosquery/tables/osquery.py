"""The osquery_* tables: the agent describing itself.

They read the process's runtime: the daemon installs its own (schedule, packs, stats);
without one (the shell) the schedule is empty and the rest describes the shell.
"""

import os
import time

from pyosquery import __version__

_STARTED = int(time.time())


class Runtime:
    """What the osquery_* tables see. The daemon's runtime overrides these."""

    watcher = -1
    config_hash = ""
    config_valid = 0
    extensions_active = False
    socket = ""

    def schedule_rows(self):
        return []

    def run_rows(self):
        return []

    def pack_rows(self):
        return []

    def flag_rows(self):
        from pyosquery import flags   # pylint: disable=import-outside-toplevel  # only when the table is read
        return flags.table_rows(flags.Values())

    def instance_ids(self):
        """(uuid, instance_id) of this host and process."""
        return "", ""

    def table_names(self):
        return []

    def watchdog_rows(self):
        """osquery_watchdog: empty where no daemon runs (the shell)."""
        return []

    def extension_infos(self):
        """uuid -> ExtensionInfo of the extensions registered with this process's socket."""
        return {}

    def event_counts(self):
        """({publisher: counts}, {subscriber table: counts}) of the running events hub: none here."""
        return {}, {}


_RUNTIME = [Runtime()]


def install(runtime):
    """Make `runtime` the one the osquery_* tables read (the daemon calls this at start)."""
    _RUNTIME[0] = runtime


def runtime():
    return _RUNTIME[0]


def gen_osquery_schedule(_context):
    return runtime().schedule_rows()


def gen_osquery_schedule_runs(_context):
    return runtime().run_rows()


def gen_osquery_packs(_context):
    return runtime().pack_rows()


def gen_osquery_flags(_context):
    return runtime().flag_rows()


def gen_osquery_info(_context):
    current = runtime()
    uuid, instance = current.instance_ids()
    return [{"pid": os.getpid(), "uuid": uuid, "instance_id": instance, "version": __version__,
             "config_hash": current.config_hash, "config_valid": current.config_valid,
             "extensions": "active" if current.extensions_active else "inactive",
             "build_platform": "linux", "build_distro": "python", "start_time": _STARTED,
             "watcher": current.watcher, "platform_mask": 9}]     # 9 = POSIX | LINUX, as osquery's mask


def gen_osquery_watchdog(_context):
    return runtime().watchdog_rows()


def gen_osquery_registry(_context):
    rows = [{"registry": "table", "name": name, "owner_uuid": 0, "internal": 0, "active": 1}
            for name in runtime().table_names()]
    rows += [{"registry": "config", "name": "filesystem", "owner_uuid": 0, "internal": 0, "active": 1},
             {"registry": "logger", "name": "filesystem", "owner_uuid": 0, "internal": 0, "active": 1},
             {"registry": "logger", "name": "stdout", "owner_uuid": 0, "internal": 0, "active": 1}]
    return rows


def gen_osquery_extensions(_context):
    current = runtime()
    rows = [{"uuid": 0, "name": "core", "version": __version__, "sdk_version": "0.0.0",
             "path": current.socket, "type": "core"}]
    rows += [{"uuid": uuid, "name": info.name, "version": info.version or "", "sdk_version": info.sdk_version or "",
              "path": "%s.%d" % (current.socket, uuid), "type": "extension"}
             for uuid, info in sorted(current.extension_infos().items())]
    return rows


# The publisher each declared subscriber table reads on Linux, as osquery wires them.
EVENT_PUBLISHERS = {
    "file_events": "inotify", "yara_events": "inotify", "hardware_events": "udev", "syslog_events": "syslog",
    "process_events": "auditeventpublisher", "socket_events": "auditeventpublisher",
    "user_events": "auditeventpublisher", "process_file_events": "auditeventpublisher",
    "selinux_events": "auditeventpublisher", "apparmor_events": "auditeventpublisher",
    "seccomp_events": "auditeventpublisher",
}


def gen_osquery_events(_context):
    """The publishers and subscribers behind the declared event tables, with the events hub's
    counts; those it does not run (--disable_events, no publisher here) are listed inactive, as
    osquery lists them, so a config naming them still loads. `lost` (hidden) is ours: events the
    kernel, the publisher or the hub's full pending list dropped."""
    from pyosquery.tables.spec import load_tables   # pylint: disable=import-outside-toplevel
    publishers, subscribers = runtime().event_counts()
    tables = [name for name, table in load_tables().items() if table.evented]
    owner = dict(EVENT_PUBLISHERS, **{name: counts["publisher"] for name, counts in subscribers.items()
                                      if counts["publisher"]})
    idle = {"subscriptions": 0, "events": 0, "refreshes": 0, "active": 0, "lost": 0}
    names = sorted(({owner.get(name, "") for name in tables} | set(publishers)) - {""})
    rows = [dict(idle, name=name, publisher=name, type="publisher", **_known(publishers.get(name, {}), idle))
            for name in names]
    rows += [dict(idle, name=name, publisher=owner.get(name, ""), type="subscriber",
                  **_known(subscribers.get(name, {}), idle)) for name in tables]
    return rows


def _known(counts, idle):
    """The osquery_events counters found in `counts` (a publisher's may hold more)."""
    return {key: int(counts[key]) for key in idle if key in counts}
