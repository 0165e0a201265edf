# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout state's files: each replaced atomically and durably, read back with a clear error.

A temporary file in the same directory, fsync, rename, then fsync of the directory: an
interrupted run leaves either the old or the new version of a file, never half of one.
"""

import contextlib
import fcntl
import json
import os
import tempfile


class StateError(Exception):
    """A refusal or a broken state directory, with a message an operator can act on."""


def write_json(path, data, pretty=True):
    """Replace PATH with DATA as JSON, atomically and durably."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    text = json.dumps(data, sort_keys=True, indent=1 if pretty else None, default=str)
    write_text(path, text + "\n")


def write_text(path, text):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default
    except ValueError as exc:
        raise StateError("%s: not valid JSON (%s); the state directory is damaged" % (path, exc)) from exc


@contextlib.contextmanager
def guarded(lock_dir):
    """Hold an exclusive flock on LOCK_DIR/.guard: lock files are read and changed under it only."""
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    with open(os.path.join(lock_dir, ".guard"), "a", encoding="utf-8") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        yield
