"""The inotify publisher: `file_events` rows for the config's file_paths, as osquery's (events/linux/inotify.cpp).

One daemon thread sleeps in poll() on the inotify descriptor (and a pipe that wakes it to stop);
woken, it lets the queue fill for BATCH_WAIT, then reads it in one call and emits that batch's rows
at once: under a write storm a batch holds thousands of events, the kernel merges a file's repeated
IN_MODIFY, and a path is stat'ed and hashed once per batch. All watch state is
guarded by one lock, taken once per batch and by configure().

Actions are osquery's: the lowest event bit of an event names it (IN_MODIFY and IN_CLOSE_WRITE
are both UPDATED, so a write gives two rows, as in osquery); opens and reads (OPENED, ACCESSED)
only for the categories in file_accesses. `transaction_id` is the kernel's cookie, the same on
the MOVED_FROM and MOVED_TO of one rename.

Under a `%%` tree, a directory created (or moved in) gets its watch at once and is then listed:
what was created in it before the watch took is reported CREATED (each entry once: the kernel's
own event for it is dropped if it follows). A directory removed or moved out loses its watch.
An overflow of the kernel's queue (IN_Q_OVERFLOW) counts as lost and is logged at most once a
second; a watch that cannot be added names its path and, for the limits, the sysctl and value.
"""

import errno
import logging
import os
import select
import threading
import time

from pyosquery.events import PublisherError, fim_paths, fim_rows, inotify_kernel as kernel

LOG = logging.getLogger("pyosquery.events.inotify")
TABLE = "file_events"
READ_SIZE = 1 << 20         # bytes read from the queue at once: about 30,000 events with short names
BATCH_WAIT = 0.05           # seconds between the first event and the read: the kernel queue holds 16,384
EMIT_ROWS = 2048            # rows built and emitted at once: a full queue (16,384 events) is not 16,384 dicts
SCAN_MEMORY = 2.0           # seconds a listed entry's own IN_CREATE is awaited (to drop the duplicate)

# osquery's kMaskActions in its map order: the lowest bit set names the action
_ORDER = ((kernel.IN_ACCESS, "ACCESSED"), (kernel.IN_MODIFY, "UPDATED"), (kernel.IN_ATTRIB, "ATTRIBUTES_MODIFIED"),
          (kernel.IN_CLOSE_WRITE, "UPDATED"), (kernel.IN_OPEN, "OPENED"), (kernel.IN_MOVED_FROM, "MOVED_FROM"),
          (kernel.IN_MOVED_TO, "MOVED_TO"), (kernel.IN_CREATE, "CREATED"), (kernel.IN_DELETE, "DELETED"))
ACTION_BITS = 0x3ff
ACTIONS = [next((name for bit, name in _ORDER if bits & bit), None) for bits in range(ACTION_BITS + 1)]
HASHED_ACTIONS = ("CREATED", "UPDATED")
SELF_EVENTS = kernel.IN_Q_OVERFLOW | kernel.IN_IGNORED | kernel.IN_MOVE_SELF | kernel.IN_DELETE_SELF
NEW_DIRECTORY = kernel.IN_CREATE | kernel.IN_MOVED_TO


class Watch:        # pylint: disable=too-few-public-methods  # a record read per event: slots are cheapest
    """One inotify watch: its path (a directory ends in "/"), the subscriptions it serves, its exclusions."""
    __slots__ = ("path", "owners", "tree", "excluded", "exclude_name", "inode")

    def __init__(self, path, owners, excludes, inode):
        self.path, self.owners, self.inode = path, owners, inode
        self.tree = [owner for owner in owners if owner.recursive]
        if path.endswith("/"):
            self.excluded, self.exclude_name = excludes.for_directory(path)
        else:
            self.excluded = excludes.covers(path) or excludes.covers(os.path.dirname(path))
            self.exclude_name = None


def _mask(owners):
    """osquery's masks, and IN_MOVE_SELF: a watched directory moved out of its tree loses its watches."""
    if any(owner.accesses for owner in owners):
        return kernel.CHANGE_MASK | kernel.ACCESS_MASK | kernel.IN_MOVE_SELF
    return kernel.CHANGE_MASK | kernel.IN_MOVE_SELF


