"""The audit netlink socket (NETLINK_AUDIT): status, the receiving pid, rules and records.

One per kernel: the kernel sends audit records to a single registered process (the "audit
daemon"). OS errors are translated here, once, into AuditError naming the operation.
"""

import errno
import os
import socket
import struct

NETLINK_AUDIT = 9
SO_RCVBUFFORCE = 33  # not in Python's socket module; Linux value, lets root pass net.core.rmem_max

# netlink message types and flags (linux/netlink.h)
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK = 1, 4
# audit control messages (linux/audit.h)
AUDIT_GET, AUDIT_SET = 1000, 1001
AUDIT_ADD_RULE, AUDIT_DEL_RULE, AUDIT_LIST_RULES = 1011, 1012, 1013
AUDIT_USER = 1005
# audit_status.mask bits
STATUS_ENABLED, STATUS_PID, STATUS_BACKLOG_LIMIT, STATUS_BACKLOG_WAIT_TIME = 0x1, 0x4, 0x10, 0x20

HEADER = struct.Struct("=IHHII")         # struct nlmsghdr
# struct audit_status: mask enabled failure pid rate_limit backlog_limit lost backlog
# feature_bitmap backlog_wait_time (kernels before 3.19 answer fewer fields: missing ones read 0)
STATUS = struct.Struct("=10I")
STATUS_FIELDS = ("mask", "enabled", "failure", "pid", "rate_limit", "backlog_limit", "lost",
                 "backlog", "feature_bitmap", "backlog_wait_time")


class AuditError(OSError):
    """An audit netlink operation failed; errno and a message naming the operation."""


def _error(number, what):
    return AuditError(number, "audit netlink: %s: %s" % (what, os.strerror(number)))


class AuditSocket:
    """A NETLINK_AUDIT socket: requests with acknowledgements, and the record stream."""

    def __init__(self, rcvbuf=0):
        try:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
        except OSError as exc:
            raise _error(exc.errno, "open (the kernel may have no audit support)") from None
        self.sock.bind((0, 0))
        self.seq = 0
        if rcvbuf:
            self.set_rcvbuf(rcvbuf)

    def set_rcvbuf(self, size):
        """A big receive buffer absorbs bursts while Python is busy; SO_RCVBUFFORCE as root."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    def send(self, kind, payload, flags=NLM_F_REQUEST | NLM_F_ACK):
        self.seq += 1
        message = HEADER.pack(HEADER.size + len(payload), kind, flags, self.seq, 0) + payload
        try:
            self.sock.sendto(message, (0, 0))
        except OSError as exc:
            raise _error(exc.errno, "send message %d" % kind) from None
        return self.seq

    def receive(self, size=65536, flags=0):
        """One datagram (bytes); raises OSError as the socket gives it (ENOBUFS, EAGAIN...)."""
        return self.sock.recv(size, flags)

    def _replies(self, seq, what):
        """Messages answering request `seq` (records arriving meanwhile are skipped)."""
        self.sock.settimeout(2.0)
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    raise _error(errno.ETIMEDOUT, what) from None
                except OSError as exc:
                    if exc.errno == errno.ENOBUFS:   # records overflowed meanwhile: the answer may follow
                        continue
                    raise _error(exc.errno, what) from None
                for kind, mseq, payload in split(data):
                    if mseq == seq:
                        yield kind, payload
        finally:
            self.sock.settimeout(None)

    def request(self, kind, payload, what):
        """Send a request and wait for its acknowledgement; raises AuditError on a negative ack."""
        seq = self.send(kind, payload)
        for reply, body in self._replies(seq, what):
            if reply == NLMSG_ERROR:
                code = ack_error(body)
                if code:
                    raise _error(code, what)
                return

    def status(self):
        """The kernel's audit_status as a dict (enabled, pid, lost, backlog_limit...)."""
        seq = self.send(AUDIT_GET, b"", NLM_F_REQUEST)
        for reply, body in self._replies(seq, "AUDIT_GET"):
            if reply == NLMSG_ERROR:
                code = ack_error(body)
                raise _error(code or errno.EPROTO, "AUDIT_GET")
            if reply == AUDIT_GET:
                return parse_status(body)
        raise _error(errno.EPROTO, "AUDIT_GET")  # pragma: no cover (the generator only ends by raising)

    def request_status(self):
        """Ask for the status without waiting: the reader sees the AUDIT_GET answer in the stream."""
        self.send(AUDIT_GET, b"", NLM_F_REQUEST)

    def set_status(self, wait=True, **values):
        """AUDIT_SET the given fields (enabled, pid, backlog_limit, backlog_wait_time); without
        `wait`, no acknowledgement is asked for (the reader thread must not read the answer)."""
        bits = {"enabled": STATUS_ENABLED, "pid": STATUS_PID, "backlog_limit": STATUS_BACKLOG_LIMIT,
                "backlog_wait_time": STATUS_BACKLOG_WAIT_TIME}
        fields = dict.fromkeys(STATUS_FIELDS, 0)
        fields.update(values)
        fields["mask"] = sum(bits[name] for name in values)
        names = ", ".join("%s=%s" % item for item in sorted(values.items()))
        payload = STATUS.pack(*(fields[name] for name in STATUS_FIELDS))
        if wait:
            self.request(AUDIT_SET, payload, "AUDIT_SET %s" % names)
        else:
            self.send(AUDIT_SET, payload, NLM_F_REQUEST)

    def add_rule(self, rule, what):
        self.request(AUDIT_ADD_RULE, rule, "add rule %s" % what)

    def delete_rule(self, rule, what):
        self.request(AUDIT_DEL_RULE, rule, "delete rule %s" % what)

    def list_rules(self):
        """The kernel's rules as raw struct audit_rule_data payloads."""
        seq = self.send(AUDIT_LIST_RULES, b"", NLM_F_REQUEST | NLM_F_ACK)
        rules = []
        for reply, body in self._replies(seq, "AUDIT_LIST_RULES"):
            if reply == AUDIT_LIST_RULES:
                rules.append(body)
            elif reply == NLMSG_DONE:
                return rules
            elif reply == NLMSG_ERROR:
                code = ack_error(body)
                if code:
                    raise _error(code, "AUDIT_LIST_RULES")
        return rules  # pragma: no cover


def ack_error(body):
    """The errno of an NLMSG_ERROR answer (0: an acknowledgement)."""
    return -struct.unpack_from("=i", body)[0]


def parse_status(body):
    body = body[:STATUS.size].ljust(STATUS.size, b"\0")
    return dict(zip(STATUS_FIELDS, STATUS.unpack(body)))


def split(data):
    """(type, seq, payload) of each netlink message in one datagram."""
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind, _flags, seq, _pid = HEADER.unpack_from(data, offset)
        if length < HEADER.size:
            break
        yield kind, seq, data[offset + HEADER.size:offset + length]
        offset += (length + 3) & ~3
