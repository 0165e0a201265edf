"""The daemon's pidfile: created and locked by the top process, removed on exit."""

import errno
import fcntl
import os

from pyosquery import private_dirs


class PidfileBusy(Exception):
    """Another live daemon holds the pidfile."""


class Pidfile:
    """An flock'ed pidfile, as osquery's: a second daemon fails instead of running twice."""

    def __init__(self, path, directory_mode=0o755, private=False):
        self.path = path
        self.directory_mode = directory_mode
        self.private = private      # refuse a directory others can write (pyosquery.private_dirs)
        self.fd = None

    def acquire(self):
        private_dirs.ensure(os.path.dirname(os.path.abspath(self.path)), self.directory_mode, self.private)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise PidfileBusy(self.path) from error
            raise
        os.ftruncate(fd, 0)
        os.write(fd, b"%d\n" % os.getpid())
        self.fd = fd

    def release(self):
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = None


def live_pid(path):
    """The pid of the live daemon that holds the pidfile at `path`, or None.

    A pidfile a killed daemon left behind names a pid that may belong to anything by now, so the
    pid counts only while the pidfile is locked (our daemon holds the lock for as long as it runs)
    and that process's command line is pyosqueryd's.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise
    else:
        return None         # nobody holds it: stale
    finally:
        os.close(fd)
    pid = read_pid(path)
    return pid if pid is not None and _is_daemon(pid) else None


def _is_daemon(pid):
    """True when the process runs pyosqueryd (its console script, or the module)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            words = handle.read().split(b"\0")[:3]
    except OSError:
        return False
    return any(os.path.basename(word) == b"pyosqueryd" for word in words) or b"pyosquery.daemon.main" in words


def read_pid(path):
    """The pid written in a pidfile, or None."""
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None
