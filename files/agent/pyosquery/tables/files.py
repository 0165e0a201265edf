"""file, hash and suid_bin: filesystem metadata and content hashes."""

import grp
import hashlib
import os
import pwd
import stat as st

from pyosquery.tables import _os
from pyosquery.tables.paths import requested, walk

FILE_TYPES = {st.S_IFREG: "regular", st.S_IFDIR: "directory", st.S_IFLNK: "symlink",
              st.S_IFCHR: "character", st.S_IFBLK: "block", st.S_IFIFO: "fifo",
              st.S_IFSOCK: "socket"}
# file's stat columns and how each comes from an os.stat_result; only used ones are computed
STAT_VALUES = (
    ("inode", lambda i: i.st_ino),
    ("uid", lambda i: i.st_uid),
    ("gid", lambda i: i.st_gid),
    ("mode", lambda i: "%04o" % (i.st_mode & 0o7777)),
    ("device", lambda i: i.st_rdev),
    ("size", lambda i: i.st_size),
    ("block_size", lambda i: i.st_blksize),
    ("atime", lambda i: int(i.st_atime)),
    ("mtime", lambda i: int(i.st_mtime)),
    ("ctime", lambda i: int(i.st_ctime)),
    ("btime", lambda i: 0),     # os.stat has no birth time on Linux; osquery reports 0 too
    ("hard_links", lambda i: i.st_nlink),
    ("type", lambda i: FILE_TYPES.get(st.S_IFMT(i.st_mode), "unknown")),
)
HASHES = ("md5", "sha1", "sha256")
CHUNK = 1 << 20
SUID_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
             "/usr/lib", "/usr/libexec", "/opt")


def file_row(path, directory, context, stat_values):
    """One file row; attributes follow a symlink to its target, as osquery's do."""
    link_info = _os.stat(path, follow_symlinks=False)
    if link_info is None:
        return None
    is_link = st.S_ISLNK(link_info.st_mode)
    row = {"path": path, "directory": directory, "filename": path[path.rfind("/") + 1:],
           "symlink": 1 if is_link else 0}
    if stat_values:
        info = (_os.stat(path) or link_info) if is_link else link_info
        for name, value in stat_values:
            row[name] = value(info)
    if context.uses("symlink_target_path"):
        row["symlink_target_path"] = os.path.realpath(path) if is_link else ""
    return row


def gen_file(context):
    stat_values = [(name, value) for name, value in STAT_VALUES if context.uses(name)]
    for path, directory in requested(context):
        row = file_row(path, directory, context, stat_values)
        if row is not None:
            yield row


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
        if os.path.islink(top):
            continue        # /bin -> usr/bin on merged-/usr systems: /usr/bin is walked anyway
        for path in walk(top):
            info = _os.stat(path, follow_symlinks=False)
            if info is None or not st.S_ISREG(info.st_mode):
                continue
            bits = ("S" if info.st_mode & st.S_ISUID else "") + ("G" if info.st_mode & st.S_ISGID else "")
            if bits:
                username, groupname = _owner_names(info, users, groups)
                yield {"path": path, "username": username, "groupname": groupname, "permissions": bits}
