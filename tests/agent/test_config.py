"""Config: osquery's JSON format from files, comments, limits, the schema, packs, shard and `--config_check`."""

import hashlib
import io
import json

import pytest

from pyosquery import OSQUERY_SDK_VERSION, config, flags
from pyosquery.config import shard


def values_for(path, *argv):
    values, _ = flags.parse(["--config_path=" + str(path)] + list(argv), "pyosqueryd", default_flagfile="")
    return values


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def load(path, *argv):
    return config.load(str(path), values_for(path, *argv))


def load_error(path, *argv):
    with pytest.raises(config.ConfigError) as caught:
        load(path, *argv)
    return caught.value.messages


def by_name(cfg):
    return {query.name: query for query in cfg.queries()}


# ---------------------------------------------------------------- files, comments, limits

def test_missing_config_file(tmp_path):
    assert load_error(tmp_path / "none.conf") == ["config file does not exist: %s" % (tmp_path / "none.conf")]


def test_comments_stripped_osquery_way(tmp_path):
    path = write(tmp_path / "c.conf", '{\n  # hash comment\n  // slash comment\n  "schedule": {"a": {"query": \\\n'
                                      '    "select 1", "interval": 60}},\n   "options": {"verbose": true}\n}\n')
    cfg = load(path)
    assert by_name(cfg)["a"].sql == "select 1"
    assert cfg.options == {"verbose": True}


def test_json_errors_after_a_joined_line_keep_their_line_number(tmp_path):
    path = write(tmp_path / "j.conf", '{"schedule": {"a": {"query": \\\n"select 1"}},\n"options": {,}}\n')
    assert load_error(path) == ["%s:3:13: JSON error: Expecting property name enclosed in double quotes" % path]


def test_trailing_comment_is_not_a_comment(tmp_path):
    path = write(tmp_path / "c.conf", '{"options": {}} // not stripped\n')
    assert "JSON error" in load_error(path)[0]


def test_dot_d_files_load_sorted_before_the_main_file(tmp_path):
    main = write(tmp_path / "p.conf", {"options": {"verbose": True}, "schedule": {"m": {"query": "select 1"}}})
    write(tmp_path / "p.conf.d" / "20-b.conf", {"options": {"schedule_epoch": 2, "verbose": False},
                                                "schedule": {"b": {"query": "select 2"}}})
    write(tmp_path / "p.conf.d" / "10-a.conf", {"options": {"schedule_epoch": 1}, "file_paths": {"etc": ["/etc/%"]}})
    write(tmp_path / "p.conf.d" / "ignored.json", "not json")
    cfg = load(main)
    assert list(cfg.sources) == [str(tmp_path / "p.conf.d" / "10-a.conf"), str(tmp_path / "p.conf.d" / "20-b.conf"),
                                 str(main)]
    assert cfg.options == {"schedule_epoch": 2, "verbose": True}   # later source wins per option
    assert cfg.data["file_paths"] == {"etc": ["/etc/%"]}
    assert list(by_name(cfg)) == ["m"]                               # the last schedule is `main`


def test_size_limit_is_4_mib_after_comments(tmp_path):
    filler = "#" + "x" * 1023 + "\n"
    ok = write(tmp_path / "ok.conf", filler * 5000 + '{"options": {}}')      # 5 MB of comments: fine
    assert load(ok).sources
    big = write(tmp_path / "big.conf", '{"views": {"v": "%s"}}' % ("y" * (4 * 1024 * 1024)))
    assert load_error(big) == ["%s: the config size exceeds the limit of 4194304 bytes" % big]
    exact = write(tmp_path / "exact.conf", '{"views": {"v": "%s"}}' % ("y" * (4 * 1024 * 1024 - 20)))
    assert load(exact).data["views"]                                   # 4194304 bytes: at the limit, fine
    huge = write(tmp_path / "huge.conf", "{}\n" + "#" * (8 * 1024 * 1024))   # even if all comments
    assert load_error(huge) == ["%s: the file is larger than 8388608 bytes" % huge]