def _inode(path):
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class InotifyPublisher:     # pylint: disable=too-many-instance-attributes  # one thread's kernel state
    """The publisher protocol of events/__init__.py over inotify."""
    name = "inotify"
    tables = (TABLE,)

    def __init__(self, values, emit):
        self.values, self.emit = values, emit
        self._lock = threading.Lock()
        self._fd = self._wake = self._thread = None
        self._rules = None
        self._watches = {}          # wd -> Watch
        self._scanned, self._scanned_at = {}, 0.0     # (wd, name) listed after a new directory's watch took
        self._counts = {"subscriptions": 0, "events": 0, "refreshes": 0, "lost": 0}
        self._unlogged_lost, self._lost_logged = 0, 0.0
        self._rows = fim_rows.RowMaker(values.read_max)

    def wanted(self):
        return bool(self.values.enable_file_events)

    def configure(self, config):
        """Watch what the config's file_paths name (replacing the previous watches); the warnings name
        each glob at fault, and each path that could not be watched."""
        rules = fim_paths.rules(config)
        with self._lock:
            self._rules = rules
            self._counts["subscriptions"] = rules.subscriptions
            self._counts["refreshes"] += 1
            return rules.warnings + (self._apply(rules) if self._fd is not None else [])

    def start(self):
        with self._lock:
            if self._thread is not None:
                return
            try:
                self._fd = kernel.init()
            except kernel.InotifyError as error:
                raise PublisherError(str(error)) from None
            self._wake = os.pipe()
            for warning in self._apply(self._rules) if self._rules else ():
                LOG.warning("inotify: %s", warning)
            self._thread = threading.Thread(target=self._run, name="pyosquery-inotify", daemon=True)
            self._thread.start()

    def stop(self):
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            os.write(self._wake[1], b"x")
        thread.join()
        with self._lock:
            for fd in (self._fd,) + self._wake:
                os.close(fd)
            self._fd = self._wake = None
            self._watches = {}

    def counts(self):
        with self._lock:
            active = int(self._thread is not None and self._thread.is_alive())
            return dict(self._counts, active=active)

    def watched(self):
        """{path: wd} of every watch (for tests and diagnostics)."""
        with self._lock:
            return {watch.path: wd for wd, watch in self._watches.items()}

    # -- watches (called with the lock held) --

    def _add(self, table, path, owners):
        """(wd, Watch) for `path` in `table`, merged with the watch already there for its inode (the kernel
        gives one wd per inode: a second glob, a directory moved within a tree); raises InotifyError."""
        wd = kernel.add_watch(self._fd, path, _mask(owners))
        inode, old = _inode(path), table.get(wd)
        if old is not None:
            merged = old.owners + tuple(owner for owner in owners if owner not in old.owners)
            if _mask(merged) != _mask(owners):
                kernel.add_watch(self._fd, path, _mask(merged))
            if old.inode == inode and _inode(old.path) == inode:
                path = old.path         # still valid: keep the first name (a moved directory takes its new one)
            owners = merged
        watch = table[wd] = Watch(path, tuple(owners), self._rules.excludes, inode)
        return wd, watch

    def _tree(self, table, root, owners, pending=None):
        """Watch `root` and every directory below it; with `pending`, report what they hold as CREATED.
        Returns the InotifyError that stopped it, if any."""
        stack = [root]
        while stack:
            path = stack.pop()
            try:
                wd, watch = self._add(table, path, owners)
            except kernel.InotifyError as error:
                if error.errno == errno.ENOSPC:
                    return error
                continue        # gone already, or unreadable
            try:
                entries = list(os.scandir(path))
            except OSError:
                continue
            for entry in entries:
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    stack.append(path + entry.name + "/")
                if pending is not None:
                    self._scanned[(wd, entry.name)] = True
                    self._match(watch, entry.name, kernel.IN_ISDIR if is_dir else 0, "CREATED", 0, pending)
        return None

    def _apply(self, rules):
        """Replace the watches by those `rules` asks for; warnings for the paths that cannot be watched."""
        table, warnings = {}, []
        for index, target in enumerate(rules.targets):
            try:
                if target.owner.recursive:
                    error = self._tree(table, target.path, (target.owner,))
                    if error is not None:
                        raise error
                else:
                    self._add(table, target.path, (target.owner,))
            except kernel.InotifyError as error:
                warnings.append("file_paths.%s: %s" % (target.owner.category, error))
                if error.errno == errno.ENOSPC:
                    left = len(rules.targets) - index - 1
                    warnings[-1] += "; watching stopped there" + (", %d more targets not watched" % left if left else "")
                    break
        for wd in set(self._watches) - set(table):
            kernel.rm_watch(self._fd, wd)
        self._watches = table
        return warnings

    # -- events (the thread) --

    def _run(self):
        poller, waker = select.poll(), select.poll()
        poller.register(self._fd, select.POLLIN)
        for each in (poller, waker):
            each.register(self._wake[0], select.POLLIN)
        while True:
            if any(fd == self._wake[0] for fd, _ in poller.poll()):
                return
            if waker.poll(BATCH_WAIT * 1000):      # let a burst gather: one read, one stat and hash per path
                return
            try:
                data = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                continue
            except OSError as error:
                LOG.error("inotify: reading events failed: %s; file_events stopped", error)
                return
            with self._lock:
                pending = self._dispatch(data)
            now = int(time.time())
            for start in range(0, len(pending), EMIT_ROWS):
                rows = self._rows.rows(pending[start:start + EMIT_ROWS], now)
                self.emit(TABLE, rows)
                with self._lock:
                    self._counts["events"] += len(rows)

    def _dispatch(self, data):
        """[(path, category, action, cookie, hash wanted)] for one read of the queue."""
        pending, watches, now = [], self._watches, time.monotonic()
        if self._scanned and now - self._scanned_at > SCAN_MEMORY:
            self._scanned.clear()
        for wd, mask, cookie, name in kernel.events(data):
            if mask & SELF_EVENTS:
                self._self_event(wd, mask)
                continue
            watch = watches.get(wd)
            action = ACTIONS[mask & ACTION_BITS]
            if watch is None or action is None:
                continue
            if self._scanned and mask & kernel.IN_CREATE and self._scanned.pop((wd, name), None):
                continue        # reported when its new directory was listed
            self._match(watch, name, mask, action, cookie, pending)
            if mask & kernel.IN_ISDIR and mask & NEW_DIRECTORY and watch.tree:
                self._new_directory(watch, name, pending if mask & kernel.IN_CREATE else None)
        self._log_lost(now)
        return pending

    def _match(self, watch, name, mask, action, cookie, pending):
        """Append the event's row for each category of `watch` that takes it (one per category)."""
        if watch.excluded or (name and watch.exclude_name is not None and watch.exclude_name(name)):
            return
        path = watch.path + name
        access, categories = mask & kernel.ACCESS_MASK, None
        for owner in watch.owners:
            if (access and not owner.accesses) or (owner.leaf is not None and not owner.leaf(name)):
                continue
            if categories is None:
                categories = set()
            elif owner.category in categories:
                continue
            categories.add(owner.category)
            pending.append((path, owner.category, action, cookie,
                            action in HASHED_ACTIONS and not owner.accesses))

    def _new_directory(self, watch, name, pending):
        self._scanned_at = time.monotonic()
        error = self._tree(self._watches, watch.path + name + "/", tuple(watch.tree), pending)
        if error is not None:
            LOG.warning("inotify: %s: new directory not watched", error)

    def _self_event(self, wd, mask):
        if mask & kernel.IN_Q_OVERFLOW:
            self._counts["lost"] += 1
            self._unlogged_lost += 1
        elif mask & kernel.IN_IGNORED:
            self._watches.pop(wd, None)         # its directory or file is gone (or we removed it)
        elif mask & kernel.IN_MOVE_SELF and wd in self._watches:
            self._moved(self._watches[wd])

    def _moved(self, watch):
        """A watched directory moved: one moved within a tree was re-watched under its new path already;
        one moved elsewhere loses its watch and those below it."""
        for wd, other in list(self._watches.items()):
            if other.path.startswith(watch.path) and _inode(other.path) != other.inode:
                kernel.rm_watch(self._fd, wd)
                del self._watches[wd]

    def _log_lost(self, now):
        if self._unlogged_lost and now - self._lost_logged >= 1.0:
            LOG.warning("inotify: the kernel's event queue overflowed %d times "
                        "(fs.inotify.max_queued_events = %s): file events lost",
                        self._unlogged_lost, kernel.limit("max_queued_events"))
            self._unlogged_lost, self._lost_logged = 0, now
