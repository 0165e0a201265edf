"""OS access for generators, with OS errors translated in one place.

A file that vanished, or that this user may not read, is an absent value (None or an empty
list), never an exception: processes exit mid-scan and files change under a query, and one
of them must not fail the whole query. Errors other than these still raise.
"""

import errno
import os
import subprocess

# errno values that mean "this thing is gone or not ours to read": skip it.
SKIPPED = frozenset((errno.ENOENT, errno.ESRCH, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                     errno.EINVAL, errno.ELOOP, errno.ENXIO, errno.ENODEV, errno.EIO,
                     errno.ENAMETOOLONG))   # a walk that reaches PATH_MAX through nested mounts


def skipped(error):
    """True when an OSError only means the object is gone or unreadable."""
    return error.errno in SKIPPED


def read_bytes(path, limit=-1):
    """The file's bytes, or None when it is gone or unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError as error:
        if skipped(error):
            return None
        raise


def read_small(path):
    """A small file's bytes via raw os calls (the hot path of /proc scans), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        if skipped(error):
            return None
        raise
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as error:
        if skipped(error):
            return None
        raise
    finally:
        os.close(fd)


def read_text(path, limit=-1):
    """The file's text (UTF-8, undecodable bytes replaced), or None."""
    data = read_bytes(path, limit)
    return None if data is None else data.decode("utf-8", "replace")


def read_lines(path):
    """The file's lines without line ends; [] when it is gone or unreadable."""
    text = read_text(path)
    return [] if text is None else text.splitlines()


def read_link(path):
    """The symlink's target, or None."""
    try:
        return os.readlink(path)
    except OSError as error:
        if skipped(error):
            return None
        raise


def list_dir(path):
    """Entry names of a directory (a path, or a descriptor from open_directory); [] when it is gone or unreadable."""
    try:
        return os.listdir(path)
    except OSError as error:
        if skipped(error):
            return []
        raise


def scan_dir(path):
    """os.DirEntry objects of a directory, as far as it can be read.

    Reading can fail after opening (a zombie's /proc/<pid>/net opens, then gives EINVAL):
    the entries read so far are kept and the rest skipped.
    """
    try:
        with os.scandir(path) as entries:
            yield from entries
    except OSError as error:
        if not skipped(error):
            raise


def open_directory(path):
    """A read-only descriptor of a directory (not of a link to one), or None."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if skipped(error):
            return None
        raise


def lstat(path):
    """os.lstat result, or None."""
    try:
        return os.lstat(path)
    except OSError as error:
        if skipped(error):
            return None
        raise


def stat(path, follow_symlinks=True, dir_fd=None):
    """os.stat result (of `path` relative to directory descriptor `dir_fd` if given), or None."""
    try:
        return os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    except OSError as error:
        if skipped(error):
            return None
        raise


def key_values(path, separator=":"):
    """Lines `key<sep> value` of a file (as /proc/meminfo, /proc/PID/status) as a dict."""
    result = {}
    for line in read_lines(path):
        key, sep, value = line.partition(separator)
        if sep:
            result[key.strip()] = value.strip()
    return result


def key_value_blocks(lines, separator):
    """Blank-line separated blocks of `key<sep>value` lines (/proc/cpuinfo, `systemctl show`) as dicts."""
    blocks, current = [], {}
    for line in list(lines) + [""]:
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = line.partition(separator)
        if sep:
            current[key.strip()] = value.strip()
    return blocks


def config_lines(path, comment="#"):
    """Non-empty lines of a config file with comments stripped."""
    result = []
    for line in read_lines(path):
        line = line.split(comment, 1)[0].strip()
        if line:
            result.append(line)
    return result


def command_output(argv, timeout, env=None):
    """A command's standard output in the C locale, or '' when it is missing, fails to run or times out."""
    env = dict(os.environ if env is None else env, LC_ALL="C")
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                              env=env, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.decode("utf-8", "replace")
