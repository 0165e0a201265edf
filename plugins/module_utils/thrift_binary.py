# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thrift's binary protocol, just enough to call osquery's ExtensionManager over a UNIX socket.

Standard library only, so that a module on the host needs neither thrift nor the osquery SDK.
A call is one message (strict header, method name, sequence id, an argument struct);
the reply is decoded generically: a struct becomes {field id: value}, strings become text.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import struct

# message types
CALL, REPLY, EXCEPTION = 1, 2, 3
VERSION_1 = 0x80010000
VERSION_MASK = 0xFFFF0000

# value types
STOP, BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, MAP, SET, LIST = 0, 2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15

_FIXED = {BOOL: "!?", BYTE: "!b", DOUBLE: "!d", I16: "!h", I32: "!i", I64: "!q"}


class ProtocolError(Exception):
    """The peer sent something that is not a Thrift binary-protocol reply."""


class RemoteException(Exception):
    """The server answered the call with a TApplicationException (unknown method, internal error)."""


def encode_call(method, seqid, *strings):
    """A CALL message whose argument struct holds `strings` as fields 1, 2, ..."""
    name = method.encode("utf-8")
    out = [struct.pack("!Ii", VERSION_1 | CALL, len(name)), name, struct.pack("!i", seqid)]
    for field_id, text in enumerate(strings, start=1):
        data = text.encode("utf-8")
        out.append(struct.pack("!bhi", STRING, field_id, len(data)))
        out.append(data)
    out.append(struct.pack("!b", STOP))
    return b"".join(out)


class Reader:
    """Reads values off a socket, refilling a buffer in large chunks (one recv per ~64 KiB, not per field)."""

    def __init__(self, recv):
        self._recv = recv           # recv(n) -> bytes; b"" at end of stream
        self._buffer = b""
        self._pos = 0

    def _take(self, size):
        while len(self._buffer) - self._pos < size:
            chunk = self._recv(65536)
            if not chunk:
                raise EOFError("the agent closed the connection before its reply was complete")
            self._buffer = self._buffer[self._pos:] + chunk
            self._pos = 0
        start = self._pos
        self._pos += size
        return self._buffer[start:self._pos]

    def fixed(self, kind):
        code = _FIXED[kind]
        return struct.unpack(code, self._take(struct.calcsize(code)))[0]

    def string(self):
        size = self.fixed(I32)
        if size < 0:
            raise ProtocolError("negative string length %d" % size)
        return self._take(size).decode("utf-8", "replace")

    def value(self, kind):
        if kind in _FIXED:
            return self.fixed(kind)
        if kind == STRING:
            return self.string()
        if kind == STRUCT:
            return self.struct()
        if kind == MAP:
            key_kind, value_kind, size = self.fixed(BYTE), self.fixed(BYTE), self.fixed(I32)
            return dict((self.value(key_kind), self.value(value_kind)) for _item in range(size))
        if kind in (LIST, SET):
            item_kind, size = self.fixed(BYTE), self.fixed(I32)
            return [self.value(item_kind) for _item in range(size)]
        raise ProtocolError("unknown value type %d" % kind)

    def struct(self):
        fields = {}
        while True:
            kind = self.fixed(BYTE)
            if kind == STOP:
                return fields
            field_id = self.fixed(I16)
            fields[field_id] = self.value(kind)

    def message(self, seqid):
        """The result struct of the reply to call `seqid`; raises RemoteException for an exception reply."""
        header = self.fixed(I32) & 0xFFFFFFFF
        if header & VERSION_MASK != VERSION_1:
            raise ProtocolError("not a Thrift binary-protocol reply (header 0x%08x)" % header)
        kind = header & 0xFF
        self.string()       # the method name
        if self.fixed(I32) != seqid:
            raise ProtocolError("reply to another call (sequence id mismatch)")
        body = self.struct()
        if kind == EXCEPTION:
            raise RemoteException(body.get(1) or "the agent raised an exception (type %s)" % body.get(2))
        if kind != REPLY:
            raise ProtocolError("unexpected message type %d" % kind)
        return body
