"""The extension socket: osquery's Thrift ExtensionManager API over the agent's engine.

Clients are osquery's own Python SDK, our client, `pyosqueryi --connect`, and a process
running as `nobody` that must be turned away by the socket's 0600 mode.
"""

import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading

import osquery
import pytest
from osquery.extensions import ExtensionManager
from osquery.extensions.ttypes import ExtensionResponse, InternalExtensionInfo
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport

from terminal import read_until

from pyosquery.extensions import codec
from pyosquery.extensions.client import ExtensionCallError, ExtensionClientConnection, RemoteQueryError
from pyosquery.extensions.convert import row_map
from pyosquery.extensions.handler import ok_status
from pyosquery.extensions.server import ExtensionServer, SocketInUse
from pyosquery.extensions.wire import RowsResponse

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
OPTIONS = {"verbose": (False, False, "bool"), "schedule_splay_percent": (10, 10, "uint64"), "host_identifier": "x"}


@pytest.fixture()
def socket_dir():
    # Not tmp_path: pytest's base directory is 0700, which would turn `nobody` away before the
    # socket's own mode is ever tested, and its long names can pass the 108-byte AF_UNIX limit.
    path = tempfile.mkdtemp(prefix="pyoq-ext-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture()
def server(engine, socket_dir):
    served = ExtensionServer(os.path.join(socket_dir, "pyosquery.em"), engine, options_provider=lambda: OPTIONS)
    served.start()
    yield served
    served.stop()


@pytest.fixture()
def manager(server):
    """osquery's SDK client, connected as osquery's own tools connect."""
    client = osquery.ExtensionClient(path=server.path)
    assert client.open(timeout=5)
    yield client.extension_manager_client()
    client.close()


def test_ping(manager):
    status = manager.ping()
    assert (status.code, status.message) == (0, "OK")


def test_query_time_returns_one_row_of_strings(manager):
    result = manager.query("select * from time")
    assert (result.status.code, result.status.message) == (0, "OK")
    assert len(result.response) == 1
    row = result.response[0]
    assert row["seconds"].isdigit() and all(isinstance(value, str) for value in row.values())


# The daemon's own state as SDK clients read it: (SQL, a column every returned row must have).
DAEMON_STATE_QUERIES = [
    ("select * from processes where pid = 1", "pid"),
]


@pytest.mark.parametrize("sql,column", DAEMON_STATE_QUERIES)
def test_daemon_state_reaches_sdk_clients(manager, sql, column):
    result = manager.query(sql)
    assert result.status.code == 0, result.status.message
    assert result.response and all(column in row for row in result.response)


def test_null_and_number_cells_are_strings(manager):
    row = manager.query("select 1 as i, 2.5 as f, null as n, 'x' as t").response[0]
    assert row == {"i": "1", "f": "2.5", "n": "", "t": "x"}


# Cells the column-wise encoder (extensions/wire.py) must turn into osquery's strings as a row map would,
# over more rows than it writes at once (wire.CHUNK_ROWS)
AWKWARD_SQL = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 2500) "
               "SELECT i, i * 0.1 AS f, CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN 'a' || i WHEN 2 THEN x'ff00' "
               "WHEN 3 THEN 'h\u00e9' || i ELSE i END AS mixed, NULLIF(i % 7, 0) AS sparse, "
               "'same' AS a, i AS a, 1e300 * 1e300 AS inf FROM r")


def _plain_result_bytes(result):
    # thrift's own pure-Python binary encoding: the reference for the bytes on the wire
    buffer = TTransport.TMemoryBuffer()
    result.write(TBinaryProtocol.TBinaryProtocol(buffer))
    return buffer.getvalue()


def _assert_reply_bytes_as_thrift_writes_them(names, rows):
    expected = ExtensionResponse(status=ok_status(), response=[row_map(names, row) for row in rows])
    ours = RowsResponse(ok_status(), names, rows)
    assert ours.response == expected.response
    for protocol in (TBinaryProtocol.TBinaryProtocol, codec.protocol):
        buffer = TTransport.TMemoryBuffer()
        ExtensionManager.query_result(success=ours).write(protocol(buffer))
        assert buffer.getvalue() == _plain_result_bytes(ExtensionManager.query_result(success=expected))


