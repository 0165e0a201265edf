"""The pack module against a real pyosqueryd whose config globs a packs directory, with the real pyosqueryctl."""

import json
import os
import stat
import sys

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import AgentClient
from ansible_collections.pyosquery.fleet.plugins.modules import pack

CTL = os.path.join(os.path.dirname(sys.executable), "pyosqueryctl")


class Host:
    """A daemon with a packs directory and a flagfile naming its pidfile, as the agent role lays them out."""

    def __init__(self, daemons, tmp_path):
        self.packs = tmp_path / "packs"
        self.packs.mkdir(mode=0o700)
        self.daemon = daemons({"packs": {"*": str(self.packs / "*.conf")},
                               "schedule": {"own": {"query": "SELECT 1 AS x", "interval": 3600}}})
        self.flagfile = tmp_path / "pyosquery.flags"
        self.flagfile.write_text("--pidfile=%s\n" % self.daemon.paths["pidfile"])

    def args(self, **given):
        return dict(given, packs_dir=str(self.packs), flagfile=str(self.flagfile), pyosqueryctl=CTL,
                    socket=self.daemon.paths["extensions_socket"])

    def scheduled(self):
        with AgentClient(self.daemon.paths["extensions_socket"]) as client:
            return {row["name"]: row for row in client.query("SELECT name, query, interval FROM osquery_schedule")}

    def file(self, name):
        path = self.packs / (name + ".conf")
        return path.read_text() if path.exists() else None


@pytest.fixture()
def host(daemons, tmp_path, answering):
    made = Host(daemons, tmp_path)
    made.daemon.start()
    answering(made.daemon.paths["extensions_socket"])
    return made


def test_a_new_query_is_scheduled_when_the_task_returns(run_module, host):
    failed, result = run_module(pack, host.args(name="rollout", query="ports", sql="SELECT 2 AS y", interval=60))
    assert not failed and result["changed"], result
    assert result["pack"] == {"queries": {"ports": {"query": "SELECT 2 AS y", "interval": 60}}}
    assert result["reload"].endswith("pyosqueryctl --flagfile %s reload" % host.flagfile)
    assert host.scheduled()["pack_rollout_ports"]["interval"] == "60"     # no sleep: the task waited for it
    info = os.stat(host.packs / "rollout.conf")
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o600, 0, 0)
    assert result["diff"] == {"before": "", "after": host.file("rollout"), "before_header": result["path"],
                              "after_header": result["path"]}
    failed, again = run_module(pack, host.args(name="rollout", query="ports", sql="SELECT 2 AS y", interval=60))
    assert not failed and not again["changed"] and again["reload"] is None


def test_a_bad_query_fails_naming_pack_and_query_and_keeps_the_old_file(run_module, host):
    run_module(pack, host.args(name="rollout", query="ports", sql="SELECT 2 AS y", interval=60))
    before = host.file("rollout")
    failed, result = run_module(pack, host.args(name="rollout", query="broken", sql="SELECT nope FROM processes"))
    assert failed
    path = str(host.packs / "rollout.conf")
    assert result["msg"].startswith("pack rollout failed pyosqueryctl pack-check, %s was left as it was: " % path)
    assert "%s: query pack_rollout_broken: no such column: nope" % path in result["msg"]
    assert host.file("rollout") == before and os.listdir(host.packs) == ["rollout.conf"]    # no temporary left
    assert "pack_rollout_broken" not in host.scheduled() and "pack_rollout_ports" in host.scheduled()


def test_check_mode_checks_but_changes_nothing(run_module, host):
    failed, result = run_module(pack, host.args(name="rollout", query="ports", sql="SELECT 2 AS y",
                                                _ansible_check_mode=True))
    assert not failed and result["changed"] and result["reload"] is None and host.file("rollout") is None
    failed, result = run_module(pack, host.args(name="rollout", query="ports", sql="SELECT nope",
                                                _ansible_check_mode=True))
    assert failed and "no such column: nope" in result["msg"]
    assert "pack_rollout_ports" not in host.scheduled()


def test_a_whole_pack_then_one_query_removed_then_the_pack(run_module, host):
    queries = {"a": {"query": "SELECT 1 AS a", "interval": 30}, "b": {"query": "SELECT 2 AS b", "snapshot": True}}
    failed, result = run_module(pack, host.args(name="base", queries=queries, platform="linux",
                                                discovery=["SELECT 1 FROM osquery_info"]))
    assert not failed and result["pack"]["platform"] == "linux"
    assert {"pack_base_a", "pack_base_b", "own"} <= set(host.scheduled())
    failed, result = run_module(pack, host.args(name="base", query="b", state="absent"))
    assert not failed and result["changed"] and "pack_base_b" not in host.scheduled()
    failed, result = run_module(pack, host.args(name="base", state="absent"))
    assert not failed and result["changed"] and result["pack"] is None and host.file("base") is None
    assert set(host.scheduled()) == {"own"}
    failed, result = run_module(pack, host.args(name="base", state="absent"))
    assert not failed and not result["changed"]


def test_same_content_in_other_formatting_is_no_change_but_loose_modes_are(run_module, host):
    path = host.packs / "hand.conf"
    path.write_text('# written by hand\n{"queries": {"q": {"interval": 60,\n  "query": "SELECT 1"}}}\n')
    path.chmod(0o644)
    failed, result = run_module(pack, host.args(name="hand", query="q", sql="SELECT 1", interval=60))
    assert not failed and result["changed"] and result["reload"] is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text().startswith("# written by hand")
    failed, result = run_module(pack, host.args(name="hand", query="q", sql="SELECT 1", interval=60))
    assert not failed and not result["changed"]


def test_an_agent_that_is_not_running_gets_the_file_and_a_warning(run_module, host):
    host.daemon.stop()
    failed, result = run_module(pack, host.args(name="later", query="q", sql="SELECT 1 AS x"))
    assert not failed and result["changed"] and result["reload"] is None and host.file("later")
    # warnings leave the module as structured events (ansible-core 2.19+) or plain strings (before)
    assert "pyosqueryd is not running: pack later takes effect when it starts" in json.dumps(result["warnings"])


PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/pyosquery.fleet.agent:
      socket: {socket}
  tasks:
    - name: add
      pyosquery.fleet.pack:
        name: rollout
        query: ports
        sql: SELECT 2 AS y
        interval: 1
        packs_dir: {packs}
        flagfile: {flagfile}
        pyosqueryctl: {ctl}
      register: added
    - name: read
      pyosquery.fleet.schedule_info:
        queries: [pack_rollout_ports]
      register: schedule
    - name: out
      ansible.builtin.copy:
        content: "{{{{ {{'added': added, 'schedule': schedule}} | to_json }}}}"
        dest: "{{out}}"
        mode: "0600"
"""


def test_through_ansible_the_query_is_in_schedule_info_at_the_next_task(playbook, host):
    rc, out = playbook(PLAY.format(socket=host.daemon.paths["extensions_socket"], packs=host.packs,
                                   flagfile=host.flagfile, ctl=CTL), "--diff")
    assert rc == 0, out
    assert out["added"]["changed"] and '"query": "SELECT 2 AS y"' in out["added"]["diff"]["after"]
    assert out["schedule"]["missing"] == [] and out["schedule"]["queries"]["pack_rollout_ports"]["interval"] == 1
