"""agent_layers: fleet -> groups (by priority, then name) -> host; dicts merge, null removes; errors name the variable."""

import importlib.util
import os

import pytest

from ansible.errors import AnsibleFilterError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SPEC = importlib.util.spec_from_file_location("agent_layers", os.path.join(ROOT, "plugins", "filter", "agent_layers.py"))
agent_layers_module = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(agent_layers_module)
agent_layers = agent_layers_module.agent_layers

BASELINE = {"queries": {"procs": {"query": "SELECT pid FROM processes", "interval": 300}}}
FLEET = {"flags": {"watchdog_level": 0, "logger_rotate": True}, "options": {}, "schedule": {},
         "packs": {"baseline": BASELINE}, "decorators": {"load": ["SELECT uuid FROM system_info"]}}


def test_a_group_changes_one_flag_and_adds_one_pack_without_restating_the_fleet():
    servers = {"flags": {"watchdog_level": 1}, "packs": {"ports": {"queries": {"p": {"query": "SELECT 1"}}}}}
    merged = agent_layers(FLEET, {"servers": servers})
    assert merged["flags"] == {"watchdog_level": 1, "logger_rotate": True}
    assert sorted(merged["packs"]) == ["baseline", "ports"]
    assert merged["packs"]["baseline"] == BASELINE
    assert merged["layers"] == ["agent_*", "agent_group_servers"]


def test_a_layer_changes_one_query_of_a_pack_deep_inside():
    merged = agent_layers(FLEET, {"servers": {"packs": {"baseline": {"queries": {"procs": {"interval": 60}}}}}})
    assert merged["packs"]["baseline"]["queries"]["procs"] == {"query": "SELECT pid FROM processes", "interval": 60}
    assert FLEET["packs"]["baseline"]["queries"]["procs"]["interval"] == 300     # the inputs stay as they were


def test_groups_apply_by_priority_then_name_and_the_host_last():
    layers = {"workstations": {"flags": {"verbose": False, "a": "w"}},
              "canary": {"flags": {"verbose": True, "a": "c"}},
              "servers": {"priority": 0, "flags": {"a": "s"}}}
    merged = agent_layers(FLEET, layers, {"flags": {"b": "host"}})
    # servers (priority 0) first, then canary and workstations (priority 1) by name: workstations wins
    assert merged["layers"] == ["agent_*", "agent_group_servers", "agent_group_canary", "agent_group_workstations",
                                "agent_host_layer"]
    assert merged["flags"]["a"] == "w" and merged["flags"]["verbose"] is False and merged["flags"]["b"] == "host"
    layers["canary"]["priority"] = 10
    assert agent_layers(FLEET, layers)["flags"]["a"] == "c"


def test_null_removes_what_a_lower_layer_set_and_lists_replace():
    merged = agent_layers(FLEET, {"servers": {"flags": {"logger_rotate": None}, "packs": {"baseline": None},
                                              "decorators": {"load": ["SELECT 1"]}}})
    assert "logger_rotate" not in merged["flags"] and merged["packs"] == {}
    assert merged["decorators"] == {"load": ["SELECT 1"]}


def test_layers_without_content_are_not_listed():
    assert agent_layers(FLEET, {"canary": None, "servers": {}}, {})["layers"] == ["agent_*"]
    # nor do they stop the layers after them
    merged = agent_layers({}, {"canary": None, "edge": {}, "servers": {"flags": {"a": "s"}}}, {"flags": {"b": "h"}})
    assert merged["layers"] == ["agent_group_servers", "agent_host_layer"]
    assert merged["flags"] == {"a": "s", "b": "h"}


def test_a_group_without_priority_has_ansible_s_default_of_1():
    # a tie with an explicit priority 1 goes by name, whichever of the two gives it
    assert agent_layers(FLEET, {"alpha": {"flags": {"a": "alpha"}},
                                "zulu": {"priority": 1, "flags": {"a": "zulu"}}})["flags"]["a"] == "zulu"
    assert agent_layers(FLEET, {"alpha": {"priority": 1, "flags": {"a": "alpha"}},
                                "zulu": {"flags": {"a": "zulu"}}})["flags"]["a"] == "zulu"


def test_file_integrity_paths_merge_by_category_and_accesses_replace():
    fleet = dict(FLEET, file_paths={"etc": ["/etc/%%"]}, file_accesses=["etc"])
    merged = agent_layers(fleet, {"web": {"file_paths": {"www": ["/srv/www/%%"]}, "exclude_paths": {"www": ["/srv/www/cache/%%"]}},
                                  "db": {"file_paths": {"etc": None}, "file_accesses": []}})
    assert merged["file_paths"] == {"www": ["/srv/www/%%"]}          # db (by name, first) removed etc; web added www
    assert merged["exclude_paths"] == {"www": ["/srv/www/cache/%%"]}
    assert merged["file_accesses"] == []                              # db's empty list replaced the fleet's
    assert merged["layers"] == ["agent_*", "agent_group_db", "agent_group_web"]
    assert agent_layers(FLEET)["file_paths"] == {} and agent_layers(FLEET)["file_accesses"] == []


@pytest.mark.parametrize("groups, host, message", [
    ({"web": {"file_paths": {"www": "/srv/www/%%"}}}, None, "agent_group_web.file_paths.www: must be a list of path globs"),
    ({"web": {"file_paths": {"www": ["/srv", "srv/%%"]}}}, None, "agent_group_web.file_paths.www[1]: must be an absolute"),
    ({}, {"exclude_paths": {"www": [3]}}, "agent_host_layer.exclude_paths.www[0]: must be an absolute path glob"),
    ({"web": {"file_accesses": "www"}}, None, "agent_group_web.file_accesses: must be a list of file_paths categories"),
    ({"servers": {"flgas": {}}}, None, "agent_group_servers.flgas: unknown key"),
    ({"servers": {"flags": ["watchdog_level=1"]}}, None, "agent_group_servers.flags: must be a mapping, not list"),
    ({"servers": {"flags": {"watchdog_level": [1]}}}, None, "agent_group_servers.flags.watchdog_level: must be a string"),
    ({"servers": {"flags": {"Watchdog": 1}}}, None, "agent_group_servers.flags.Watchdog: not a flag name"),
    ({"servers": {"flags": {"pidfile": "/tmp/x"}}}, None, "agent_group_servers.flags.pidfile: set by the role"),
    ({"servers": {"packs": {"bad name": {}}}}, None, "agent_group_servers.packs.bad name: a pack name is a file name"),
    ({"servers": {"packs": {"p": "/etc/p.conf"}}}, None, "agent_group_servers.packs.p: must be a mapping"),
    ({"servers": {"priority": "high"}}, None, "agent_group_servers.priority: must be an integer"),
    ({"servers": "watchdog"}, None, "agent_group_servers: must be a mapping"),
    ({}, {"priority": 3}, "agent_host_layer.priority: unknown key"),
    ({}, {"packs": {"../x": {}}}, "agent_host_layer.packs.../x: a pack name is a file name"),
])
def test_bad_layers_name_the_variable_at_fault(groups, host, message):
    with pytest.raises(AnsibleFilterError) as error:
        agent_layers(FLEET, groups, host)
    assert message in str(error.value)


def test_the_fleet_layer_is_named_by_its_variables():
    with pytest.raises(AnsibleFilterError) as error:
        agent_layers(dict(FLEET, schedule=[]))
    assert "agent_schedule: must be a mapping, not list" in str(error.value)
