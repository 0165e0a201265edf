"""The inotify system calls through libc (ctypes), their event layout, and their errors named in one place.

An error names the path and, for the limits, the sysctl to raise and its current value: a host
that runs out of watches says which directory went unwatched and why.
"""

import ctypes
import errno
import os
import struct

IN_ACCESS = 0x1
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_OPEN = 0x20
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x1000000
IN_DONT_FOLLOW = 0x2000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# osquery's masks (events/linux/inotify.cpp): changes always, opens and reads for file_accesses
CHANGE_MASK = IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_DELETE | IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB
ACCESS_MASK = IN_OPEN | IN_ACCESS

HEADER = struct.Struct("iIII")      # struct inotify_event: wd, mask, cookie, len (then the name, NUL-padded)
LIMITS_DIR = "/proc/sys/fs/inotify"
USER_LIMITS_DIR = "/proc/sys/user"     # per user namespace

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.inotify_init1.argtypes = [ctypes.c_int]
_LIBC.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_LIBC.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]


class InotifyError(OSError):
    """An inotify call failed; str() names the path and, for a limit, the sysctl and its value."""

    def __str__(self):
        return str(self.strerror)


def limit(name, directory=LIMITS_DIR):
    """The value of /proc/sys/fs/inotify/<name> as text ("?" when it cannot be read)."""
    try:
        with open(os.path.join(directory, name), encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


def _watch_limit():
    """fs.inotify.max_user_watches, and the user namespace's own limit when it is lower (a container)."""
    text = "fs.inotify.max_user_watches = %s" % limit("max_user_watches")
    own = limit("max_inotify_watches", USER_LIMITS_DIR)
    if own.isdigit() and limit("max_user_watches").isdigit() and int(own) < int(limit("max_user_watches")):
        text += ", user.max_inotify_watches = %s in this user namespace" % own
    return text


def _error(code, path):
    if code == errno.ENOSPC:
        reason = "inotify watch limit reached (%s)" % _watch_limit()
    elif code == errno.EMFILE:
        reason = "too many inotify instances (fs.inotify.max_user_instances = %s)" % limit("max_user_instances")
    else:
        reason = os.strerror(code)
    return InotifyError(code, "%s: %s" % (path, reason) if path else reason)


def init():
    """A new non-blocking, close-on-exec inotify descriptor."""
    fd = _LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        raise _error(ctypes.get_errno(), "inotify_init1")
    return fd


def add_watch(fd, path, mask):
    """The watch descriptor for `path` (the same one again for an inode already watched: its mask is replaced)."""
    wd = _LIBC.inotify_add_watch(fd, os.fsencode(path), mask)
    if wd < 0:
        raise _error(ctypes.get_errno(), path)
    return wd


def rm_watch(fd, wd):
    """Remove a watch; one the kernel already dropped (its file is gone) is not an error."""
    _LIBC.inotify_rm_watch(fd, wd)


def events(data):
    """(wd, mask, cookie, name) for each event read, the name as text ("" for the watched path itself)."""
    offset, end, unpack = 0, len(data), HEADER.unpack_from
    size = HEADER.size
    while offset < end:
        wd, mask, cookie, length = unpack(data, offset)
        offset += size
        name = ""
        if length:
            stop = data.find(b"\0", offset, offset + length)
            name = os.fsdecode(data[offset:stop if stop >= 0 else offset + length])
            offset += length
        yield wd, mask, cookie, name
