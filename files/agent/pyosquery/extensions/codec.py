"""osquery's Thrift interface with thrift's C codec (fastbinary), the same bytes on the wire.

The osquery SDK's generated code comes from an older thrift compiler: it describes a struct as a
(class, spec) tuple, where the current C codec wants a [class, spec] list, so with the
accelerated protocol it fails ("expecting list of size 2 for struct args") and with the plain
one every field of every row is encoded in Python. `protocol()` hands the C codec each
struct's description converted once (and cached); where the C codec is missing, the plain
protocol does the work as before.
"""

from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TType
from thrift.transport import TTransport

from pyosquery.extensions.wire import send_result

# thrift reads a reply 4 KiB at a time by default: a 20k-row result would take hundreds of reads
READ_BUFFER = 1 << 16
_STRUCTS = {}       # class -> [class, spec] as the C codec reads it


def _args(ttype, args):
    if ttype == TType.STRUCT:
        return struct_args(*args)
    if ttype in (TType.LIST, TType.SET):
        return (args[0], _args(args[0], args[1])) + tuple(args[2:])
    if ttype == TType.MAP:
        return (args[0], _args(args[0], args[1]), args[2], _args(args[2], args[3])) + tuple(args[4:])
    return args


def struct_args(klass, spec):
    """[klass, spec] with every nested struct converted the same way."""
    found = _STRUCTS.get(klass)
    if found is None:
        found = _STRUCTS[klass] = [klass, None]     # in the cache first: a struct may nest itself
        found[1] = tuple(None if field is None else
                         (field[0], field[1], field[2], _args(field[1], field[3])) + tuple(field[4:])
                         for field in spec)
    return found


class _Accelerated(TBinaryProtocol.TBinaryProtocolAccelerated):
    """TBinaryProtocolAccelerated that accepts the old generated code's struct descriptions."""

    def __init__(self, transport):
        TBinaryProtocol.TBinaryProtocolAccelerated.__init__(self, transport)
        encode, decode = self._fast_encode, self._fast_decode
        if encode is not None:
            self._fast_encode = lambda obj, typeargs: self._encode(encode, obj, typeargs)
            self._fast_decode = lambda obj, protocol, typeargs: decode(obj, protocol, struct_args(*typeargs))

    def _encode(self, encode, obj, typeargs):
        # a query's rows (wire.RowsResponse) go out as they are encoded; every other struct goes to the C codec
        if send_result(obj, self.trans):
            return b""
        return encode(obj, struct_args(*typeargs))


def buffered(socket_transport):
    """The buffered transport osquery's wire format uses, with a read buffer fit for large results."""
    return TTransport.TBufferedTransport(socket_transport, rbuf_size=READ_BUFFER)


def protocol(transport):
    """The binary protocol over `transport` (a TBufferedTransport), C-accelerated where thrift has it."""
    return _Accelerated(transport)
