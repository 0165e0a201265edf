"""process_open_sockets and listening_ports, checked against real sockets and ss."""

import os
import socket
import subprocess

import pytest

from tablecheck import assert_contract, generate, visible_columns
from pyosquery.tables import sockets


@pytest.fixture()
def listeners():
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp6.bind(("::1", 0))
    tcp6.listen()
    yield tcp, udp, tcp6
    for sock in (tcp, udp, tcp6):
        sock.close()


@pytest.fixture()
def connection(listeners):
    client = socket.create_connection(listeners[0].getsockname())
    server, _ = listeners[0].accept()
    yield client, server
    client.close()
    server.close()


@pytest.mark.usefixtures("listeners")
@pytest.mark.parametrize("name", ["process_open_sockets", "listening_ports"])
def test_rows_keep_the_contract(query, name):
    assert_contract(name)
    rows = query("SELECT * FROM %s" % name)
    assert rows and list(rows[0]) == visible_columns(name)


def test_listening_ports_finds_our_sockets(query, listeners):
    tcp, udp, tcp6 = listeners
    rows = query("SELECT * FROM listening_ports WHERE pid = %d" % os.getpid())
    found = {(r["protocol"], r["family"], r["address"], r["port"]): r for r in rows}
    for sock, protocol, family in ((tcp, 6, 2), (udp, 17, 2), (tcp6, 6, 10)):
        address, port = sock.getsockname()[:2]
        row = found[(protocol, family, address, port)]
        assert row["fd"] == sock.fileno()
        assert row["socket"] == os.fstat(sock.fileno()).st_ino
        assert row["path"] is None
        assert row["net_namespace"] == os.readlink("/proc/self/ns/net")[5:-1]


def _ss_ports():
    out = subprocess.run(["ss", "-ltnuH"], check=True, capture_output=True, text=True).stdout
    ports = set()
    for line in out.splitlines():
        fields = line.split()
        address, _, port = fields[4].rpartition(":")
        protocol = 6 if fields[0] == "tcp" else 17
        ports.add((protocol, address.strip("[]").split("%")[0], int(port)))
    return ports


def _normal(address):
    return "*" if address in ("0.0.0.0", "::") else address


@pytest.mark.usefixtures("listeners")
def test_listening_ports_agree_with_ss(query):
    expected = {(p, _normal(a), port) for p, a, port in _ss_ports()}
    rows = query("SELECT protocol, address, port, family FROM listening_ports WHERE family IN (2, 10)")
    got = {(r["protocol"], _normal(r["address"]), r["port"]) for r in rows if r["protocol"] in (6, 17)}
    # ss lists TCP in LISTEN and bound UDP; osquery's rule (remote port 0) is a superset
    assert expected <= got


def test_listening_unix_socket_has_path(query, tmp_path):
    path = str(tmp_path / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    try:
        rows = query("SELECT * FROM listening_ports WHERE path = '%s'" % path)
        assert len(rows) == 1
        assert (rows[0]["pid"], rows[0]["fd"], rows[0]["family"], rows[0]["port"], rows[0]["socket"]) == \
            (os.getpid(), server.fileno(), 1, 0, 0)
    finally:
        server.close()


def test_process_open_sockets_connected_pair(query, connection):
    client, server = connection
    rows = query("SELECT * FROM process_open_sockets WHERE pid = %d AND family = 2 AND protocol = 6" % os.getpid())
    by_fd = {r["fd"]: r for r in rows}
    for sock in (client, server):
        row = by_fd[sock.fileno()]
        assert (row["local_address"], row["local_port"]) == sock.getsockname()
        assert (row["remote_address"], row["remote_port"]) == sock.getpeername()
        assert row["state"] == "ESTABLISHED"
        assert row["socket"] == os.fstat(sock.fileno()).st_ino
        assert row["path"] == ""
    assert any(r["state"] == "LISTEN" for r in rows)


@pytest.mark.usefixtures("connection")
def test_process_open_sockets_pid_filter(query):
    # pid is "additional": not re-checked by SQLite, so every row must come from the filter
    rows = query("SELECT pid FROM process_open_sockets WHERE pid = %d" % os.getpid())
    assert rows and {r["pid"] for r in rows} == {os.getpid()}
    rows = query("SELECT pid FROM process_open_sockets WHERE pid IN (%d, 1)" % os.getpid())
    assert os.getpid() in {r["pid"] for r in rows} and {r["pid"] for r in rows} <= {os.getpid(), 1}


@pytest.mark.usefixtures("connection")
def test_process_open_sockets_pid_filter_reads_only_that_process(monkeypatch):
    scanned = []
    real = sockets.owners
    monkeypatch.setattr(sockets, "owners", lambda pids: scanned.extend(pids) or real(pids))
    rows = generate("process_open_sockets", {"pid": [("=", os.getpid())]})
    assert scanned == [str(os.getpid())]
    assert rows and all(r["pid"] == os.getpid() for r in rows)


def test_owner_scan_skipped_when_pid_and_fd_unused(monkeypatch, connection):
    monkeypatch.setattr(sockets, "owners", lambda pids: pytest.fail("scanned fds"))
    rows = generate("process_open_sockets", used={"local_port", "remote_port"})
    ports = {r["local_port"] for r in rows}
    assert connection[0].getsockname()[1] in ports


def test_unowned_sockets_have_pid_minus_one(query):
    rows = query("SELECT pid, fd FROM process_open_sockets")
    assert all((r["pid"] == -1) == (r["fd"] == -1) for r in rows)


def test_address_decoding():
    assert sockets._decode_address("0100007F", 2) == "127.0.0.1"
    assert sockets._decode_address("00000000000000000000000001000000", 10) == "::1"
    assert sockets._decode_address("0000000000000000FFFF00000100007F", 10) == "::ffff:127.0.0.1"
    assert sockets._tcp_state("0A") == "LISTEN" and sockets._tcp_state("07") == "CLOSED"
    assert sockets._tcp_state("FF") == "UNKNOWN"
