"""Issue 11, item 8: a flood of idle connections to the extension socket neither grows the worker's
threads without bound nor locks real clients out."""

import contextlib
import socket

from daemon_harness import worker
from pyosquery.extensions import client     # pylint: disable=wrong-import-order
from pyosquery.extensions.server import MAX_CLIENTS   # pylint: disable=wrong-import-order

FLOOD = 1000


def threads(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as handle:
        return int(next(line for line in handle if line.startswith("Threads:")).split()[1])


@contextlib.contextmanager
def flooded(daemon, count):
    """`count` idle connections to the daemon's socket, closed on exit."""
    flood = []
    try:
        for _ in range(count):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            flood.append(connection)
            connection.connect(daemon.paths["extensions_socket"])
        # a real client gets in (and so the accept loop has seen every connection before it)
        assert daemon.query("SELECT 1 AS one") == [{"one": "1"}]
        yield
    finally:
        for connection in flood:
            connection.close()


def test_a_flood_of_idle_connections_is_bounded_and_clients_still_get_in(daemons):
    daemon = daemons({"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 1}}}).start()
    pid = worker(daemon)[0]
    before = threads(pid)
    with flooded(daemon, FLOOD):
        daemon.wait_for(lambda: threads(pid) <= before + MAX_CLIENTS + 1, "the pushed-out connections' threads to end")
        assert worker(daemon)[0] == pid


def test_a_client_whose_idle_connection_was_pushed_out_connects_again(daemons, monkeypatch):
    monkeypatch.setattr(client, "IDLE_RETRY_S", 0.0)     # any idle time counts: no need to wait 30 s
    daemon = daemons({"schedule": {}}).start()
    remote = client.ExtensionClientConnection(daemon.paths["extensions_socket"])
    try:
        assert remote.query("SELECT 1 AS one") == (["one"], [("1",)])
        with flooded(daemon, MAX_CLIENTS + 10):     # ours is the idlest: pushed out first
            assert remote.query("SELECT 2 AS two") == (["two"], [("2",)])
    finally:
        remote.close()


def test_an_idle_connection_is_closed_after_the_idle_timeout(daemons):
    # --extensions_idle_timeout (600 s by default) set low: the daemon hangs up on a silent client
    daemon = daemons({"schedule": {}}, extra_flags=["--extensions_idle_timeout=1"]).start()
    pid = worker(daemon)[0]
    before = threads(pid)
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        idle.connect(daemon.paths["extensions_socket"])
        idle.settimeout(60)
        assert idle.recv(1) == b""          # the daemon closed it: end of stream, not our timeout
    finally:
        idle.close()
    daemon.wait_for(lambda: threads(pid) <= before, "the idle connection's thread to end")
    flag = daemon.query("SELECT value FROM osquery_flags WHERE name = 'extensions_idle_timeout'")
    assert flag == [{"value": "1"}]