def test_nesting_limit(tmp_path):
    def nested(levels):
        return '{"x":' * (levels - 1) + "{}" + "}" * (levels - 1)
    assert load(write(tmp_path / "ok.conf", nested(32))).data["x"]
    deep = write(tmp_path / "deep.conf", nested(33))
    assert load_error(deep) == ["%s: Configuration has too many nesting levels!" % deep]
    beside = write(tmp_path / "beside.conf", nested(33)[:-1] + ', "y": 1}')      # a plain value next to it
    assert load_error(beside) == ["%s: Configuration has too many nesting levels!" % beside]
    # deeper than Python's JSON parser can recurse: the same error, not a crash
    abyss = write(tmp_path / "abyss.conf", '{"x":' + "[" * 200000 + "]" * 200000 + "}")
    assert load_error(abyss) == ["%s: Configuration has too many nesting levels!" % abyss]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(tmp_path, constant):
    path = write(tmp_path / "nan.conf", '{"options": {"x": %s}}' % constant)
    assert load_error(path) == ["%s: JSON error: %s is not valid JSON" % (path, constant)]


def test_json_error_names_file_line_and_column_of_the_original_file(tmp_path):
    text = '{\n  // comment\n  "options": {\n    "verbose": true\n    "force": 1\n  }\n}\n'
    path = write(tmp_path / "bad.conf", text)
    assert load_error(path) == ["%s:5:5: JSON error: Expecting ',' delimiter" % path]


def test_root_must_be_an_object(tmp_path):
    path = write(tmp_path / "list.conf", "[]")
    assert load_error(path) == ["%s: the config root must be a JSON object" % path]


def test_duplicate_keys_first_wins_with_warning(tmp_path):
    path = write(tmp_path / "d.conf", '{"schedule": {"q": {"query": "select 1"}, "q": {"query": "select 2"}}}')
    cfg = load(path)
    assert by_name(cfg)["q"].sql == "select 1"
    assert any('duplicate key "q"' in warning for warning in cfg.warnings)


# ---------------------------------------------------------------- schema

def test_schema_errors_name_file_and_json_path_all_at_once(tmp_path):
    path = write(tmp_path / "s.conf", {
        "schedule": {"procs": {"query": "select 1", "interval": "abc"}, "noquery": {"interval": 60},
                     "flag": {"query": "select 1", "snapshot": [True]}},
        "packs": {"my pack": 5},
        "decorators": {"load": "select 1"},
        "unknown_top_level_key": {"is": "ignored"}})
    assert load_error(path) == [
        "%s: $.decorators.load: 'select 1' is not of type 'array'" % path,
        "%s: $.packs[\"my pack\"]: 5 is not of type 'object'" % path,
        "%s: $.schedule.flag.snapshot: [True] is not of type 'boolean', 'number', 'string'" % path,
        "%s: $.schedule.noquery: 'query' is a required property" % path,
        "%s: $.schedule.procs.interval: 'abc' is not valid under any of the given schemas" % path,
    ]


def test_errors_of_every_file_are_reported(tmp_path):
    main = write(tmp_path / "p.conf", {"schedule": {"a": {"query": 1}}})
    extra = write(tmp_path / "p.conf.d" / "x.conf", "{oops")
    messages = load_error(main)
    assert messages[0].startswith("%s:1:2: JSON error" % extra)
    assert messages[1] == "%s: $.schedule.a.query: 1 is not of type 'string'" % main


def test_schema_ships_with_the_package():
    from pyosquery.config import validate   # pylint: disable=import-outside-toplevel
    assert validate.schema()["$schema"].endswith("2020-12/schema")


# ---------------------------------------------------------------- packs and queries

def test_packs_inline_by_relative_path_and_glob(tmp_path):
    write(tmp_path / "packs" / "ir.conf", '# pack comment\n{"platform": "linux", "queries": '
                                          '{"crontab": {"query": "select * from crontab", "interval": 60}}}')
    write(tmp_path / "more" / "hw.conf", {"queries": {"usb": {"query": "select 1"}}})
    write(tmp_path / "more" / "fim.conf", {"discovery": ["select 1"], "queries": {"f": {"query": "select 2"}}})
    main = write(tmp_path / "p.conf", {"schedule": {"procs": {"query": "select 1"}},
                                       "packs": {"incident-response": "packs/ir.conf",
                                                 "*": str(tmp_path / "more" / "*.conf"),
                                                 "inline": {"shard": "10", "queries": {"x": {"query": "select 3"}}}}})
    cfg = load(main)
    assert [pack.name for pack in cfg.packs] == ["main", "incident-response", "fim", "hw", "inline"]
    assert list(by_name(cfg)) == ["procs", "pack_incident-response_crontab", "pack_fim_f", "pack_hw_usb",
                                  "pack_inline_x"]
    packs = {pack.name: pack for pack in cfg.packs}
    assert packs["incident-response"].platform == "linux"
    assert packs["incident-response"].source == str(tmp_path / "packs" / "ir.conf")
    assert packs["fim"].discovery == ("select 1",)
    assert packs["inline"].shard == 10 and packs["inline"].source == str(main)
    crontab = by_name(cfg)["pack_incident-response_crontab"]
    assert (crontab.short_name, crontab.pack, crontab.interval) == ("crontab", "incident-response", 60)
    assert crontab.source == str(tmp_path / "packs" / "ir.conf")
    assert str(tmp_path / "packs" / "ir.conf") in cfg.pack_files


