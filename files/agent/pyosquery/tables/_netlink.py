"""A minimal rtnetlink dump client (stdlib sockets only).

Used where /proc and /sys have no equivalent: the links' flags as userspace sees them, the IPv4
local/broadcast routes (only the main table is in /proc/net/route) and the address records with
their labels, peers and broadcasts.
"""

import socket
import struct

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
RTM_GETLINK = 18
RTM_GETADDR = 22
RTM_GETROUTE = 26

_HEADER = struct.Struct("=IHHII")      # nlmsghdr: len, type, flags, seq, pid
_ATTR = struct.Struct("=HH")           # rtattr: len, type
TIMEOUT = 5.0


def _align(length):
    return (length + 3) & ~3


def dump(message_type, payload):
    """Send one dump request; return the payloads of the answer's messages (bytes)."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except OSError:
        return []
    with sock:
        sock.settimeout(TIMEOUT)
        sock.bind((0, 0))
        seq = 1
        request = _HEADER.pack(_HEADER.size + len(payload), message_type, NLM_F_REQUEST | NLM_F_DUMP,
                               seq, 0) + payload
        sock.send(request)
        return _receive(sock, seq)


def _receive(sock, seq):
    messages = []
    while True:
        try:
            data = sock.recv(1 << 16)
        except OSError:
            return messages
        if not data:
            return messages
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind, _flags, got_seq, _pid = _HEADER.unpack_from(data, offset)
            if length < _HEADER.size:
                return messages
            if got_seq == seq:
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    return messages
                messages.append(data[offset + _HEADER.size:offset + length])
            offset += _align(length)


def attributes(data, offset=0):
    """{type: value bytes} of the rtattr list starting at `offset` (last one of a type wins)."""
    found = {}
    while offset + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        found[kind & 0x3fff] = data[offset + _ATTR.size:offset + length]
        offset += _align(length)
    return found
