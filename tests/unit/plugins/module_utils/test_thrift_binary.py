"""The stdlib Thrift codec against the thrift library and osquery's SDK, which the agent's server uses."""

import io

import pytest
from osquery.extensions import ExtensionManager
from osquery.extensions.ttypes import ExtensionResponse, ExtensionStatus
from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport import TTransport

from ansible_collections.pyosquery.fleet.plugins.module_utils import thrift_binary


def reader_of(data, chunk=65536):
    stream = io.BytesIO(data)
    return thrift_binary.Reader(lambda size: stream.read(min(size, chunk)))


def sdk_reply(method, seqid, result, kind=TMessageType.REPLY):
    buffer = TTransport.TMemoryBuffer()
    protocol = TBinaryProtocol.TBinaryProtocol(buffer)
    protocol.writeMessageBegin(method, kind, seqid)
    result.write(protocol)
    protocol.writeMessageEnd()
    return buffer.getvalue()


def test_a_call_reads_back_as_the_sdk_server_reads_it():
    data = thrift_binary.encode_call("query", 7, "SELECT 'é' AS x")
    protocol = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(data))
    assert protocol.readMessageBegin() == ("query", TMessageType.CALL, 7)
    args = ExtensionManager.query_args()
    args.read(protocol)
    assert args.sql == "SELECT 'é' AS x"


@pytest.mark.parametrize("chunk", [65536, 3])    # replies arrive in pieces on a socket
def test_a_query_reply_decodes_to_status_and_rows(chunk):
    rows = [{"name": "q1", "executions": "12"}, {"name": "ü", "executions": ""}]
    success = ExtensionResponse(status=ExtensionStatus(code=0, message="OK", uuid=0), response=rows)
    body = reader_of(sdk_reply("query", 5, ExtensionManager.query_result(success=success)), chunk).message(5)
    assert body == {0: {1: {1: 0, 2: "OK", 3: 0}, 2: rows}}


def test_an_exception_reply_raises_with_its_message():
    error = TApplicationException(TApplicationException.UNKNOWN_METHOD, "Unknown function nope")
    data = sdk_reply("nope", 1, error, TMessageType.EXCEPTION)
    with pytest.raises(thrift_binary.RemoteException, match="Unknown function nope"):
        reader_of(data).message(1)


def test_a_reply_to_another_call_is_refused():
    success = ExtensionResponse(status=ExtensionStatus(code=0, message="OK"), response=[])
    with pytest.raises(thrift_binary.ProtocolError, match="sequence id"):
        reader_of(sdk_reply("query", 2, ExtensionManager.query_result(success=success))).message(3)


def test_what_is_not_thrift_is_refused():
    with pytest.raises(thrift_binary.ProtocolError, match="not a Thrift"):
        reader_of(b"HTTP/1.1 400 Bad Request\r\n\r\n").message(1)


def test_a_reply_cut_short_says_so():
    success = ExtensionResponse(status=ExtensionStatus(code=0, message="OK"), response=[{"a": "b"}])
    data = sdk_reply("query", 1, ExtensionManager.query_result(success=success))
    with pytest.raises(EOFError, match="closed the connection"):
        reader_of(data[:-4]).message(1)
