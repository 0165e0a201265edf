"""AgentClient against a real pyosqueryd, and every way of not getting an answer, on real sockets."""

import os
import socket
import subprocess
import sys
import threading

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils import agent_client
from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import AgentClient, AgentError

CONFIG = {"schedule": {"one": {"query": "SELECT 1 AS x", "interval": 3600}}}


@pytest.fixture()
def agent(daemons, answering):
    daemon = daemons(CONFIG).start()
    answering(daemon.paths["extensions_socket"])
    return daemon


def failure(path, sql="SELECT 1", timeout=2.0):
    with pytest.raises(AgentError) as info:
        with AgentClient(path, timeout) as client:
            client.query(sql)
    return info.value


def test_rows_and_columns_come_from_the_running_daemon(agent):
    with AgentClient(agent.paths["extensions_socket"]) as client:      # one connection, several calls
        assert client.query("SELECT watcher, config_valid FROM osquery_info") == [
            {"watcher": str(agent.proc.pid), "config_valid": "1"}]
        assert client.query("SELECT name, query FROM osquery_schedule") == [{"name": "one", "query": "SELECT 1 AS x"}]
        assert client.columns("SELECT name, interval FROM osquery_schedule") == [("name", "TEXT"),
                                                                                 ("interval", "INTEGER")]
        assert client.query("SELECT NULL AS n, 'ü' AS u") == [{"n": "", "u": "ü"}]


def test_the_agents_refusal_is_a_failure_with_its_reason(agent):
    path = agent.paths["extensions_socket"]
    error = failure(path, "SELECT nope FROM processes")
    assert error.kind == agent_client.QUERY_FAILED
    assert str(error) == "the agent on %s refused the query: no such column: nope" % path
    assert failure(path, "CREATE TABLE t (a)").kind == agent_client.QUERY_FAILED     # read-only SQL


def test_no_socket_file(tmp_path):
    path = str(tmp_path / "absent.em")
    error = failure(path)
    assert error.kind == agent_client.NO_SOCKET
    assert str(error).startswith("no socket file at %s: the agent is not running" % path)


def test_a_socket_left_by_a_dead_agent_refuses(tmp_path):
    path = str(tmp_path / "stale.em")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()           # the file stays, nobody listens: what a killed daemon leaves
    error = failure(path)
    assert error.kind == agent_client.REFUSED and "connection refused on %s" % path in str(error)


def test_a_file_that_is_not_a_socket_is_named(tmp_path):
    path = tmp_path / "pyosquery.em"
    path.write_text("")
    error = failure(str(path))
    assert error.kind == agent_client.REFUSED and str(error).startswith("%s is not a socket" % path)


def test_an_agent_that_never_answers_times_out(tmp_path):
    path = str(tmp_path / "mute.em")
    mute = socket.socket(socket.AF_UNIX)
    mute.bind(path)
    mute.listen(1)          # the kernel accepts the connection; nobody reads or answers
    try:
        error = failure(path, timeout=0.3)
    finally:
        mute.close()
    assert error.kind == agent_client.TIMEOUT
    assert str(error) == "the agent on %s did not answer within 0.3 s" % path


def test_an_agent_that_hangs_up_mid_call(tmp_path):
    path = str(tmp_path / "rude.em")
    rude = socket.socket(socket.AF_UNIX)
    rude.bind(path)
    rude.listen(1)

    def hang_up():
        connection = rude.accept()[0]
        connection.recv(10)
        connection.close()
    thread = threading.Thread(target=hang_up)
    thread.start()
    try:
        error = failure(path)
    finally:
        thread.join()
        rude.close()
    assert error.kind == agent_client.HUNG_UP and "the agent on %s hung up" % path in str(error)


def test_a_stopped_daemon_fails_the_next_call_of_an_open_connection(agent):
    client = AgentClient(agent.paths["extensions_socket"])
    assert client.query("SELECT 1 AS a") == [{"a": "1"}]
    agent.stop()
    with pytest.raises(AgentError) as info:
        client.query("SELECT 1 AS a")
    assert info.value.kind == agent_client.HUNG_UP
    # a new connection says the agent is down: no socket file (a clean stop removes it), or a refusal
    # (a worker killed before it could remove it: under heavy load the watcher's grace can run out)
    assert failure(agent.paths["extensions_socket"]).kind in (agent_client.NO_SOCKET, agent_client.REFUSED)


HOST_PYTHON = "/usr/bin/python3"    # what the lab hosts run modules with; readable by every user


@pytest.mark.skipif(not os.path.exists(HOST_PYTHON), reason="needs Debian's %s" % HOST_PYTHON)
def test_a_user_other_than_root_is_told_to_become(agent):
    code = ("import sys; sys.path[:0] = %r\n"
            "from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import AgentClient, AgentError\n"
            "try:\n    AgentClient(%r).query('SELECT 1')\n"
            "except AgentError as error:\n    print(error.kind, error)\n") % (sys.path, agent.paths["extensions_socket"])
    out = subprocess.run([HOST_PYTHON, "-c", code], capture_output=True, text=True, check=True, timeout=30,
                         preexec_fn=lambda: os.setuid(65534)).stdout
    assert out.startswith("permission_denied permission denied on %s" % agent.paths["extensions_socket"])
    assert "become" in out