@pytest.mark.parametrize("sql", [AWKWARD_SQL, "select 1 as a where 0", "select * from time"])
def test_query_replies_are_the_bytes_thrift_writes_for_the_row_maps(engine, sql):
    _assert_reply_bytes_as_thrift_writes_them(*engine.query(sql))


def test_undecodable_path_bytes_reach_the_wire_as_row_maps_send_them():
    # a path read with surrogateescape: cell_text replaces what UTF-8 cannot carry
    _assert_reply_bytes_as_thrift_writes_them(["path"], [("/tmp/\udcff",), ("/tmp/ok",)])


def test_awkward_cells_reach_sdk_clients_as_row_maps(manager, engine):
    names, rows = engine.query(AWKWARD_SQL)
    assert manager.query(AWKWARD_SQL).response == [row_map(names, row) for row in rows]


def test_get_query_columns_in_order_without_running(manager):
    assert manager.getQueryColumns("select seconds as s from time").response == [{"s": "INTEGER"}]
    columns = manager.getQueryColumns("select pid, name, 1 as one from processes").response
    assert [list(column) for column in columns] == [["pid"], ["name"], ["one"]]
    assert columns[0]["pid"] == "BIGINT" and columns[1]["name"] == "TEXT"


def test_writes_are_refused_with_a_failed_status(manager):
    result = manager.query("ATTACH ':memory:' AS x")
    assert result.status.code != 0 and "read-only" in result.status.message and result.response == []
    assert manager.getQueryColumns("ATTACH ':memory:' AS x").status.code != 0


def test_sql_error_carries_sqlite_text(manager):
    result = manager.query("selec 1")
    assert (result.status.code, result.status.message) == (1, 'near "selec": syntax error')


def test_options_come_from_the_provider(manager):
    options = manager.options()
    assert (options["verbose"].value, options["verbose"].type) == ("false", "bool")
    assert options["schedule_splay_percent"].default_value == "10"
    assert options["host_identifier"].value == "x"


def test_extensions_register_and_deregister(manager, server):
    assert manager.extensions() == {}
    info = InternalExtensionInfo(name="example", version="1.0", sdk_version="3.1.1", min_sdk_version="0")
    status = manager.registerExtension(info, {"table": {}})
    assert status.code == 0 and status.uuid > 0
    assert manager.registerExtension(info, {}).code == 1    # one name, one extension
    assert manager.extensions()[status.uuid].name == "example"
    assert server.registry.infos()[status.uuid].version == "1.0"
    assert manager.deregisterExtension(status.uuid).code == 0
    assert manager.deregisterExtension(status.uuid).code == 1
    assert manager.extensions() == {}


def test_call_serves_tables_only(manager):
    generated = manager.call("table", "time", {"action": "generate"})
    assert generated.status.code == 0 and len(generated.response) == 1
    columns = manager.call("table", "time", {"action": "columns"}).response
    assert columns[0] == {"id": "column", "name": "weekday", "type": "TEXT", "op": "0"}
    assert manager.call("config", "filesystem", {}).status.code == 1


def test_socket_is_owner_only(server):
    mode = os.stat(server.path).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


# Run by the system's python with the standard library only: the test venv's interpreter may
# live under /root, where nobody cannot even start it.
SYSTEM_PYTHON = "/usr/bin/python3"
CONNECT = """
import socket, sys
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    client.connect(sys.argv[1])
    print("connected")
except OSError as error:
    print(error.strerror)
"""


def _connect_as_nobody(path):
    nobody = pwd.getpwnam("nobody")

    def drop():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    result = subprocess.run([SYSTEM_PYTHON, "-I", "-c", CONNECT, path], preexec_fn=drop, cwd="/",
                            capture_output=True, text=True, timeout=60, check=False)
    return (result.stdout + result.stderr).strip()


@pytest.mark.skipif(os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
                    reason="needs root and a system python to run a client as nobody")
def test_other_users_cannot_connect(server):
    assert _connect_as_nobody(server.path) == "Permission denied"
    os.chmod(server.path, 0o666)    # the control: only the socket's mode stood in nobody's way
    try:
        assert _connect_as_nobody(server.path) == "connected"
    finally:
        os.chmod(server.path, 0o600)


