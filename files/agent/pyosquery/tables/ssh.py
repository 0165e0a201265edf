"""Per-user SSH and shell files: authorized_keys, known_hosts, ssh_configs, shell_history.

Users come from accounts.users_from_context, as in osquery: a `uid = N` constraint (or a
join with users) reads that user's files; without one, only the user running the query. `uid` is an `additional` column in these tables:
SQLite does not re-check it, so every row is filtered here with accounts.matches.
"""

import glob
import os
import re

from pyosquery.tables import _os
from pyosquery.tables.accounts import matches, namespace_requested, users_from_context

AUTHORIZED_KEYS_FILES = (".ssh/authorized_keys", ".ssh/authorized_keys2")
KNOWN_HOSTS_FILES = (".ssh/known_hosts",)
USER_SSH_CONFIG = ".ssh/config"
SYSTEM_SSH_CONFIG = "/etc/ssh/ssh_config"
HISTORY_FILES = (".bash_history", ".zsh_history", ".zhistory", ".history", ".sh_history")
BASH_SESSIONS = ".bash_sessions"

# The key types osquery's authorized_keys recognises (posix/authorized_keys.cpp); a line with
# another type (ssh-dss, FIDO sk-*, certificates) is not a row there, so it is not one here.
KEY_TYPES = frozenset(("ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                       "ecdsa-sha2-nistp521"))
KEY_RING_LABEL = "zos-key-ring-label="
BASH_TIME = re.compile(r"^#([0-9]+)$")
ZSH_EXTENDED = re.compile(r"^: {0,10}([0-9]{1,11}):[0-9]+;(.*)$", re.S)
CONFIG_BLOCK = re.compile(r"^(host|match)[\s=]")


def _file_lines(path):
    """Trimmed, non-empty, non-comment lines (osquery's split() trims and drops empties)."""
    text = _os.read_text(path)
    if text is None:
        return []
    lines = (line.strip() for line in text.split("\n"))
    return [line for line in lines if line and not line.startswith("#")]


def _users(context):
    """Users whose files to read: none when another namespace is asked for."""
    if namespace_requested(context):
        return
    for uid, gid, name, home in users_from_context(context):
        if matches(context, "uid", uid) and home:
            yield uid, gid, name, home


# --- authorized_keys ------------------------------------------------------------------------

def _tokens(line):
    """(start, end) spans of whitespace-separated tokens; quoted option values keep spaces."""
    spans, start, quoted = [], None, False
    for index, char in enumerate(line):
        if start is None:
            if char in " \t":
                continue
            start = index
        if char == '"':
            quoted = not quoted
        elif char in " \t" and not quoted:
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(line)))
    return spans


def parse_authorized_key(line):
    """{algorithm, key, options, comment} of one authorized_keys line, or None."""
    spans = _tokens(line)
    for position, (start, end) in enumerate(spans):
        if line[start:end] not in KEY_TYPES:
            continue
        if position + 1 >= len(spans):
            return None                       # a key type without a key
        row = {"algorithm": line[start:end]}
        if start:
            row["options"] = line[:start].rstrip()
        key_start, key_end = spans[position + 1]
        row["key"] = line[key_start:key_end]
        comment = line[key_end:].strip()
        if comment:
            row["comment"] = comment
        return row
    if any(option.startswith(KEY_RING_LABEL) for option in line.split(",")):
        return {"options": line}              # z/OS: the key lives in a key ring
    return None


def gen_authorized_keys(context):
    for uid, _gid, _name, home in _users(context):
        for relative in AUTHORIZED_KEYS_FILES:
            path = os.path.join(home, relative)
            for line in _file_lines(path):
                row = parse_authorized_key(line)
                if row is not None:
                    row.update(uid=uid, key_file=path, pid_with_namespace=0)
                    yield row


# --- known_hosts ----------------------------------------------------------------------------

def gen_known_hosts(context):
    for uid, _gid, _name, home in users_from_context(context):
        for relative in KNOWN_HOSTS_FILES:
            path = os.path.join(home, relative)
            for line in _file_lines(path):
                yield {"uid": uid, "key": line, "key_file": path}


# --- ssh_configs ----------------------------------------------------------------------------

def config_rows(uid, path):
    """osquery's reading of an ssh_config: lower-cased lines, each option under its block."""
    block = ""
    for line in _file_lines(path):
        line = line.lower()
        if CONFIG_BLOCK.match(line):
            block = line
        else:
            yield {"uid": uid, "block": block, "option": line, "ssh_config_file": path}


def gen_ssh_configs(context):
    for uid, _gid, _name, home in users_from_context(context):
        if matches(context, "uid", uid) and home:
            yield from config_rows(uid, os.path.join(home, USER_SSH_CONFIG))
    if matches(context, "uid", 0):
        yield from config_rows(0, SYSTEM_SSH_CONFIG)     # the system-wide file, owned by root


# --- shell_history --------------------------------------------------------------------------

def history_rows(uid, path):
    """Rows of one history file: bash `#<epoch>` lines time the next command; zsh extended
    history lines carry their own time; anything else has time 0."""
    text = _os.read_text(path)
    if text is None:
        return
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    pending = None
    for line in lines:
        if pending is None:
            found = BASH_TIME.match(line)
            if found:
                pending = int(found.group(1))
                continue
        if pending is not None:
            seconds, command, pending = pending, line, None
        else:
            found = ZSH_EXTENDED.match(line)
            seconds, command = (int(found.group(1)), found.group(2)) if found else (0, line)
        yield {"uid": uid, "time": seconds, "command": command, "history_file": path}


def gen_shell_history(context):
    for uid, _gid, _name, home in _users(context):
        paths = [os.path.join(home, name) for name in HISTORY_FILES]
        paths += sorted(glob.glob(os.path.join(glob.escape(home), BASH_SESSIONS, "*.history")))
        for path in paths:
            yield from history_rows(uid, path)