def test_a_pack_glob_matching_nothing_is_a_warning(tmp_path):
    main = write(tmp_path / "p.conf", {"packs": {"*": str(tmp_path / "none" / "*.conf")}})
    assert load(main).warnings == ["%s: no pack files match %s" % (main, tmp_path / "none" / "*.conf")]


def test_schema_errors_in_lists_name_the_index(tmp_path):
    path = write(tmp_path / "l.conf", {"decorators": {"load": ["select 1", 5]}})
    assert load_error(path) == ["%s: $.decorators.load[1]: 5 is not of type 'string'" % path]


def test_pack_file_errors_name_the_pack_file(tmp_path):
    bad = write(tmp_path / "packs" / "bad.conf", {"queries": {"q": {"query": "select 1", "interval": "soon"}}})
    main = write(tmp_path / "p.conf", {"packs": {"bad": "packs/bad.conf", "gone": "packs/gone.conf"}})
    messages = load_error(main)
    assert messages[0] == "%s: $.queries.q.interval: 'soon' is not valid under any of the given schemas" % bad
    assert messages[1].startswith("%s: cannot read" % (tmp_path / "packs" / "gone.conf"))


def test_pack_delimiter_from_flags_and_from_config_options(tmp_path):
    body = {"packs": {"p": {"queries": {"q": {"query": "select 1"}}}}}
    assert list(by_name(load(write(tmp_path / "a.conf", body), "--pack_delimiter=/"))) == ["pack/p/q"]
    body["options"] = {"pack_delimiter": "::"}
    assert list(by_name(load(write(tmp_path / "b.conf", body), "--pack_delimiter=/"))) == ["pack::p::q"]


def test_invalid_intervals_show_what_was_given(tmp_path):
    path = write(tmp_path / "i.conf", '{"schedule": {"huge": {"query": "select 1", "interval": 1e400},'
                                      ' "default": {"query": "select 1"}}}')
    assert load(path, "--schedule_default_interval=604801").skipped == [
        "%s: $.schedule.huge.interval: Query has invalid interval: huge: inf" % path,
        "%s: $.schedule.default.interval: Query has invalid interval: default: 604801" % path]


def test_interval_default_and_invalid_intervals(tmp_path):
    path = write(tmp_path / "i.conf", {"schedule": {
        "default": {"query": "select 1"}, "text": {"query": "select 1", "interval": "120"},
        "week": {"query": "select 1", "interval": 604800}, "second": {"query": "select 1", "interval": 1},
        "zero": {"query": "select 1", "interval": 0},
        "long": {"query": "select 1", "interval": 604801}, "negative": {"query": "select 1", "interval": -5}}})
    cfg = load(path, "--schedule_default_interval=900")
    intervals = {name: query.interval for name, query in by_name(cfg).items()}
    assert intervals == {"default": 900, "text": 120, "week": 604800, "second": 1}
    assert cfg.skipped == ["%s: $.schedule.%s.interval: Query has invalid interval: %s: %s" % (path, name, name, value)
                           for name, value in (("zero", 0), ("long", 604801), ("negative", -5))]


@pytest.mark.parametrize("raw, expected", [
    (True, True), (False, False), (1, True), (0, False), (2.5, True), ("true", True), ("TRUE", True),
    ("t", True), ("T", True), ("false", False), ("yes", False), ("1", False), ("", False)])
def test_boolean_options_parse_osquery_way(tmp_path, raw, expected):
    path = write(tmp_path / "b.conf", {"schedule": {"q": {"query": "select 1", "snapshot": raw, "removed": raw,
                                                          "denylist": raw}}})
    query = by_name(load(path))["q"]
    assert (query.snapshot, query.removed, query.denylist) == (expected, expected, expected)


def test_boolean_defaults(tmp_path):
    query = by_name(load(write(tmp_path / "b.conf", {"schedule": {"q": {"query": "select 1"}}})))["q"]
    assert (query.snapshot, query.removed, query.denylist) == (False, True, True)
    assert (query.shard, query.startup_priority, query.platform, query.version) == (None, None, "", "")


