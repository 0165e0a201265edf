"""file_paths, exclude_paths and file_accesses read as osquery does, from real configs and real directories;
the hashing budget that keeps a write storm from eating the host."""

import json

from pyosquery.config import loader
from pyosquery.events import fim_paths, fim_rows
from pyosquery.flags.values import Values


def test_a_plain_directory_is_one_level_with_or_without_its_slash_and_a_file_is_itself(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    for text in (str(tmp_path / "d"), str(tmp_path / "d") + "/", str(tmp_path / "d") + "/%"):
        found, problem = fim_paths.targets(text, "c", False)
        assert [target.path for target in found] == [str(tmp_path / "d") + "/"] and problem is None
        assert not found[0].owner.recursive
    found, _ = fim_paths.targets(str(tmp_path / "f"), "c", False)
    assert [target.path for target in found] == [str(tmp_path / "f")]


def test_a_wildcard_above_the_last_part_is_expanded_when_the_config_loads(tmp_path):
    for user in ("ann", "bob"):
        (tmp_path / user / ".ssh").mkdir(parents=True)
    (tmp_path / "nobody").mkdir()
    found, problem = fim_paths.targets(str(tmp_path) + "/%/.ssh/%%", "homes", False)
    assert [target.path for target in found] == [str(tmp_path / user / ".ssh") + "/" for user in ("ann", "bob")]
    assert problem is None and all(target.owner.recursive for target in found)


def test_paths_are_canonical(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    found, _ = fim_paths.targets(str(tmp_path / "link") + "/%%", "c", False)
    assert [target.path for target in found] == [str(tmp_path / "real") + "/"]


def test_exclusions_match_part_by_part_as_osquerys_path_set():
    excludes = fim_paths.Excludes(["/var/log/%%", "/etc/%/cache", "/srv/one/", "/opt/%", "/tmp/%.swp"])
    assert excludes.covers("/var/log") and excludes.covers("/var/log/a/b")
    assert excludes.covers("/etc/app/cache") and not excludes.covers("/etc/app/conf")
    assert excludes.covers("/srv/one") and not excludes.covers("/srv/one/deeper")
    assert excludes.covers("/opt/a") and excludes.covers("/opt/a/b") and not excludes.covers("/opt")
    assert excludes.covers("/tmp/x.swp") and not excludes.covers("/tmp/x.txt")


def test_a_directory_knows_once_whether_its_entries_are_excluded():
    excludes = fim_paths.Excludes(["/srv/one/", "/etc/%/cache"])
    assert excludes.for_directory("/srv/one/") == (True, None)       # an event's directory is checked too
    everything, by_name = excludes.for_directory("/etc/app/")
    assert not everything and by_name("cache") and not by_name("conf")
    assert excludes.for_directory("/usr/") == (False, None)         # no test per event where none reaches


def _load(tmp_path, config, packs=None, conf_d=None):
    path = tmp_path / "osquery.conf"
    path.write_text(json.dumps(config))
    for name, body in (packs or {}).items():
        (tmp_path / name).write_text(json.dumps(body))
    for name, body in (conf_d or {}).items():
        (tmp_path / "osquery.conf.d").mkdir(exist_ok=True)
        (tmp_path / "osquery.conf.d" / name).write_text(json.dumps(body))
    return loader.load(str(path), Values())


def test_file_paths_of_every_config_file_and_pack_are_merged(tmp_path):
    for name in ("etc", "bin", "srv", "opt"):
        (tmp_path / name).mkdir()
    config = _load(tmp_path, {"file_paths": {"etc": [str(tmp_path / "etc")]},
                              "packs": {"fim": "fim.json",
                                        "inline": {"queries": {}, "file_paths": {"opt": [str(tmp_path / "opt")]}}}},
                   packs={"fim.json": {"queries": {}, "file_paths": {"bin": [str(tmp_path / "bin") + "/%%"]},
                                       "file_accesses": ["bin"]}},
                   conf_d={"10-srv.conf": {"file_paths": {"srv": [str(tmp_path / "srv")]}}})
    rules = fim_paths.rules(config)
    found = {target.owner.category: (target.path, target.owner.accesses) for target in rules.targets}
    assert found == {"etc": (str(tmp_path / "etc") + "/", False), "bin": (str(tmp_path / "bin") + "/", True),
                     "srv": (str(tmp_path / "srv") + "/", False), "opt": (str(tmp_path / "opt") + "/", False)}
    assert rules.subscriptions == 4 and rules.warnings == [] and config.warnings == []   # a pack may carry them


def test_a_warning_names_the_file_and_the_json_path_of_a_pack(tmp_path):
    config = _load(tmp_path, {"packs": {"fim": "fim.json"}},
                   packs={"fim.json": {"queries": {}, "file_paths": {"web": ["/no/such/dir/%"]}}})
    assert fim_paths.rules(config).warnings == [
        "%s: $.file_paths.web[0]: /no/such/dir/%%: no such directory" % (tmp_path / "fim.json")]


def test_file_paths_query_is_named_as_not_supported():
    assert fim_paths.rules({"file_paths_query": {"c": ["SELECT '/etc' AS path"]}}).warnings == [
        "config: $.file_paths_query: not supported by pyosquery; ignored"]


def test_hashing_is_held_to_its_share_of_one_core_and_says_what_it_skipped(caplog):
    now = [0.0]
    budget = fim_rows.HashBudget(share=0.2, burst=1.0, clock=lambda: now[0])
    assert budget.allows()
    budget.spent(1.5)               # a big file: the bucket is in debt
    now[0] += 2.0                   # 0.4 s earned back: still in debt
    with caplog.at_level("WARNING", logger="pyosquery.events.inotify"):
        assert not budget.allows() and not budget.allows()     # the first is logged, the next a second later
    assert caplog.messages == ["inotify: 1 changed file(s) not hashed (their file_events rows say hashed 0): "
                               "hashing is held to 20% of one core (a write storm under a watched path)"]
    now[0] += 1.0                   # 0.6 s: out of debt
    assert budget.allows()


def test_rows_of_one_batch_stat_and_hash_a_path_once(tmp_path):
    path = str(tmp_path / "f")
    (tmp_path / "f").write_text("same")
    maker = fim_rows.RowMaker(read_max=1 << 20)
    calls = []
    real = maker._hashes                            # pylint: disable=protected-access
    maker._hashes = lambda *args: calls.append(args) or real(*args)
    rows = maker.rows([(path, "c", "CREATED", 0, True), (path, "c", "UPDATED", 0, True),
                       (path, "c", "UPDATED", 0, True)], 1700000000)
    assert len(calls) == 1 and len({row["sha1"] for row in rows}) == 1 and rows[0]["hashed"] == 1


def test_a_file_larger_than_read_max_or_not_regular_fails_to_hash_as_in_osquery(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 100)
    maker = fim_rows.RowMaker(read_max=10)
    big, directory = maker.rows([(str(tmp_path / "big"), "c", "UPDATED", 0, True),
                                 (str(tmp_path), "c", "CREATED", 0, True)], 0)
    assert (big["hashed"], big["md5"], big["size"]) == (-1, "", 100)
    assert directory["hashed"] == -1
