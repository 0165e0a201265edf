"""file_events rows: osquery's columns, a stat at event time, and hashes where osquery computes them.

osquery (tables/events/linux/file_events.cpp, event_utils.cpp) stats every event's path (nothing
for a file already gone) and hashes it (md5, sha1, sha256) on CREATED and UPDATED only, and never
in a category listed in file_accesses (reading the file would report accesses of its own).
`hashed` is 1 when hashed, 0 when not asked, -1 when hashing failed (not a regular file, gone,
unreadable, larger than --read_max, whose read osquery refuses).

Cheap under a write storm: a batch (one read of the inotify queue) stats and hashes each path
once, however many events it has (a write is two: IN_MODIFY then IN_CLOSE_WRITE), and hashing
is held to HASH_SHARE of one core over time: beyond it, rows say hashed 0 and the count of those
is logged once a second. (osquery's --hash_delay only paces its `hash` table; it has no such
guard for FIM: it hashes every event in its publisher thread.)
"""

import hashlib
import logging
import os
import stat as st
import time

from pyosquery.tables.files import MODES

LOG = logging.getLogger("pyosquery.events.inotify")
HASH_SHARE = 0.2            # hashing may take this share of one core, averaged over a few seconds
HASH_BURST = 1.0            # seconds of hashing allowed at once (a big file, a short burst)
CHUNK = 1 << 16             # read at once; a larger file is read in pieces of this size
NO_STAT = (None,) * 8       # inode uid gid mode size atime mtime ctime of a file that is gone
NOT_HASHED = (None, None, None, 0)
HASH_FAILED = ("", "", "", -1)


def _stat(path):
    try:
        info = os.stat(path)
    except OSError:
        return None, NO_STAT
    return info, (info.st_ino, info.st_uid, info.st_gid, MODES[info.st_mode & 0o7777], info.st_size,
                  int(info.st_atime), int(info.st_mtime), int(info.st_ctime))


def _digests(path, buffer):
    """(md5, sha1, sha256, 1) of a file's content; a small file (most written ones) in one read."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)   # never blocks: a FIFO put in its place
    try:
        data = os.read(fd, CHUNK)
        if len(data) < CHUNK:
            return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest(), 1
        hashers = (hashlib.md5(data), hashlib.sha1(data), hashlib.sha256(data))
        view = memoryview(buffer)
        while True:
            size = os.readv(fd, [buffer])
            if not size:
                break
            for hasher in hashers:
                hasher.update(view[:size])
    finally:
        os.close(fd)
    return tuple(hasher.hexdigest() for hasher in hashers) + (1,)


class HashBudget:
    """A token bucket of hashing time: HASH_SHARE seconds per second, at most HASH_BURST saved up."""

    def __init__(self, share=HASH_SHARE, burst=HASH_BURST, clock=time.monotonic):
        self.share, self.burst, self.clock = share, burst, clock
        self.tokens, self.last = burst, clock()
        self.skipped, self.logged = 0, self.last

    def allows(self):
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.share)
        self.last = now
        if self.tokens > 0:
            return True
        self.skipped += 1
        if now - self.logged >= 1.0:
            LOG.warning("inotify: %d changed file(s) not hashed (their file_events rows say hashed 0): hashing is "
                        "held to %d%% of one core (a write storm under a watched path)", self.skipped, self.share * 100)
            self.skipped, self.logged = 0, now
        return False

    def spent(self, seconds):
        self.tokens -= seconds


class RowMaker:
    """Turns one batch of events into rows; `read_max` is the largest file hashed (osquery's --read_max)."""

    def __init__(self, read_max, budget=None):
        self.read_max = read_max
        self.budget = budget or HashBudget()
        self.buffer = bytearray(CHUNK)

    def _hashes(self, path, info):
        if info is None or not st.S_ISREG(info.st_mode) or info.st_size > self.read_max:
            return HASH_FAILED
        if not self.budget.allows():
            return NOT_HASHED
        started = time.monotonic()
        try:
            return _digests(path, self.buffer)
        except OSError:
            return HASH_FAILED
        finally:
            self.budget.spent(time.monotonic() - started)

    def rows(self, events, when):
        """Rows for [(path, category, action, cookie, hash wanted)], all at unix time `when`."""
        stats, hashes, rows = {}, {}, []
        for path, category, action, cookie, wanted in events:
            found = stats.get(path)
            if found is None:
                found = stats[path] = _stat(path)
            info, columns = found
            digests = NOT_HASHED
            if wanted:
                digests = hashes.get(path)
                if digests is None:
                    digests = hashes[path] = self._hashes(path, info)
            inode, uid, gid, mode, size, atime, mtime, ctime = columns
            md5, sha1, sha256, hashed = digests
            rows.append({"target_path": path, "category": category, "action": action, "transaction_id": cookie,
                         "inode": inode, "uid": uid, "gid": gid, "mode": mode, "size": size, "atime": atime,
                         "mtime": mtime, "ctime": ctime, "md5": md5, "sha1": sha1, "sha256": sha256,
                         "hashed": hashed, "time": when})
        return rows
