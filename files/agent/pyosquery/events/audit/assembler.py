"""Records grouped by serial number into events; an event is complete at its EOE record.

The reader keeps the raw datagrams (no parsing per record); an event's fields are parsed once,
when it is complete and only if its syscall is one a table wants.
"""

import struct

from pyosquery.events.audit import records

TYPE = struct.Struct("=H")
MAX_PENDING = 1024  # events still waiting for EOE (the kernel may lose an EOE under pressure)


class Event:
    """One syscall's records: `syscall` fields parsed, the others on demand."""

    def __init__(self, datagrams):
        self.by_type = {}
        for data in datagrams:
            self.by_type.setdefault(TYPE.unpack_from(data, 4)[0], []).append(data)
        first = self.by_type.get(records.SYSCALL)
        self.syscall = records.fields(first[0]) if first else {}
        self.time = records.event_time(records.stamp(first[0])[1]) if first else 0

    def first(self, kind):
        found = self.by_type.get(kind)
        return records.fields(found[0]) if found else {}

    def all(self, kind):
        return [records.fields(data) for data in self.by_type.get(kind, ())]


class Assembler:
    """add() datagrams of kept types; end() at EOE returns the event's datagrams."""

    def __init__(self):
        self.pending = {}
        self.abandoned = 0  # events pushed out before their EOE came

    def add(self, serial, data):
        group = self.pending.get(serial)
        if group is None:
            self.pending[serial] = [data]
            if len(self.pending) > MAX_PENDING:
                self._drop_oldest()
        else:
            group.append(data)

    def end(self, serial):
        return self.pending.pop(serial, None)

    def _drop_oldest(self):
        # dicts keep insertion order: the first keys are the oldest serials
        for serial in list(self.pending)[:MAX_PENDING // 4]:
            del self.pending[serial]
            self.abandoned += 1