def test_query_options_carried(tmp_path):
    path = write(tmp_path / "o.conf", {"schedule": {"q": {"query": "select 1", "shard": "25", "startup_priority": 1,
                                                          "platform": "posix", "version": "4.0.0",
                                                          "description": "free text"}}})
    query = by_name(load(path))["q"]
    assert (query.shard, query.startup_priority, query.platform, query.version) == (25, 1, "posix", "4.0.0")


def test_reserved_names_rejected(tmp_path):
    path = write(tmp_path / "r.conf", {"schedule": {name: {"query": "select 1"} for name in
                                                    ("query.x", "cache.y", "config_views.z", "myepoch", "my_counter",
                                                     "fine")}})
    cfg = load(path)
    assert list(by_name(cfg)) == ["fine"]
    assert len(cfg.skipped) == 5 and all("reserved" in warning for warning in cfg.skipped)


def test_decorators(tmp_path):
    path = write(tmp_path / "d.conf", {"decorators": {"load": ["select 1"], "always": ["select 2"],
                                                      "interval": {"90": ["select 4"], "3600": ["select 3"]}}})
    cfg = load(path)
    assert [(item.when, item.sql) for item in cfg.decorators] == [("load", "select 1"), ("always", "select 2"),
                                                                  (3600, "select 3")]
    assert cfg.warnings == ["%s: decorator interval 90 is not a multiple of 60 seconds: skipped" % path]


def test_bad_option_value_is_a_config_error(tmp_path):
    path = write(tmp_path / "o.conf", {"options": {"schedule_splay_percent": "lots"}})
    assert "schedule_splay_percent" in load_error(path)[0]


def test_hash_is_sha1_of_per_source_sha1s(tmp_path):
    main = write(tmp_path / "h.conf", '{"options": {}}')
    extra = write(tmp_path / "h.conf.d" / "a.conf", '{"views": {}}')
    digests = [hashlib.sha1(path.read_bytes()).hexdigest() for path in (extra, main)]
    assert load(main).hash == hashlib.sha1("".join(digests).encode()).hexdigest()


# ---------------------------------------------------------------- shard, platform, version

@pytest.mark.parametrize("hostname, expected", [
    ("localhost", 20), ("localhost.localdomain", 6), ("osquery.example.com", 5), ("host1", 89), (" host1\n", 89)])
def test_machine_shard_vectors(hostname, expected):
    assert config.machine_shard(hostname) == expected


@pytest.mark.parametrize("item_shard, host_shard, runs", [
    (None, 89, True), (0, 89, True), (10, 10, True), (10, 11, False), (10, 5, True), ("20", 20, True),
    (100, 100, True), (1, 0, True), (1, 1, True), (1, 2, False), ("ten", 50, True), ([10], 50, True)])
def test_shard_rule(item_shard, host_shard, runs):
    assert config.applies({"shard": item_shard}, host_shard) is runs


@pytest.mark.parametrize("platform, runs", [
    ("", True), ("null", True), ("linux", True), ("ubuntu", True), ("centos", True), ("posix", True), ("any", True),
    ("all", True), ("darwin", False), ("windows,darwin", False), ("windows,linux", True), ("gentoo", False)])
def test_platform_rule(platform, runs):
    assert config.applies({"platform": platform}, 0) is runs


@pytest.mark.parametrize("version, runs", [
    ("", True), ("null", True), ("1.8.0", True), ("5.12.1", True), ("5.12", True), ("5.12.2", False),
    ("5.13.0", False), ("6", False), ("5.9.10", True), ("banana", False), ("5.12.1.0", True), ("5.12.1.1", False)])
def test_version_rule(version, runs):
    assert OSQUERY_SDK_VERSION == "5.12.1"
    assert config.applies({"version": version}, 0) is runs


def test_applies_to_loaded_packs(tmp_path):
    path = write(tmp_path / "p.conf", {"packs": {"mac": {"platform": "darwin", "queries": {}},
                                                 "small": {"shard": 10, "queries": {}}}})
    packs = {pack.name: pack for pack in load(path).packs}
    assert not config.applies(packs["mac"], 0)
    assert config.applies(packs["small"], shard.machine_shard("osquery.example.com"))
    assert not config.applies(packs["small"], shard.machine_shard("host1"))


# ---------------------------------------------------------------- check, --config_check, --config_dump

