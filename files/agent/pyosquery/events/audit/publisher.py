"""The audit publisher: owns the kernel's audit socket, feeds process_events and socket_events.

One reader thread does the minimum per record (receive, read the type and serial, keep the
datagram); an event is parsed when its EOE arrives, and rows go to emit() in batches.
"""

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import time

from pyosquery.events import PublisherError
from pyosquery.events.audit import assembler, control, netlink, records, rows, rules

LOG = logging.getLogger("pyosquery.events")
RCVBUF = 16 << 20          # the kernel socket buffer absorbs bursts while this thread is busy
STATUS_PERIOD = 2.0        # seconds between AUDIT_GET polls (kernel lost counter, holder check)
BATCH_ROWS, BATCH_SECONDS = 512, 0.5
WARN_PERIOD = 1.0
POLL_MS = 250              # longest wait when quiet (the stop and the status poll need the thread back)
NAP = 0.05                 # seconds; at 3,500 records/s that is ~175 records per wake-up (~200 KB buffered)


class AuditPublisher:
    """osquery's auditeventpublisher over NETLINK_AUDIT (see events-contract.md for the protocol)."""

    name = "auditeventpublisher"
    tables = ("process_events", "socket_events")

    def __init__(self, values, emit, state_path=control.STATE_PATH):
        self.values, self.emit, self.state_path = values, emit, state_path
        self.sock = self.control = self.thread = None
        self.stopping = threading.Event()
        self.syscalls = {}
        self.counters = {"events": 0, "refreshes": 0, "lost": 0}
        self.kernel_lost = None    # the kernel's lost counter when last read
        self.unreported = 0        # lost records not yet in a warning
        self.last_warning = 0.0
        self.lost_why = ""
        self.taken = False         # another process took the audit socket from us
        self.malformed = 0         # events skipped as unreadable (logged at debug level)

    def wanted(self):
        return not self.values.disable_audit

    def configure(self, config):  # pylint: disable=unused-argument
        """The audit rules come from flags, not the config: nothing to check."""
        return []

    def start(self):
        try:
            self.sock = netlink.AuditSocket(rcvbuf=RCVBUF)
            self.control = control.Control(self.sock, self.values, self.state_path)
            self.control.take()
            self.control.configure()
            self.syscalls = rules.syscall_names()
            self.kernel_lost = self.sock.status()["lost"]
        except (OSError, ValueError, control.TakeError) as exc:
            self._release()
            raise PublisherError(str(exc)) from None
        for warning in self.control.warnings:
            LOG.warning("%s: %s", self.name, warning)
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, name="audit-reader", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            with contextlib.suppress(OSError):
                self.sock.request_status()  # its answer wakes the reader from poll() at once
            self.thread.join()
            self.thread = None
        self._release()

    def counts(self):
        active = int(self.thread is not None and self.thread.is_alive())
        subscriptions = int(self.values.audit_allow_process_events) + int(self.values.audit_allow_sockets)
        return dict(self.counters, subscriptions=subscriptions, active=active)

    def _release(self):
        if self.control is not None:
            self.control.give_back()
            self.control = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    # the reader thread

    def _run(self):
        try:
            self._read()
        except Exception:  # pylint: disable=broad-except
            LOG.exception("%s: the audit reader stopped", self.name)

    def _read(self):
        sock, pending = self.sock, assembler.Assembler()
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        batch = {table: [] for table in self.tables}
        size, flushed, polled, got = 0, 0.0, 0.0, 0
        while not self.stopping.is_set():
            try:
                data = sock.receive(flags=socket.MSG_DONTWAIT)
            except BlockingIOError:
                size, flushed, polled = self._idle(batch, size, flushed, polled)
                # after records, nap: the next ones gather in the socket buffer and are read in one
                # go (one wake-up per nap instead of one per event); when quiet, wait for the next
                if got:
                    self.stopping.wait(NAP)
                else:
                    poller.poll(POLL_MS)
                got = 0
                continue
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self._lost(1, "the audit socket's receive buffer overflowed")
                continue
            got += 1
            if len(data) < netlink.HEADER.size:
                continue
            kind = data[4] | data[5] << 8
            if kind in records.KEPT:
                serial = records.stamp(data)[0]
                if serial is not None:
                    pending.add(serial, data)
            elif kind == records.EOE:
                group = pending.end(records.stamp(data)[0])
                if group:
                    size += self._rows(group, batch)
                    if size >= BATCH_ROWS:
                        size, flushed = self._flush(batch)
            elif kind == netlink.AUDIT_GET:
                self._status(netlink.parse_status(data[netlink.HEADER.size:]))
        self._flush(batch)

    def _idle(self, batch, size, flushed, polled):
        now = time.monotonic()
        if size and now - flushed >= BATCH_SECONDS:
            size, flushed = self._flush(batch)
        if now - polled >= STATUS_PERIOD:
            self.sock.request_status()
            polled = now
        if self.unreported and now - self.last_warning >= WARN_PERIOD:
            self._warn_lost(now)
        return size, flushed, polled

    def _rows(self, group, batch):
        """Add the event's row to its table's batch; returns 1 when a row was made."""
        try:
            return self._row(assembler.Event(group), batch)
        except (ValueError, KeyError, IndexError) as exc:  # a record we cannot read: skip that event only
            self.malformed += 1
            LOG.debug("%s: unreadable audit event skipped: %s", self.name, exc)
            return 0

    def _row(self, event, batch):
        syscall = event.syscall
        name = self.syscalls.get((syscall.get("arch"), records.number(syscall.get("syscall"), -1)))
        row = None
        if name in rows.PROCESS_SYSCALLS and self.values.audit_allow_process_events:
            row, table = rows.process_row(event, name, self.boot_time()), "process_events"
        elif name in rows.SOCKET_ACTIONS and self.values.audit_allow_sockets:
            row, table = rows.socket_row(event, name, self.boot_time(), self.values), "socket_events"
        if row is None:
            return 0
        batch[table].append(row)
        return 1

    _boot_time = None

    def boot_time(self):
        """Unix time of boot (uptime column = event time - boot time), read once."""
        if self._boot_time is None:
            with open("/proc/uptime", encoding="ascii") as handle:
                self._boot_time = int(time.time() - float(handle.read().split()[0]))
        return self._boot_time

    def _flush(self, batch):
        for table, found in batch.items():
            if found:
                self.emit(table, found)
                self.counters["events"] += len(found)
                batch[table] = []
        self.counters["refreshes"] += 1
        return 0, time.monotonic()

    def _status(self, status):
        if self.kernel_lost is not None and status["lost"] > self.kernel_lost:
            self._lost(status["lost"] - self.kernel_lost, "the kernel lost audit records (backlog_limit=%d)"
                       % status["backlog_limit"])
        self.kernel_lost = status["lost"]
        taken = status["pid"] != os.getpid()
        if taken and not self.taken:  # said once when it happens, not at every poll
            LOG.warning("%s: lost the audit socket: %s", self.name, control.holder_message(status["pid"])
                        if status["pid"] else "the kernel shows no receiver (pid 0)")
        if taken and self.values.audit_persist:
            self.sock.set_status(wait=False, pid=os.getpid())
        self.taken = taken

    def _lost(self, count, why):
        self.counters["lost"] += count
        self.unreported += count
        self.lost_why = why
        now = time.monotonic()
        if now - self.last_warning >= WARN_PERIOD:
            self._warn_lost(now)

    def _warn_lost(self, now):
        """One WARNING a second at most, with the count since the previous one."""
        LOG.warning("%s: %s: %d lost (%d in all)", self.name, self.lost_why, self.unreported,
                    self.counters["lost"])
        self.unreported, self.last_warning = 0, now
