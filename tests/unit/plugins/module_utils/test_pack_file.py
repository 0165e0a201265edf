"""A pack file's content as the pack module changes it (pure)."""

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils import pack_file
from ansible_collections.pyosquery.fleet.plugins.module_utils.pack_file import PackFileError

OPTIONS = ("query", "sql", "interval", "snapshot", "removed", "description", "denylist", "platform", "version",
           "shard", "queries", "discovery")


def params(**given):
    values = dict.fromkeys(OPTIONS)
    values.update(name="p", state="present")
    values.update(given)
    return values


CURRENT = {"platform": "linux", "queries": {"a": {"query": "SELECT 1", "interval": 60},
                                            "b": {"query": "SELECT 2", "interval": 60}}}


def test_a_file_with_osquerys_comments_and_continuations_reads():
    text = '# a pack\n{\n  // the queries\n  "queries": {"a": {"query": "SELECT \\\n1", "interval": 60}}\n}\n'
    assert pack_file.parse(text, "/p.conf") == {"queries": {"a": {"query": "SELECT 1", "interval": 60}}}


@pytest.mark.parametrize("text, message", [("{\n  oops\n}", r"/p.conf is not a pack the module can change \(.*line 2"),
                                           ("[1]", "/p.conf is not a pack: its JSON is not an object")])
def test_an_unreadable_file_is_named(text, message):
    with pytest.raises(PackFileError, match=message):
        pack_file.parse(text, "/p.conf")


def test_one_query_is_set_exactly_as_given_and_the_rest_kept():
    wanted = pack_file.desired(CURRENT, params(query="a", sql="SELECT 3", snapshot=True, shard=10))
    assert wanted == {"platform": "linux", "queries": {"a": {"query": "SELECT 3", "snapshot": True, "shard": 10},
                                                       "b": CURRENT["queries"]["b"]}}
    assert CURRENT["queries"]["a"] == {"query": "SELECT 1", "interval": 60}      # the input is not changed


def test_one_query_in_a_new_file():
    assert pack_file.desired(None, params(query="a", sql="SELECT 1", interval=5)) == {
        "queries": {"a": {"query": "SELECT 1", "interval": 5}}}


def test_removing_a_query_or_the_pack():
    assert pack_file.desired(CURRENT, params(query="b", state="absent")) == {
        "platform": "linux", "queries": {"a": CURRENT["queries"]["a"]}}
    assert pack_file.desired(CURRENT, params(query="zz", state="absent")) is CURRENT     # nothing to remove
    assert pack_file.desired(None, params(query="a", state="absent")) is None
    assert pack_file.desired(CURRENT, params(state="absent")) is None


def test_the_whole_pack_replaces_the_file():
    wanted = pack_file.desired(CURRENT, params(queries={"c": {"query": "SELECT 4"}}, discovery=["SELECT 1"], shard=5))
    assert wanted == {"discovery": ["SELECT 1"], "shard": 5, "queries": {"c": {"query": "SELECT 4"}}}


def test_rendering_is_canonical():
    one = pack_file.render({"queries": {"b": {"query": "x"}, "a": {"interval": 1, "query": "y"}}})
    two = pack_file.render({"queries": {"a": {"query": "y", "interval": 1}, "b": {"query": "x"}}})
    assert one == two and one.endswith("}\n") and pack_file.parse(one, "x") == pack_file.parse(two, "x")


@pytest.mark.parametrize("given, message", [
    (dict(name="../etc"), "pack name '../etc': use letters"),
    (dict(query="a"), "query a of pack p needs sql"),
    (dict(), "pack p: give queries"),
    (dict(queries={}, interval=60, sql="x"), "sql, interval describe one query"),
    (dict(state="absent", sql="x"), "state=absent takes only name"),
])
def test_option_combinations_that_say_two_things_are_refused(given, message):
    with pytest.raises(PackFileError, match=message):
        pack_file.check_params(params(**given))
