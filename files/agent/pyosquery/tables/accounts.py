"""Accounts: users, groups, user_groups, shadow, sudoers; the passwd helpers other modules share.

The local databases are read as files (not through NSS), as osquery does unless a query asks
for remote accounts, so a directory service is never enumerated by accident. Paths are module
constants so tests can point them at fixture files.
"""

import fnmatch
import os
import pwd
import re
import struct

from pyosquery.tables import _os
from pyosquery.tables.context import GLOB, LIKE

PASSWD_PATH = "/etc/passwd"
GROUP_PATH = "/etc/group"
SHADOW_PATH = "/etc/shadow"
SUDOERS_PATH = "/etc/sudoers"
UTMP_PATH = "/var/run/utmp"
WTMP_PATH = "/var/log/wtmp"

# glibc's struct utmp on Linux (384 bytes, also on 64-bit: times are 32-bit there):
# type, pid, line[32], id[4], user[32], host[256], exit, session, tv_sec, tv_usec, addr, unused
UTMP = struct.Struct("<hxxi32s4s32s256shhiii16s20s")
USER_PROCESS, DEAD_PROCESS = 7, 8
# osquery's names: logged_in_users uses one set, last (type_name) another.
LOGIN_TYPES = {0: "empty", 1: "runlevel", 2: "boot_time", 3: "new_time", 4: "old_time", 5: "init",
               6: "login", 7: "user", 8: "dead", 9: "accounting"}
LAST_TYPE_NAMES = {0: "empty", 1: "run-level", 2: "boot-time", 3: "new-time", 4: "old-time",
                   5: "init-process", 6: "login-process", 7: "user-process", 8: "dead-process"}

# sudoers(5): no more than 128 files may be nested.
SUDOERS_MAX_NEST = 128
SUDO_SPACE = " \t\v"
SUDO_SPLIT = re.compile("[ \t\v]")
HASH_ALG = re.compile(r"^\$(\w+)\$")


# --- shared helpers -------------------------------------------------------------------------

def as_int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _like_regex(pattern):
    """SQLite LIKE as a regex: % and _ wildcards, ASCII case-insensitive."""
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.S | re.I)


def matches(context, column, value):
    """True when `value` satisfies every constraint on `column`.

    Constraints on `additional` columns are not re-checked by SQLite (they are inputs), so a
    generator that echoes such a column must apply them itself.
    """
    wanted = context.equals(column)
    if wanted is not None and value not in wanted and str(value) not in {str(w) for w in wanted}:
        return False
    text = "" if value is None else str(value)
    for pattern in context.patterns(column, LIKE):
        if not _like_regex(str(pattern)).match(text):
            return False
    return all(fnmatch.fnmatchcase(text, str(p)) for p in context.patterns(column, GLOB))


def wanted_ints(context, column):
    """The integer values `column` must equal, or None when unconstrained."""
    values = context.equals(column)
    if values is None:
        return None
    return {as_int(v) for v in values} - {None}


def namespace_requested(context):
    """True when a query asks for another process's namespace, which we cannot enter."""
    pids = wanted_ints(context, "pid_with_namespace")
    return bool(pids) and pids != {0}


def colon_records(path, fields):
    """Records of a colon-separated database file (passwd, group, shadow), padded to `fields`."""
    for line in _os.read_lines(path):
        if not line or line.startswith(("#", "+", "-")):
            continue          # NIS compat markers are not local accounts
        parts = line.split(":")
        if len(parts) < fields - 1:
            continue          # malformed: glibc skips it too
        yield parts + [""] * (fields - len(parts))


def passwd_entries(include_remote=False):
    """(username, uid, gid, gecos, home, shell) of each account: local file or NSS."""
    if include_remote:
        for entry in pwd.getpwall():
            yield (entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_gecos, entry.pw_dir, entry.pw_shell)
        return
    for name, _pw, uid, gid, gecos, home, shell in colon_records(PASSWD_PATH, 7):
        uid, gid = as_int(uid), as_int(gid)
        if uid is not None and gid is not None:
            yield (name, uid, gid, gecos, home, shell)


def users_from_context(context, all_users=False):
    """(uid, gid, username, home) of the users a per-user table reads, as osquery's usersFromContext.

    `uid = N` (or IN) names them; a uid the local files lack is looked up through NSS, as
    osquery retries with include_remote. Without a uid constraint only the user running the
    query is read (`users CROSS JOIN <table> USING (uid)` reads everyone), unless `all_users`.
    """
    uids = wanted_ints(context, "uid")
    asked = uids is not None
    if not asked and not all_users:
        uids = {os.getuid()}
    found = set()
    for name, uid, gid, _gecos, home, _shell in passwd_entries():
        if uids is None or uid in uids:
            found.add(uid)
            yield uid, gid, name, home
    for uid in sorted(uids - found) if asked else ():
        try:
            entry = pwd.getpwuid(uid)
        except (KeyError, OverflowError):
            continue
        yield entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_dir


