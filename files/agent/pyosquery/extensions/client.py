"""A client of an ExtensionManager socket (ours or osquery's), and the shell's remote engine."""

import operator
import socket
import time

from osquery.extensions import ExtensionManager
from thrift.Thrift import TException
from thrift.transport import TSocket

from pyosquery.extensions import codec
from pyosquery.extensions.convert import error_message


IDLE_RETRY_S = 30.0     # a connection unused this long may have been dropped by the daemon: retry once


class ExtensionCallError(RuntimeError):
    """The socket or the Thrift call failed (not the query): `Extension call failed: <reason>`."""


class RemoteQueryError(RuntimeError):
    """The manager ran the call and reported a failure; the text is its message (SQLite's words)."""


class ExtensionClientConnection:
    """One connection to a manager socket, opened on first use and reopened after a failure."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self._transport = None
        self._client = None
        self._used = 0.0        # monotonic time of the last answered call

    def ping(self):
        """(code, message) of the manager's ping; code 0 means healthy."""
        status = self._call("ping")
        return status.code, status.message

    def query(self, sql):
        """Run `sql` remotely: (column names in result order, rows as tuples of strings)."""
        rows = _checked(self._call("query", sql))
        names = [name for name, _type in self.columns(sql)]
        if rows and set(rows[0]) != set(names):
            names = sorted(rows[0])   # several statements: the columns describe the first one only
        if len(names) > 1:
            pick = operator.itemgetter(*names)     # one C call per row instead of a Python step per cell
            try:
                return names, list(map(pick, rows))
            except KeyError:
                pass                                # a row without some column: "" for it, below
        return names, [tuple(row.get(name, "") for name in names) for row in rows]

    def columns(self, sql):
        """[(name, type)] of the result of `sql`, from getQueryColumns (nothing is run)."""
        return [next(iter(column.items())) for column in _checked(self._call("getQueryColumns", sql))]

    def close(self):
        if self._transport is not None:
            self._transport.close()
        self._transport = self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def _call(self, method, *args):
        # a connection left idle may have been closed by the daemon (idle limit, a crowd of clients):
        # then the call goes again once on a new one (every call here only reads)
        stale = self._client is not None and time.monotonic() - self._used > IDLE_RETRY_S
        try:
            return self._send(method, args)
        except (TException, OSError) as error:
            self.close()    # the next call reconnects, e.g. after the daemon restarted
            if not stale:
                raise ExtensionCallError("Extension call failed: %s" % self._reason(error)) from error
        try:
            return self._send(method, args)
        except (TException, OSError) as error:
            self.close()
            raise ExtensionCallError("Extension call failed: %s" % self._reason(error)) from error

    def _send(self, method, args):
        if self._client is None:
            self._open()
        try:
            result = getattr(self._client, method)(*args)
        except BaseException:
            # a call cut short (Ctrl-C, a timeout) would leave its answer for the next call to read:
            # hang up instead; the daemon stops a query whose client hung up
            self.close()
            raise
        self._used = time.monotonic()
        return result

    def _open(self):
        # Connect with the stdlib so a refusal keeps its OS reason ("Permission denied"),
        # then hand the socket to thrift.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        wrapped = TSocket.TSocket(unix_socket=self.path)
        wrapped.setHandle(sock)
        self._transport = codec.buffered(wrapped)
        self._client = ExtensionManager.Client(codec.protocol(self._transport))

    def _reason(self, error):
        if isinstance(error, OSError):
            return "%s: %s" % (error.strerror or error, self.path)
        inner = getattr(error, "inner", None)   # thrift wraps the socket error that says what happened
        return str(inner) if inner is not None else (error_message(error) or type(error).__name__)


class RemoteEngine(ExtensionClientConnection):
    """What the shell's Session needs from an engine, served by a daemon over its socket.

    `.tables` stays empty: the daemon's table specs are not on the wire, so `.tables` and
    `.schema` list nothing while connected; queries reach every table the daemon serves.
    """

    connected = True

    def __init__(self, path, timeout=60.0):
        ExtensionClientConnection.__init__(self, path, timeout)
        self.tables = {}


def _checked(response):
    if response.status is not None and response.status.code != 0:
        raise RemoteQueryError(response.status.message or "unable to process the query")
    return response.response or []
