"""ExtensionServer: osquery's ExtensionManager Thrift service on a UNIX socket, in background threads.

The wire format is osquery's: TBinaryProtocol over TBufferedTransport, one thread per
connection (as osquery's own threaded server), so a connected `pyosqueryi --connect` session
does not block the daemon's health checks or other clients.

Connections are bounded: at most MAX_CLIENTS at once (a new one pushes out the one idle longest,
so a flood of idle connections cannot lock real clients out or grow the worker past its memory
limit), and one idle for `idle_timeout` seconds (--extensions_idle_timeout, 600) is closed.
"""

import logging
import select
import socket
import threading
import time

from osquery.extensions import ExtensionManager
from thrift.transport import TSocket, TTransport

from pyosquery.extensions import codec
from pyosquery.extensions import listener
from pyosquery.extensions.handler import ManagerHandler
from pyosquery.extensions.listener import SocketInUse
from pyosquery.extensions.registry import ExtensionRegistry
from pyosquery.extensions.tables import ExtensionTables, ping_extension

__all__ = ["ExtensionServer", "SocketInUse"]

LOG = logging.getLogger(__name__)
MAX_CLIENTS = 64
IDLE_TIMEOUT_S = 600.0
REQUIRE_POLL_S = 0.2        # how often extensions_require looks for a required extension


