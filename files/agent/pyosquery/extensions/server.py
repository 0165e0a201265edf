"""ExtensionServer: osquery's ExtensionManager Thrift service on a UNIX socket, in background threads.

The wire format is osquery's: TBinaryProtocol over TBufferedTransport, one thread per
connection (as osquery's own threaded server), so a connected `pyosqueryi --connect` session
does not block the daemon's health checks or other clients.
"""

import logging
import socket
import threading
import time

from osquery.extensions import ExtensionManager
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

from pyosquery.extensions import listener
from pyosquery.extensions.handler import ManagerHandler
from pyosquery.extensions.listener import SocketInUse
from pyosquery.extensions.registry import ExtensionRegistry

__all__ = ["ExtensionServer", "SocketInUse"]

LOG = logging.getLogger(__name__)


class ExtensionServer:
    """Serves `engine` on the socket at `path` until stop().

    The engine is shared, not copied: the daemon's own tables (osquery_schedule, ...) live on
    its engine, and a second Engine would have to be kept in step with them. An apsw
    connection and our table generators are not built for concurrent use, so every engine
    call made for a client holds `self.lock`; the daemon passes the lock its scheduler
    already holds around queries (or takes `server.lock`) so the two never overlap.
    """

    def __init__(self, path, engine, *, options_provider=dict, extensions_registry=None,
                 lock=None, shutdown_request=None, budget=None):
        # pylint: disable=too-many-arguments  # the daemon names them by keyword
        self.path = path
        self.lock = lock if lock is not None else threading.Lock()
        self.registry = extensions_registry if extensions_registry is not None else ExtensionRegistry()
        handler = ManagerHandler(engine, self.lock, options_provider, self.registry, shutdown_request, budget)
        self._processor = ExtensionManager.Processor(handler)
        self._listener = None
        self._inode = None
        self._thread = None
        self._stopping = threading.Event()
        self._clients = set()
        self._clients_lock = threading.Lock()

    def start(self):
        """Listen on the socket (raises SocketInUse if a live server has it); return once listening."""
        if self._thread is not None:
            raise RuntimeError("extension server already started")
        self._listener, self._inode = listener.listen_private(self.path)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="extensions-accept", daemon=True)
        self._thread.start()
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
            worker = threading.Thread(target=self._serve, args=(connection,),
                                      name="extensions-client", daemon=True)
            worker.start()

    def _serve(self, connection):
        with self._clients_lock:
            self._clients.add(connection)
        wrapped = TSocket.TSocket()
        wrapped.setHandle(connection)
        protocol = TBinaryProtocol.TBinaryProtocol(TTransport.TBufferedTransport(wrapped))
        try:
            while not self._stopping.is_set():
                self._processor.process(protocol, protocol)
        except TTransport.TTransportException:
            pass    # the client hung up, or stop() hung up on it
        except Exception:   # pylint: disable=broad-except  # one bad client must not take the thread pool down
            LOG.exception("extension socket: dropping a connection")
        finally:
            with self._clients_lock:
                self._clients.discard(connection)
            connection.close()


def _hang_up(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass                # already closed by the peer
