"""A query's rows as osquery's wire bytes, built a column at a time.

osquery answers `query` with a list of string maps, one per row. Building a dict per row and a
string per cell in Python for thrift to encode cost more than the query itself on large results
(20k rows: 33 ms of maps against 18 ms of SQL). Here each column is turned into text in one pass
(numbers with `str`, a text column checked for ASCII at once), and every piece of every map is
joined in one call, as text whose characters are the bytes (latin-1), so a cell is encoded only
if it is not ASCII; a large result goes out a thousand rows at a time, so the client decodes the
first rows while the server encodes the next. TBinaryProtocol's layout is fixed, so the bytes are those thrift writes for
the same maps (tests/agent/test_extensions.py compares them).
"""

import struct
from itertools import chain

from osquery.extensions.ttypes import ExtensionResponse
from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TType
from thrift.transport import TTransport

from pyosquery.extensions.convert import cell_text, row_map

_I32 = struct.Struct(">i").pack
_FIELD = struct.Struct(">bh").pack      # a struct field's header: its type, its id
_STOP = b"\x00"                         # the end of a struct's fields
CHUNK_ROWS = 1000                       # rows encoded per write (see send_result)


def _chars(data):
    """Bytes as the text whose characters are those bytes, to be joined with other such text."""
    return data.decode("latin-1")


class _Prefixes(dict):
    """What goes before a cell of one column: `lead` (the column's key, and the map's header for a
    row's first cell) and the cell's i32 length, as _chars; kept for the lengths most cells have."""

    def __init__(self, lead):
        dict.__init__(self)
        self.lead = lead

    def __missing__(self, size):
        prefix = self.lead + _chars(_I32(size))
        if size < 4096:
            self[size] = prefix
        return prefix


def column_chars(values):
    """A result column's values as osquery's text (convert.cell_text), UTF-8 as _chars; one pass where it can."""
    kinds = set(map(type, values))
    if kinds <= {int, float}:
        return list(map(str, values))   # str of a float is its repr on Python 3
    if kinds == {str} and "".join(values).isascii():
        return values
    return [_chars(text.encode()) for text in map(cell_text, values)]


def _maps(places, rows):
    """The string maps of `rows` as TBinaryProtocol writes them, one after the other.

    `places` maps each distinct column name to its index in a row: a repeated name keeps its
    last value at its first place, as a dict built from the row does.
    """
    if not rows:
        return b""
    columns = list(zip(*rows))
    pieces = []
    lead = bytes((TType.STRING, TType.STRING)) + _I32(len(places))
    for name, index in places.items():
        key = name.encode()
        values = column_chars(columns[index])
        pieces += [map(_Prefixes(_chars(lead + _I32(len(key)) + key)).__getitem__, map(len, values)), values]
        lead = b""
    return "".join(chain.from_iterable(zip(*pieces))).encode("latin-1")


def _struct_bytes(obj):
    buffer = TTransport.TMemoryBuffer()
    obj.write(TBinaryProtocol.TBinaryProtocol(buffer))
    return buffer.getvalue()


class RowsResponse(ExtensionResponse):
    """The ExtensionResponse of a query's rows, written from the rows as they came from SQLite.

    `pieces()` are the struct's bytes, CHUNK_ROWS rows at a time; `response`, the row maps, is
    built only if something reads it.
    """

    def __init__(self, status, names, rows):   # pylint: disable=super-init-not-called  # response is derived
        self.status = status
        self.names = names
        self.rows = rows

    @property
    def response(self):
        return [row_map(self.names, row) for row in self.rows]

    def pieces(self):
        places = {name: index for index, name in enumerate(self.names)}
        yield (_FIELD(TType.STRUCT, 1) + _struct_bytes(self.status)
               + _FIELD(TType.LIST, 2) + bytes((TType.MAP,)) + _I32(len(self.rows)))
        for start in range(0, len(self.rows), CHUNK_ROWS):
            yield _maps(places, self.rows[start:start + CHUNK_ROWS])
        yield _STOP

    def write(self, oprot):
        for piece in self.pieces():
            oprot.trans.write(piece)


def send_result(result, trans):
    """Write a call's result struct (`<method>_result`) whose value is a RowsResponse; False if it is not one.

    Each piece is flushed as it is made, so the client decodes the first rows while the
    next are encoded.
    """
    success = getattr(result, "success", None)
    if not isinstance(success, RowsResponse):
        return False
    trans.write(_FIELD(TType.STRUCT, 0))
    for piece in success.pieces():
        trans.write(piece)
        trans.flush()
    trans.write(_STOP)
    return True
