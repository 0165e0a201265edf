"""What runs by itself: crontab, startup_items, systemd_units.

systemd is asked through `systemctl` only where it runs as PID 1 (/run/systemd/system exists,
as sd_booted(3) checks); elsewhere the systemd parts are empty and no process is spawned.
"""

import os

from pyosquery.tables import _os
from pyosquery.tables.accounts import namespace_requested, passwd_entries

CRONTAB_PATH = "/etc/crontab"
CRON_DIRS = ("/etc/cron.d/", "/var/at/tabs/", "/var/spool/cron/", "/var/spool/cron/crontabs/")
CRON_FIELDS = ("minute", "hour", "day_of_month", "month", "day_of_week")

XDG_AUTOSTART_DIRS = ("/etc/xdg/autostart/",)
INIT_SCRIPT_DIRS = ("/etc/init.d/",)
USER_AUTOSTART = "/.config/autostart/"
USER_AUTOSTART_SCRIPTS = "/.config/autostart-scripts/"

SYSTEMD_RUN_DIR = "/run/systemd/system"
SYSTEMCTL = "systemctl"
SYSTEMCTL_TIMEOUT = 30
SHOW_BATCH = 100
UNIT_PATH = "/org/freedesktop/systemd1/unit/"
JOB_PATH = "/org/freedesktop/systemd1/job/"
# systemctl show property -> systemd_units column
PROPERTIES = (("Id", "id"), ("Description", "description"), ("LoadState", "load_state"),
              ("ActiveState", "active_state"), ("SubState", "sub_state"),
              ("UnitFileState", "unit_file_state"), ("Following", "following"),
              ("FragmentPath", "fragment_path"), ("User", "user"), ("SourcePath", "source_path"),
              ("Job", "job_id"))


# --- crontab --------------------------------------------------------------------------------

def cron_row(path, line):
    """osquery's split of one crontab line, or None for lines without a command (variables)."""
    tokens = line.split()
    row = {"path": path}
    if tokens[0].startswith("@"):
        row["event"], command = tokens[0], tokens[1:]
    else:
        row.update(zip(CRON_FIELDS, tokens[:5]))
        command = tokens[5:]
    if not command:
        return None
    row["command"] = " ".join(command)
    row["pid_with_namespace"] = 0
    return row


def cron_files():
    paths = [CRONTAB_PATH]
    for directory in CRON_DIRS:
        for name in sorted(_os.list_dir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                paths.append(path)
    return paths


def gen_crontab(context):
    if namespace_requested(context):
        return
    for path in cron_files():
        for line in _os.read_lines(path):
            line = line.strip()
            if line and not line.startswith("#"):
                row = cron_row(path, line)
                if row is not None:
                    yield row


# --- systemd --------------------------------------------------------------------------------

def systemd_running():
    return os.path.isdir(SYSTEMD_RUN_DIR)


def systemctl(*args):
    """systemctl's output in the C locale, or '' when it cannot run."""
    env = dict(os.environ, SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
    return _os.command_output((SYSTEMCTL, "--no-pager") + args, SYSTEMCTL_TIMEOUT, env)


def bus_path(unit):
    """The unit's D-Bus object path: systemd escapes every byte outside [A-Za-z0-9] as _xx."""
    escaped = "".join(chr(b) if chr(b).isalnum() and b < 128 else "_%02x" % b for b in unit.encode())
    return UNIT_PATH + (escaped or "_")


def parse_list(text, columns):
    """Rows of `systemctl list-units/list-jobs --plain --no-legend`, split into `columns`."""
    rows = []
    for line in text.splitlines():
        fields = line.lstrip("\u25cf* ").split(None, len(columns) - 1)
        if len(fields) >= len(columns) - 1:
            rows.append(dict(zip(columns, fields)))
    return rows


def parse_show(text):
    """Blocks of `systemctl show` (Key=value lines, units separated by blank lines)."""
    return _os.key_value_blocks(text.splitlines(), "=")


def unit_rows(listing, shown, jobs):
    """systemd_units rows from list-units lines, show blocks (by Id) and list-jobs lines."""
    jobs_by_unit = {job["unit"]: job for job in jobs}
    for unit in listing:
        props = shown.get(unit["id"], {})
        row = {column: props.get(prop, "") for prop, column in PROPERTIES}
        for column in ("id", "load_state", "active_state", "sub_state", "description"):
            row[column] = row[column] or unit.get(column, "")
        job = jobs_by_unit.get(unit["id"])
        job_id = int(job["job"]) if job and job["job"].isdigit() else int(row["job_id"] or 0)
        row.update(object_path=bus_path(row["id"]), job_id=job_id,
                   job_type=job["type"] if job else "", job_path=JOB_PATH + str(job_id) if job_id else "/")
        yield row


def systemd_units():
    """All units systemd has loaded, as systemd_units rows; [] where systemd is not PID 1."""
    if not systemd_running():
        return []
    listing = parse_list(systemctl("list-units", "--all", "--plain", "--no-legend", "--full"),
                         ("id", "load_state", "active_state", "sub_state", "description"))
    names = [unit["id"] for unit in listing]
    shown = {}
    for start in range(0, len(names), SHOW_BATCH):
        text = systemctl("show", "--all", "--property=" + ",".join(p for p, _c in PROPERTIES),
                         "--", *names[start:start + SHOW_BATCH])
        shown.update((block.get("Id", ""), block) for block in parse_show(text))
    jobs = parse_list(systemctl("list-jobs", "--plain", "--no-legend", "--full"),
                      ("job", "unit", "type", "state"))
    return list(unit_rows(listing, shown, jobs))


def gen_systemd_units(_context):
    return systemd_units()


# --- startup_items --------------------------------------------------------------------------

def _files(directory):
    return [os.path.join(directory, n) for n in sorted(_os.list_dir(directory))
            if os.path.isfile(os.path.join(directory, n))]


def desktop_items(directory, username=None):
    """XDG autostart .desktop entries: Name= and Exec= as osquery reads them."""
    for path in _files(directory):
        row = {"type": "Startup Item", "status": "enabled", "source": directory, "username": username}
        for line in _os.read_lines(path):
            for key, column in (("Name=", "name"), ("Exec=", "path")):
                if line.startswith(key):
                    row[column] = line[len(key):]
        yield row


def script_items(directory, username=None):
    for path in _files(directory):
        yield {"name": os.path.basename(path), "path": path, "type": "Startup Item", "status": "enabled",
               "source": directory, "username": username}


def systemd_items():
    for unit in systemd_units():
        yield {"name": unit["id"], "type": "systemd unit", "status": unit["active_state"],
               "path": unit["fragment_path"], "source": unit["source_path"], "username": unit["user"]}


def gen_startup_items(_context):
    seen = set()
    for name, _uid, _gid, _gecos, home, _shell in passwd_entries():
        if not home or home in seen:
            continue
        seen.add(home)
        base = home.rstrip("/")
        yield from desktop_items(base + USER_AUTOSTART, name)
        yield from script_items(base + USER_AUTOSTART_SCRIPTS, name)
    for directory in INIT_SCRIPT_DIRS:
        yield from script_items(directory)
    for directory in XDG_AUTOSTART_DIRS:
        yield from desktop_items(directory)
    yield from systemd_items()
