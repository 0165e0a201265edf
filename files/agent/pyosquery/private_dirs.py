"""The daemon's own directories (logs, database, pidfile): made with explicit modes whatever the umask,
and refused when others may write in them, where they could plant a symlink for us to follow."""

import errno
import os
import stat


class UnsafeDirectory(PermissionError):
    """A directory others may write: not used for the daemon's files."""


def ensure(path, mode, private=True):
    """Create `path` and its missing parents with `mode` (umask ignored); raise OSError if it cannot be,
    or UnsafeDirectory when `private` and the directory is writable by others."""
    missing = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            continue        # made meanwhile by someone else: checked below like any existing one
        os.chmod(directory, mode)
    if private:
        kind = os.stat(path).st_mode
        if kind & stat.S_IWOTH:
            raise UnsafeDirectory(errno.EACCES, "writable by others (mode %04o): refused" % stat.S_IMODE(kind), path)
