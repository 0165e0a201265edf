"""sql_info against a real pyosqueryd: in-process as AnsiballZ runs it, and once through ansible-playbook."""

import pytest

from ansible_collections.pyosquery.fleet.plugins.modules import sql_info

CONFIG = {"schedule": {"one": {"query": "SELECT 1 AS x", "interval": 3600}}}


@pytest.fixture()
def socket_path(daemons, answering):
    path = daemons(CONFIG).start().paths["extensions_socket"]
    answering(path)
    return path


def test_rows_come_back_typed_with_their_columns(run_module, socket_path):
    failed, result = run_module(sql_info, {"query": "SELECT name, interval, query FROM osquery_schedule",
                                           "socket": socket_path})
    assert not failed, result
    assert result["changed"] is False
    assert result["rows"] == [{"name": "one", "interval": 3600, "query": "SELECT 1 AS x"}]
    assert result["columns"] == ["name", "interval", "query"]
    assert "ansible_facts" not in result


def test_untyped_rows_are_osquerys_strings(run_module, socket_path):
    failed, result = run_module(sql_info, {"query": "SELECT interval FROM osquery_schedule", "typed": False,
                                           "socket": socket_path})
    assert not failed, result
    assert result["rows"] == [{"interval": "3600"}]


def test_a_bad_query_fails_with_the_agents_reason(run_module, socket_path):
    failed, result = run_module(sql_info, {"query": "SELECT nope FROM osquery_schedule", "socket": socket_path})
    assert failed and result["error"] == "query_failed"
    assert result["msg"] == "the agent on %s refused the query: no such column: nope" % socket_path
    assert "rows" not in result


def test_no_agent_fails_naming_the_socket(run_module, tmp_path):
    failed, result = run_module(sql_info, {"query": "SELECT 1", "socket": str(tmp_path / "none.em")})
    assert failed and result["error"] == "no_socket" and str(tmp_path / "none.em") in result["msg"]


PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: first
      pyosquery.fleet.sql_info:
        query: SELECT name FROM osquery_schedule
        socket: {socket}
        fact_name: schedule
    - name: second
      pyosquery.fleet.sql_info:
        query: SELECT config_valid FROM osquery_info
        socket: {socket}
        fact_name: info
      check_mode: true
    - name: facts
      ansible.builtin.copy:
        content: "{{{{ ansible_facts.pyosquery | to_json }}}}"
        dest: "{{out}}"
        mode: "0600"
"""


def test_facts_of_several_tasks_add_up_under_pyosquery(playbook, socket_path):
    rc, facts = playbook(PLAY.format(socket=socket_path))
    assert rc == 0, facts
    assert facts == {"schedule": [{"name": "one"}], "info": [{"config_valid": 1}]}