class ExtensionServer:
    """Serves `engine` on the socket at `path` until stop().

    The engine is shared, not copied: the daemon's own tables (osquery_schedule, ...) live on
    its engine, and a second Engine would have to be kept in step with them. An apsw
    connection and our table generators are not built for concurrent use, so every engine
    call made for a client holds `self.lock`; the daemon passes the lock its scheduler
    already holds around queries (or takes `server.lock`) so the two never overlap.
    """

    def __init__(self, path, engine, *, options_provider=dict, extensions_registry=None,
                 lock=None, shutdown_request=None, budget=None, ping_interval=3.0, default_index=True,
                 idle_timeout=IDLE_TIMEOUT_S):
        # pylint: disable=too-many-arguments  # the daemon names them by keyword
        self.path = path
        self.lock = lock if lock is not None else threading.Lock()
        self.registry = extensions_registry if extensions_registry is not None else ExtensionRegistry()
        self.tables = ExtensionTables(engine, self.lock, path, default_index)
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout or None     # 0: a connection may stay idle for ever
        self._serving = threading.local()     # the connection each client thread serves
        handler = ManagerHandler(engine, self.lock, options_provider, self.registry, shutdown_request, budget,
                                 self.tables, client_gone=self._client_gone)
        self._handler = handler
        self._processor = ExtensionManager.Processor(handler)
        self._listener = None
        self._inode = None
        self._thread = None
        self._stopping = threading.Event()
        self._clients = {}              # connection -> monotonic time of its last request
        self._clients_lock = threading.Lock()
        self._crowded = False           # the client limit was reached (logged once per crowd)

    def start(self):
        """Listen on the socket (raises SocketInUse if a live server has it); return once listening."""
        if self._thread is not None:
            raise RuntimeError("extension server already started")
        self._listener, self._inode = listener.listen_private(self.path)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="extensions-accept", daemon=True)
        self._thread.start()
        threading.Thread(target=self._ping_loop, name="extensions-ping", daemon=True).start()
        LOG.info("extension manager listening on %s", self.path)

    def stop(self, timeout=5.0):
        """Stop accepting, hang up on connected clients and remove the socket file."""
        if self._thread is None:
            return
        self._stopping.set()
        _hang_up(self._listener)    # wakes the accept() blocked in the server thread
        self._thread.join(timeout)
        self._listener.close()
        with self._clients_lock:
            clients = list(self._clients)
        for client in clients:
            _hang_up(client)
        listener.remove_if_ours(self.path, self._inode)
        self._thread = None

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def require(self, names, timeout, stop):
        """osquery's extensions_require: wait up to `timeout` seconds for each named extension to register
        and answer a ping; once one is missing the rest get one look. Returns the first missing name, or None.
        `stop` (an Event) ends the wait early."""
        waited = False
        for name in names:
            deadline = time.monotonic() + (0 if waited else timeout)
            while not self._answering(name):
                if time.monotonic() >= deadline or stop.wait(REQUIRE_POLL_S):
                    return name
            waited = True
        return None

    def _answering(self, name):
        return any(info.name == name and ping_extension("%s.%d" % (self.path, uuid))
                   for uuid, info in self.registry.infos().items())

    def _ping_loop(self):
        """osquery's ExtensionWatcher: an extension whose socket stops answering is deregistered."""
        while not self._stopping.wait(self.ping_interval):
            for uuid, info in self.registry.infos().items():
                if not ping_extension("%s.%d" % (self.path, uuid)):
                    LOG.warning("extension %s (uuid %d) stopped answering: deregistered", info.name, uuid)
                    self._handler.deregisterExtension(uuid)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                connection = self._listener.accept()[0]
            except OSError:
                if self._stopping.is_set():
                    return
                LOG.exception("extension socket: accept failed")
                time.sleep(0.2)     # e.g. out of file descriptors: do not spin
                continue
            connection.settimeout(self.idle_timeout)
            if not self._admit(connection):
                connection.close()
                continue
            worker = threading.Thread(target=self._serve, args=(connection,),
                                      name="extensions-client", daemon=True)
            worker.start()

    def _admit(self, connection):
        """Count a new connection in; at the limit, hang up on the one idle longest (one busy with a request,
        whose time is None, is never chosen; when all are busy the new one is refused: False)."""
        with self._clients_lock:
            if len(self._clients) >= MAX_CLIENTS:
                idle = [client for client, since in self._clients.items() if since is not None]
                if not idle:
                    return False
                idlest = min(idle, key=self._clients.get)
                del self._clients[idlest]
                _hang_up(idlest)
                if not self._crowded:
                    LOG.warning("extension socket: %d connections open, the limit: closing the idlest for each new one",
                                MAX_CLIENTS)
                self._crowded = True
            elif len(self._clients) < MAX_CLIENTS // 2:
                self._crowded = False
            self._clients[connection] = time.monotonic()
            return True

    def _mark(self, connection, busy):
        with self._clients_lock:
            if connection in self._clients:
                self._clients[connection] = None if busy else time.monotonic()

    def _client_gone(self):
        """True when the client this thread serves has hung up (its query's answer has no reader)."""
        connection = getattr(self._serving, "connection", None)
        return connection is not None and hung_up(connection)

    def _serve(self, connection):
        self._serving.connection = connection
        wrapped = _Watched(lambda: self._mark(connection, busy=True))
        wrapped.setHandle(connection)
        protocol = codec.protocol(codec.buffered(wrapped))
        try:
            while not self._stopping.is_set():
                self._processor.process(protocol, protocol)
                self._mark(connection, busy=False)
        except TTransport.TTransportException:
            pass    # the client hung up, or stop() hung up on it
        except Exception:   # pylint: disable=broad-except  # one bad client must not take the thread pool down
            LOG.exception("extension socket: dropping a connection")
        finally:
            with self._clients_lock:
                self._clients.pop(connection, None)
            connection.close()


class _Watched(TSocket.TSocket):
    """A served connection that tells when bytes of a request arrive (it is busy until answered)."""

    def __init__(self, on_read):
        TSocket.TSocket.__init__(self)
        self.on_read = on_read

    def read(self, sz):
        data = TSocket.TSocket.read(self, sz)
        self.on_read()
        return data


def hung_up(sock):
    """True when the peer of a connected socket has closed it (EOF waits to be read), without reading."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLRDHUP)
    events = poller.poll(0)
    if not events:
        return False
    if events[0][1] & (select.POLLHUP | select.POLLRDHUP | select.POLLERR):
        return True
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _hang_up(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass                # already closed by the peer