def _int32(value):
    """The value as a signed 32-bit int, as osquery's (int32_t) casts show it."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= (1 << 31) else value


# --- users, groups, user_groups -------------------------------------------------------------

def gen_users(context):
    if namespace_requested(context):
        return
    uids = wanted_ints(context, "uid")
    remote = 1 in (wanted_ints(context, "include_remote") or ())
    for name, uid, gid, gecos, home, shell in passwd_entries(remote):
        if uids is not None and uid not in uids:
            continue
        if not matches(context, "username", name):
            continue
        yield {"uid": uid, "gid": gid, "uid_signed": _int32(uid), "gid_signed": _int32(gid),
               "username": name, "description": gecos, "directory": home, "shell": shell,
               "pid_with_namespace": 0, "include_remote": 1 if remote else 0}


def group_entries():
    """(name, gid, [members]) of each local group."""
    for name, _pw, gid, members in colon_records(GROUP_PATH, 4):
        gid = as_int(gid)
        if gid is not None:
            yield name, gid, [m for m in members.split(",") if m]


def gen_groups(context):
    if namespace_requested(context):
        return
    gids = wanted_ints(context, "gid")
    seen = set()
    for name, gid, _members in group_entries():
        if gid in seen or (gids is not None and gid not in gids):
            continue      # osquery reports each gid once
        seen.add(gid)
        yield {"gid": gid, "gid_signed": _int32(gid), "groupname": name, "pid_with_namespace": 0}


def gen_user_groups(context):
    uids = wanted_ints(context, "uid")
    groups = None
    seen = set()
    for name, uid, gid, _gecos, _home, _shell in passwd_entries():
        if uid in seen or (uids is not None and uid not in uids):
            continue
        seen.add(uid)
        if groups is None:
            groups = list(group_entries())     # read lazily: WHERE uid = 99999 reads nothing more
        # getgrouplist(3) order: the primary group, then supplementary groups in file order.
        gids = [gid]
        for _gname, ggid, members in groups:
            if name in members and ggid not in gids:
                gids.append(ggid)
        for each in gids:
            yield {"uid": uid, "gid": each}


# --- shadow ---------------------------------------------------------------------------------

def password_status(password):
    """osquery's reading of the shadow password field."""
    if password == "!!":
        return "not_set"
    if password[:1] in ("!", "*", "x"):
        return "locked"
    if not password:
        return "empty"
    return "active"


def _days(value):
    # getspent(3) reports an empty numeric field as -1
    return as_int(value, -1) if value.strip() else -1


def gen_shadow(context):
    names = context.equals("username")
    for fields in colon_records(SHADOW_PATH, 9):
        name, password = fields[0], fields[1]
        if names is not None and name not in names:
            continue
        row = {"username": name, "password_status": password_status(password)}
        found = HASH_ALG.search(password)
        if found:
            row["hash_alg"] = found.group(1)
        for column, value in zip(("last_change", "min", "max", "warning", "inactive", "expire", "flag"),
                                 fields[2:9]):
            row[column] = _days(value)
        yield row


# --- sudoers --------------------------------------------------------------------------------

def _sudoers_includes(kind, target, filename):
    """Files an include line names: relative paths are relative to the including file."""
    if not target.startswith("/"):
        target = os.path.join(os.path.dirname(filename), target)
    if kind.endswith("includedir"):
        # sudoers(5): files in an includedir whose name contains '.' or ends in '~' are
        # skipped; sudo reads the rest in lexical order.
        names = sorted(n for n in _os.list_dir(target) if "." not in n and not n.endswith("~"))
        return [os.path.join(target, n) for n in names if os.path.isfile(os.path.join(target, n))]
    return [target]


def _sudoers_file(filename, level, rows):
    if level > SUDOERS_MAX_NEST:
        return
    text = _os.read_text(filename)
    if text is None:
        return
    continued = False
    for line in text.split("\n"):
        line = line.strip(SUDO_SPACE)
        if not line:
            continue
        if continued:
            # a trailing backslash joins the next line onto the previous rule
            continued = line.endswith("\\")
            last = rows[-1]
            key = "rule_details" if last["rule_details"] else "header"
            last[key] = last[key][:-1]
            last["rule_details"] += line
            continue
        header = SUDO_SPLIT.split(line, 1)[0]
        details = line[len(header):].strip(SUDO_SPACE)
        include = header in ("#include", "@include", "#includedir", "@includedir")
        if line.startswith("#") and not include:
            continue
        if include and not details:
            continue          # an include without a target is just a comment
        continued = not include and line.endswith("\\")
        rows.append({"source": filename, "header": header, "rule_details": details})
        if include:
            for path in _sudoers_includes(header, details, filename):
                _sudoers_file(path, level + 1, rows)


def gen_sudoers(_context):
    rows = []
    _sudoers_file(SUDOERS_PATH, 1, rows)
    return rows


# --- utmp / wtmp ----------------------------------------------------------------------------

def _cstr(raw):
    """A fixed-size utmp char array: up to the first NUL (the array need not hold one)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def utmp_records(path):
    """(type, pid, line, user, host, tv_sec) of each whole record in a utmp-format file."""
    data = _os.read_bytes(path)
    if not data:
        return
    for offset in range(0, len(data) - UTMP.size + 1, UTMP.size):
        fields = UTMP.unpack_from(data, offset)
        yield (fields[0], fields[1], _cstr(fields[2]), _cstr(fields[4]), _cstr(fields[5]), fields[9])


def gen_logged_in_users(_context):
    for ut_type, pid, line, user, host, seconds in utmp_records(UTMP_PATH):
        if pid == 1:
            continue      # init's own records (boot, runlevel) are not logins
        yield {"type": LOGIN_TYPES.get(ut_type, "unknown"), "user": user, "tty": line,
               "host": host, "time": seconds, "pid": pid}


def gen_last(_context):
    for ut_type, pid, line, user, host, seconds in utmp_records(WTMP_PATH):
        if ut_type in (USER_PROCESS, DEAD_PROCESS):     # logins and logouts only, as osquery
            yield {"username": user, "tty": line, "pid": pid, "type": ut_type,
                   "type_name": LAST_TYPE_NAMES[ut_type], "time": seconds, "host": host}