def test_check_reports_unknown_table_and_column_with_query_and_file(tmp_path, engine):
    write(tmp_path / "packs" / "ir.conf", {"queries": {"cols": {"query": "select pidd from processes"}}})
    main = write(tmp_path / "p.conf", {
        "schedule": {"good": {"query": "select pid from processes"},
                     "typo": {"query": "select * from procesess"}},
        "packs": {"ir": "packs/ir.conf",
                  "mac": {"platform": "darwin", "queries": {"x": {"query": "select * from launchd"}}},
                  "disc": {"discovery": ["select * from nope"], "queries": {}}},
        "decorators": {"load": ["select hostnam from system_info"]}})
    assert config.check(load(main), engine) == [
        "%s: query typo: no such table: procesess" % main,
        "%s: query pack_ir_cols: no such column: pidd" % (tmp_path / "packs" / "ir.conf"),
        "%s: discovery query 1 of pack disc: no such table: nope" % main,
        "%s: decorator 1 (load): no such column: hostnam" % main]


def test_config_check_good_config_is_silent(tmp_path, engine):
    main = write(tmp_path / "p.conf", {"schedule": {"procs": {"query": "select pid from processes"}}})
    out, err = io.StringIO(), io.StringIO()
    assert config.run_config_check(values_for(main), engine, out, err) == 0
    assert out.getvalue() == "" and err.getvalue() == ""


@pytest.mark.parametrize("content, expected", [
    (None, "Error reading config: config file does not exist: {path}\n"),
    ('{"schedule": ', "Error reading config: {path}:1:14: JSON error: Expecting value\n"),
    ({"schedule": {"p": {"query": "select * from procesess"}}},
     "Error reading config: {path}: query p: no such table: procesess\n")])
def test_config_check_failures(tmp_path, engine, content, expected):
    path = tmp_path / "p.conf"
    if content is not None:
        write(path, content)
    out, err = io.StringIO(), io.StringIO()
    assert config.run_config_check(values_for(path), engine, out, err) == 1
    assert out.getvalue() == "" and err.getvalue() == expected.format(path=path)


@pytest.mark.parametrize("interval", [0, -5, 604801, 10 ** 12])
def test_config_check_fails_on_an_interval_the_scheduler_would_skip(tmp_path, engine, interval):
    path = write(tmp_path / "p.conf", {"packs": {"p": {"queries": {"q": {"query": "select 1", "interval": interval}}}}})
    out, err = io.StringIO(), io.StringIO()
    assert config.run_config_check(values_for(path), engine, out, err) == 1
    assert err.getvalue() == ("Error reading config: %s: $.packs.p.queries.q.interval: Query has invalid interval: "
                              "pack_p_q: %d\n" % (path, interval))


def test_config_check_warns_of_unknown_keys_and_options_with_file_and_json_path(tmp_path, engine):
    write(tmp_path / "packs" / "ir.conf", {"queries": {"q": {"query": "select 1", "snapshop": True}}})
    path = write(tmp_path / "p.conf", {"optoins": {}, "options": {"no_such_flag": 1},
                                       "schedule": {"a": {"query": "select 1", "intervl": 60}},
                                       "packs": {"ir": "packs/ir.conf"}})
    out, err = io.StringIO(), io.StringIO()
    assert config.run_config_check(values_for(path), engine, out, err) == 0
    assert err.getvalue().splitlines() == [
        "Warning: %s: $.optoins: unknown key, ignored" % path,
        "Warning: %s: $.schedule.a.intervl: unknown key, ignored" % path,
        "Warning: %s: $.options: Cannot set unknown or invalid flag: no_such_flag" % path,
        "Warning: %s: $.queries.q.snapshop: unknown key, ignored" % (tmp_path / "packs" / "ir.conf")]


def test_config_dump_prints_each_raw_source(tmp_path):
    raw = '{\n  // kept as written\n  "options": {}\n}'
    main = write(tmp_path / "p.conf", raw)
    extra = write(tmp_path / "p.conf.d" / "a.conf", '{"views": {}}')
    out = io.StringIO()
    assert config.run_config_dump(values_for(main), out) == 0
    assert out.getvalue() == '{"%s": {"views": {}}}\n{"%s": %s}\n' % (extra, main, raw)


def test_config_dump_missing_file(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert config.run_config_dump(values_for(tmp_path / "none.conf"), out, err) == 1
    assert out.getvalue() == ""
    assert err.getvalue() == "Error reading config: config file does not exist: %s\n" % (tmp_path / "none.conf")
