"""file, hash and suid_bin: filesystem metadata and content hashes."""

import grp
import hashlib
import pwd
import stat as st

from pyosquery.tables import _os
from pyosquery.tables.context import exact_like, tuple_rows
from pyosquery.tables.paths import exact, requested, walk

# No symlink: a link's attributes are its target's, and a dangling one (left with its own lstat)
# is `unknown`, as osquery's status() fails on it
FILE_TYPES = {st.S_IFREG: "regular", st.S_IFDIR: "directory",
              st.S_IFCHR: "character", st.S_IFBLK: "block", st.S_IFIFO: "fifo",
              st.S_IFSOCK: "socket"}
MODES = ["%04o" % bits for bits in range(0o10000)]     # permission bits -> the mode column's text
HASHES = ("md5", "sha1", "sha256")
CHUNK = 1 << 20
# osquery's suid_bin roots (posix/suid_bin.cpp), /tmp included: a setuid file dropped there is
# exactly what an audit wants to see. A root that is a symlink (/bin -> usr/bin) is walked
# under its own name, as osquery does, so merged-/usr systems list such files twice.
SUID_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/tmp")


@exact_like(path=exact)
@tuple_rows
def gen_file(context):
    """Rows as tuples in the table's column order, written as one literal from the stat result
    (its items 7-9 are the times in whole seconds) and a table of mode strings: a recursive
    listing runs the loop once per file. A directory a pattern found ends in '/': its filename
    is "." (boost's, in osquery). btime is 0: os.stat has no birth time on Linux, nor osquery.
    A symlink's attributes are its target's (paths.requested follows it) and its
    `symlink_target_path` the link's own text (osquery's read_symlink).
    """
    with_name, with_type = context.uses("filename"), context.uses("type")
    with_target = context.uses("symlink_target_path")
    no_target = "" if with_target else None         # a file that is not a link
    for path, directory, info, is_link in requested(context, stat=True):
        if info is None:
            continue
        mode = info.st_mode
        target = no_target
        if is_link and with_target:
            target = _os.read_link(path) or ""
        yield (path, directory, (path[path.rfind("/") + 1:] or ".") if with_name else None,
               info.st_ino, info.st_uid, info.st_gid, MODES[mode & 0o7777], info.st_rdev, info.st_size,
               info.st_blksize, info[7], info[8], info[9], 0, info.st_nlink, 1 if is_link else 0,
               FILE_TYPES.get(mode & 0o170000, "unknown") if with_type else None, target, None, None)


def digest(path, names):
    """{hash name: hex digest} of a regular file's content, reading it once; None if unreadable."""
    hashers = [(name, hashlib.new(name)) for name in names]
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            while True:
                size = handle.readinto(buffer)
                if not size:
                    break
                for _, hasher in hashers:
                    hasher.update(view[:size])
    except OSError as error:
        if _os.skipped(error) or error.errno == 21:   # EISDIR
            return None
        raise
    return {name: hasher.hexdigest() for name, hasher in hashers}


def gen_hash(context):
    names = [name for name in HASHES if context.uses(name)]
    for path, directory in requested(context):
        info = _os.stat(path)
        if info is None or not st.S_ISREG(info.st_mode):
            continue        # osquery hashes regular files only
        row = {"path": path, "directory": directory}
        if names:
            values = digest(path, names)
            if values is None:
                continue
            row.update(values)
        yield row


def _owner_names(info, users, groups):
    if info.st_uid not in users:
        try:
            users[info.st_uid] = pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            users[info.st_uid] = str(info.st_uid)
    if info.st_gid not in groups:
        try:
            groups[info.st_gid] = grp.getgrgid(info.st_gid).gr_name
        except KeyError:
            groups[info.st_gid] = str(info.st_gid)
    return users[info.st_uid], groups[info.st_gid]


def gen_suid_bin(_context):
    users, groups = {}, {}
    for top in SUID_DIRS:
        for path, _ in walk(top):
            # osquery's test follows a symlink: a link to a setuid file is listed under its own path
            info = _os.stat(path)
            if info is None or not st.S_ISREG(info.st_mode):
                continue
            bits = ("S" if info.st_mode & st.S_ISUID else "") + ("G" if info.st_mode & st.S_ISGID else "")
            if bits:
                username, groupname = _owner_names(info, users, groups)
                yield {"path": path, "username": username, "groupname": groupname, "permissions": bits,
                       "pid_with_namespace": 0}