def test_pyosqueryi_connect_json(server):
    result = subprocess.run([SHELL, "--connect", server.path, "--json", "select 1 as a"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, '[\n  {"a":"1"}\n]\n', "")


def test_pyosqueryi_connect_errors(server, socket_dir):
    bad = subprocess.run([SHELL, "--connect", server.path, "selec 1"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert (bad.returncode, bad.stderr) == (1, 'Error: near "selec": syntax error\n')
    missing = os.path.join(socket_dir, "missing.em")
    gone = subprocess.run([SHELL, "--connect", missing, "select 1"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert gone.returncode == 1
    assert gone.stderr == "Error: Extension call failed: No such file or directory: %s\n" % missing


def test_pyosqueryi_connected_prompt(server):
    # a pty, but no pty.fork(): forking this multi-threaded process outside subprocess is unsafe
    terminal, child_end = os.openpty()
    with subprocess.Popen([SHELL, "--connect", server.path], stdin=child_end, stdout=child_end, stderr=child_end,
                          env=dict(os.environ, HOME="/tmp"), start_new_session=True) as shell:
        os.close(child_end)
        try:
            assert "[*]osquery> " in read_until(terminal, b"osquery> ")
            os.write(terminal, b"SELECT 6 * 7\n")
            assert "[*]    ...> " in read_until(terminal, b"...> ")
            os.write(terminal, b"AS answer;\n")
            output = read_until(terminal, b"[*]osquery> ")
            assert "| answer |" in output and "| 42     |" in output
            os.write(terminal, b".exit\n")
            assert shell.wait(timeout=20) == 0
        finally:
            os.close(terminal)
            if shell.poll() is None:
                shell.kill()


def test_our_client_orders_columns_and_reports_failures(server, socket_dir):
    with ExtensionClientConnection(server.path, 5) as client:
        assert client.ping() == (0, "OK")
        assert client.query("select 2 as b, 1 as a, null as n") == (["b", "a", "n"], [("2", "1", "")])
        assert client.columns("select seconds as s from time") == [("s", "INTEGER")]
        with pytest.raises(RemoteQueryError, match="no such table: nope"):
            client.query("select * from nope")
    with pytest.raises(ExtensionCallError, match="^Extension call failed: "):
        ExtensionClientConnection(os.path.join(socket_dir, "missing.em"), 1).ping()


def test_concurrent_clients_are_serialised_onto_the_engine(server):
    answers = []

    def work():
        with ExtensionClientConnection(server.path, 30) as client:
            for number in range(20):
                answers.append(client.query("select %d as n from time" % number) == (["n"], [(str(number),)]))
    workers = [threading.Thread(target=work) for _worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    # counted, not just free of failures: a thread that raised (only a warning from pytest) answered nothing
    assert answers == [True] * 80


def _dead_socket(path):
    # what a killed daemon leaves behind: a socket file that nobody listens on
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()


def test_stale_socket_is_replaced(engine, socket_dir):
    path = os.path.join(socket_dir, "stale.em")
    _dead_socket(path)
    served = ExtensionServer(path, engine)
    served.start()
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert ExtensionClientConnection(path, 5).ping() == (0, "OK")
    finally:
        served.stop()


def test_live_socket_or_other_file_is_refused(server, engine, socket_dir):
    with pytest.raises(SocketInUse, match="live server"):
        ExtensionServer(server.path, engine).start()
    assert ExtensionClientConnection(server.path, 5).ping() == (0, "OK")   # the first one is untouched
    regular = os.path.join(socket_dir, "regular")
    with open(regular, "w", encoding="utf-8"):
        pass
    with pytest.raises(SocketInUse, match="not a socket"):
        ExtensionServer(regular, engine).start()
    assert os.path.isfile(regular)


def test_stop_removes_the_socket_and_hangs_up(engine, socket_dir):
    served = ExtensionServer(os.path.join(socket_dir, "stop.em"), engine)
    served.start()
    client = ExtensionClientConnection(served.path, 5)
    assert client.ping() == (0, "OK")
    served.stop()
    assert not os.path.exists(served.path) and not served.running
    with pytest.raises(ExtensionCallError):
        client.ping()
    served.stop()   # a second stop is harmless
