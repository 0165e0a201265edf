"""Flags: osquery's names and defaults, the command line, flagfiles and config `options`."""

import os
import re

import pytest

from pyosquery import flags
from pyosquery.flags import definitions


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def parse(argv, program="pyosqueryd"):
    return flags.parse(argv, program, default_flagfile="")


def test_defaults_are_osquery_defaults_with_our_paths():
    values, args = parse([])
    assert not args
    assert values.config_path == "/etc/pyosquery/pyosquery.conf"
    assert values.database_path == "/var/lib/pyosquery/pyosquery.db"
    assert values.extensions_socket == "/var/lib/pyosquery/pyosquery.em"
    assert values.pidfile == "/var/run/pyosqueryd.pid"
    assert values.schedule_splay_percent == 10
    assert values.schedule_default_interval == 3600
    assert values.logger_rotate_size == 26214400
    assert values.watchdog_delay == 60
    assert values.denylist_duration == 86400
    assert values.logger_mode == "0640"
    assert values.disable_events is True
    assert values.is_default("config_path")
    # checked against osquery's sources: the defaults written from memory that were wrong
    assert (values.logger_kafka_brokers, values.logger_kafka_topic) == ("localhost", "")
    assert values.experiments_linuxevents_perf_output_size == 12
    assert values.experiments_linuxevents_circular_buffer_size == 1000 and values.thrift_timeout == 300


def test_command_line_forms():
    values, args = parse(["--config_path", "/c.conf", "--schedule_splay_percent=20", "--verbose",
                          "--nologger_stderr", "--disable_watchdog=false", "select 1", "--", "--not-a-flag"])
    assert values.config_path == "/c.conf"
    assert values.schedule_splay_percent == 20
    assert values.verbose is True
    assert values.logger_stderr is False
    assert values.disable_watchdog is False
    assert not values.is_default("disable_watchdog")
    assert args == ["select 1", "--not-a-flag"]


def test_osquery_aliases_are_accepted():
    values, _ = parse(["--osquery_log_dir=/logs", "--log_result_events=false"])
    assert values.logger_path == "/logs"
    assert values.logger_event_type is False


def test_flagfile_comments_whitespace_and_bools(tmp_path):
    path = write(tmp_path, "pyosquery.flags", "# fleet defaults\n\n   --config_path=/etc/x.conf\n"
                 "--verbose\n--nodisable_events\n--logger_rotate=true\n--host_identifier=uuid\n")
    values, _ = parse(["--flagfile=" + path])
    assert values.config_path == "/etc/x.conf"
    assert values.verbose is True
    assert values.disable_events is False
    assert values.logger_rotate is True
    assert values.host_identifier == "uuid"
    assert values.flagfile == path


def test_command_line_overrides_flagfile_whatever_the_order(tmp_path):
    path = write(tmp_path, "f.flags", "--schedule_splay_percent=30\n--config_path=/from/file\n")
    values, _ = parse(["--schedule_splay_percent=5", "--flagfile", path])
    assert values.schedule_splay_percent == 5
    assert values.config_path == "/from/file"


def test_default_flagfile_used_only_when_no_flagfile_given(tmp_path):
    default = write(tmp_path, "default.flags", "--verbose\n")
    other = write(tmp_path, "other.flags", "--schedule_epoch=7\n")
    values, _ = flags.parse([], "pyosqueryd", default_flagfile=default)
    assert values.verbose is True
    values, _ = flags.parse(["--flagfile=" + other], "pyosqueryd", default_flagfile=default)
    assert values.verbose is False and values.schedule_epoch == 7
    values, _ = flags.parse([], "pyosqueryd", default_flagfile=str(tmp_path / "missing.flags"))
    assert values.flagfile == ""


def test_flagfile_program_sections(tmp_path):
    path = write(tmp_path, "f.flags", "--verbose\npyosqueryi\n--json\n--not_a_daemon_flag=1\npyosqueryd\n--force\n")
    values, _ = parse(["--flagfile=" + path], program="/opt/pyosquery/bin/pyosqueryd")
    assert values.verbose is True and values.force is True and values.json is False


@pytest.mark.parametrize("line", ["logger_path=/var/log/other", "verbose", "noverbose", "config_path = /x"])
def test_a_flag_without_its_dashes_names_file_and_line(tmp_path, line):
    # gflags would read the line as program names and silently skip every flag after it
    path = write(tmp_path, "pyosquery.flags", "--config_path=/etc/x.conf\n%s\n--verbose\n" % line)
    with pytest.raises(flags.FlagError, match=r"pyosquery\.flags:2: .*a flag needs its leading '--'"):
        parse(["--flagfile=" + path])


def test_unknown_flag_in_flagfile_names_file_and_line(tmp_path):
    path = write(tmp_path, "pyosquery.flags", "# comment\n--verbose\n--foo=1\n")
    with pytest.raises(flags.FlagError, match=r"pyosquery\.flags:3: unknown flag --foo$"):
        parse(["--flagfile=" + path])


def test_unknown_flag_on_command_line():
    with pytest.raises(flags.FlagError, match="unknown flag --foo"):
        parse(["--foo"])


@pytest.mark.parametrize("argv, message", [
    (["--schedule_splay_percent=ten"], "--schedule_splay_percent: not an integer"),
    (["--watchdog_memory_limit=-1"], "--watchdog_memory_limit: out of range"),
    (["--logger_mode=0999"], "--logger_mode: not an octal"),
    (["--logger_mode=17777"], "--logger_mode: file mode above 07777"),
    (["--host_identifier=fqdn"], "--host_identifier: must be one of"),
    (["--logger_plugin=filesystem,tls"], "--logger_plugin: must be one of"),
    (["--verbose=maybe"], "--verbose: not a boolean"),
    (["--alarm_timeout=5"], "--alarm_timeout: must be at least 10"),
    (["--config_path"], "--config_path is missing its value"),
])
def test_bad_values_are_refused(argv, message):
    with pytest.raises(flags.FlagError, match=message):
        parse(argv)


def test_bad_value_in_flagfile_names_file_and_line(tmp_path):
    path = write(tmp_path, "x.flags", "--verbose\n--schedule_max_drift=abc\n")
    with pytest.raises(flags.FlagError, match=r"x\.flags:2: invalid value 'abc' for --schedule_max_drift"):
        parse(["--flagfile=" + path])


def test_good_logger_values():
    values, _ = parse(["--logger_mode=0600", "--logger_plugin=filesystem,stdout"])
    assert int(values.logger_mode, 8) == 0o600
    assert values.logger_plugin == "filesystem,stdout"


def test_config_options_rules():
    values, _ = parse(["--schedule_splay_percent=20", "--config_path=/cli.conf"])
    warnings = values.apply_config_options({
        "schedule_splay_percent": 50, "verbose": True, "pack_delimiter": "/", "logger_numerics": "true",
        "config_path": "/other.conf", "no_such_flag": 1, "custom_team": {"a": [1]}, "logger_min_status": 1.0,
        "es_fim_enable_open_events": "true", "aws_debug": True})
    assert values.schedule_splay_percent == 50          # config wins over the command line
    assert values.verbose is True and values.logger_numerics is True
    assert values.pack_delimiter == "/" and values.logger_min_status == 1
    assert values.config_path == "/cli.conf"            # CLI-only flag untouched
    assert values.get("custom_team") == '{"a":[1]}'     # objects kept as JSON text
    assert warnings == [
        "The CLI only flag --config_path set via config file will be ignored, please use a flagfile "
        "or pass it to the process at startup",
        "Cannot set unknown or invalid flag: no_such_flag",
        # accepted, but pyosquery does not act on them yet: one warning each
        "Flag --aws_debug is accepted for osquery compatibility but has no effect in pyosquery",
        "Flag --es_fim_enable_open_events is accepted for osquery compatibility but has no effect in pyosquery"]


def test_config_options_bad_value_changes_nothing():
    values, _ = parse([])
    with pytest.raises(flags.FlagError, match="schedule_default_interval"):
        values.apply_config_options({"verbose": True, "schedule_default_interval": "hourly"})
    assert values.verbose is False and values.is_default("verbose")


def test_copy_is_independent():
    values, _ = parse([])
    other = values.copy()
    other.apply_config_options({"verbose": True})
    assert values.verbose is False and other.verbose is True


def test_definitions_table_and_features():
    values, _ = parse(["--verbose"])
    kinds = {name: flag.kind for name, flag in flags.DEFINITIONS.items()}
    assert kinds["config_path"] == flags.CLI and kinds["watchdog_level"] == flags.CLI
    assert kinds["schedule_splay_percent"] == flags.FLAG and kinds["json"] == flags.SHELL
    rows = {row["name"]: row for row in flags.table_rows(values)}
    description = flags.DEFINITIONS["verbose"].description
    assert rows["verbose"] == {"name": "verbose", "type": "bool", "description": description,
                               "default_value": "false", "value": "true", "shell_only": 0}
    assert rows["schedule_splay_percent"]["type"] == "uint64" and rows["csv"]["shell_only"] == 1
    assert "L" not in rows      # osquery lists only names longer than 2 characters
    features = dict(flags.features(values))
    assert features["disable_watchdog"] is False and features["disable_events"] is True
    assert all(name.startswith(("disable_", "enable_")) for name in features)


# A real Linux deployment's flagfile: audit, events, tls, aws and kafka flags osquery 5 defines.
REAL_FLAGFILE = """--audit_allow_config=true
--audit_persist=true
--audit_allow_sockets
--events_expiry=1
--events_max=500000
--disable_events=false
--tls_hostname=fleet.example.com:443
--tls_server_certs=/etc/osquery/certs/fleet.pem
--enroll_secret_path=/etc/osquery/secret
--config_plugin=filesystem
--aws_region=eu-west-1
--aws_kinesis_stream=osquery
--logger_kafka_brokers=kafka1:9092,kafka2:9092
--logger_kafka_topic=osquery_results
--allow_unsafe
--noutc
--watchdog_level=0
"""


def test_every_osquery_flag_is_known_with_its_type_and_kind():
    definitions = flags.DEFINITIONS
    assert len(definitions) > 240
    assert definitions["events_max"].type == "uint64" and definitions["events_max"].default == 50000
    assert definitions["audit_backlog_limit"].type == "int32"
    assert definitions["aws_proxy_port"].type == "uint32"
    assert definitions["tls_hostname"].kind == flags.CLI and definitions["audit_allow_config"].kind == flags.FLAG
    assert definitions["allow_unsafe"].kind == flags.HIDDEN and definitions["planner"].kind == flags.SHELL
    assert not definitions["logger_kafka_topic"].effect and definitions["config_path"].effect


def test_real_flagfile_is_accepted_with_one_warning_per_flag_without_effect(tmp_path):
    path = write(tmp_path, "osquery.flags", REAL_FLAGFILE)
    values, _ = parse(["--flagfile", path, "--database_dump=false"])
    assert values.events_max == 500000 and values.audit_allow_sockets is True and values.utc is False
    warnings = values.no_effect_warnings()
    named = sorted(w.split()[1] for w in warnings)
    assert named == sorted("--" + name for name in (
        "tls_hostname", "tls_server_certs", "enroll_secret_path", "aws_region",
        "aws_kinesis_stream", "logger_kafka_brokers", "logger_kafka_topic", "utc"))
    assert all(w.endswith("has no effect in pyosquery") for w in warnings)
    assert values.no_effect_warnings() == []        # once each per process
    assert values.apply_config_options({"events_max": 10, "aws_debug": True}) == [
        "Flag --aws_debug is accepted for osquery compatibility but has no effect in pyosquery"]


def test_typed_ranges_of_the_new_types():
    with pytest.raises(flags.FlagError, match="out of range"):
        parse(["--aws_proxy_port=4294967296"])
    with pytest.raises(flags.FlagError, match="not an integer"):
        parse(["--audit_backlog_limit", "many"])
    values, _ = parse(["--audit_backlog_limit", "-1", "--profile_delay=0.25"])
    assert values.audit_backlog_limit == -1 and values.profile_delay == 0.25


def test_extension_side_aliases():
    values, _ = parse(["--socket", "/tmp/x.em", "--timeout=5", "--interval", "2"])
    assert values.extensions_socket == "/tmp/x.em"
    assert values.extensions_timeout == "5" and values.extensions_interval == "2"


def test_help_lists_flags_by_class_without_hidden_ones():
    text = flags.help_text("pyosqueryd", "1.0", "[OPTION]... ")
    assert "    --flagfile PATH " in text and "    --tls_hostname VALUE " in text
    assert "    --audit_allow_config " in text and "--allow_unsafe" not in text
    assert "shell-only" not in text and "--json" not in text
    shell = flags.help_text("pyosqueryi", "1.0", "[OPTION]... [SQL STATEMENT]", shell=True)
    assert "pyosqueryi shell-only CLI flags:" in shell and "    --json " in shell and "    --A VALUE " in shell


def test_integer_types_take_their_whole_range():
    values, _ = parse(["--aws_proxy_port=4294967295", "--audit_backlog_limit=-2147483648",
                       "--audit_backlog_wait_time=2147483647"])
    assert (values.aws_proxy_port, values.audit_backlog_limit, values.audit_backlog_wait_time) == \
        (4294967295, -2147483648, 2147483647)
    for argv in (["--audit_backlog_limit=2147483648"], ["--audit_backlog_limit=-2147483649"]):
        with pytest.raises(flags.FlagError, match="out of range -2147483648..2147483647"):
            parse(argv)


def chain(tmp_path, count):
    """count flagfiles, each naming the next; the last sets --verbose."""
    paths = [str(tmp_path / ("f%d" % i)) for i in range(count)]
    for path, following in zip(paths, paths[1:] + [None]):
        with open(path, "w") as handle:
            handle.write("--flagfile=%s\n" % following if following else "--verbose\n")
    return paths


def test_flagfiles_nest_nine_deep_and_no_deeper(tmp_path):
    paths = chain(tmp_path, 10)
    values, _ = parse(["--flagfile=" + paths[1]])
    assert values.verbose is True
    with pytest.raises(flags.FlagError, match="f9: flagfiles nest too deeply"):
        parse(["--flagfile=" + paths[0]])


@pytest.mark.parametrize("line", ["verbose\tboolean\tfalse\tFLAG\tyes\tx", "verbose\tbool\tfalse\tFLAGS\tyes\tx",
                                  "verbose\tbool\tfalse\tFLAG\tmaybe\tx"])
def test_a_bad_definition_names_its_line(tmp_path, line):
    path = write(tmp_path, "flags.tsv", "name\ttype\tdefault\tkind\teffect\tdescription\n" + line + "\n")
    with pytest.raises(ValueError, match=r"flags\.tsv:2: bad type, kind or effect"):
        definitions._load(path)     # pylint: disable=protected-access


def test_more_edges_of_flag_values():
    values, _ = parse(["--alarm_timeout=10", "--logger_mode=0000", "-verbose",
                       "--aws_firehose_period=18446744073709551615"])
    assert (values.alarm_timeout, values.logger_mode, values.verbose) == (10, "0000", True)
    assert values.aws_firehose_period == 2 ** 64 - 1
    values, _ = parse(["--logger_mode=07777", "--aws_proxy_port=0", "--aws_firehose_period=0"])
    assert (values.logger_mode, values.aws_proxy_port, values.aws_firehose_period) == ("07777", 0, 0)
    for argv, message in ((["--aws_firehose_period=18446744073709551616"], "out of range"),
                          (["--aws_proxy_port=-1"], "out of range"), (["--aws_firehose_period=-1"], "out of range"),
                          (["--alarm_timeout=9"], "must be at least 10"),
                          (["--logger_mode=10000"], "file mode above 07777"), (["--logger_mode=-1"], "file mode above"),
                          (["--logger_mode=0680"], "not an octal file mode")):
        with pytest.raises(flags.FlagError, match=message):
            parse(argv)
    assert getattr(values, "no_such_flag", "absent") == "absent"
    with pytest.raises(flags.FlagError, match="^unknown flag --no_such_flag$"):
        values.set("no_such_flag", 1)
    with pytest.raises(flags.FlagError, match="^unknown flag --no_such_flag$"):
        values.set_text("no_such_flag", "1")


def test_a_program_line_starting_with_no_is_not_a_flag(tmp_path):
    path = write(tmp_path, "f.flags", "nosuchprogram\n--verbose\n")
    values, _ = parse(["--flagfile=" + path])
    assert values.verbose is False


def test_a_flagfile_of_one_mebibyte_is_read_and_a_missing_one_named(tmp_path):
    line = "# " + "x" * 1021 + "\n"
    path = write(tmp_path, "big.flags", line * 1023 + "--verbose\n" + "#" * (1024 - 11) + "\n")
    assert os.path.getsize(path) == 1024 * 1024
    assert parse(["--flagfile=" + path])[0].verbose is True
    with open(path, "a") as handle:
        handle.write("#")
    with pytest.raises(flags.FlagError, match="^flagfile %s: " % re.escape(path)):
        parse(["--flagfile=" + path])
    missing = str(tmp_path / "missing.flags")
    with pytest.raises(flags.FlagError, match="^%s: cannot read" % re.escape("flagfile " + missing)):
        parse(["--flagfile=" + missing])


def test_help_columns_leave_two_spaces_after_the_longest_flag():
    lines = [line for line in flags.help_text("pyosqueryd", "1.0", "").splitlines() if line.startswith("    --")]
    starts = set()
    gaps = []
    for line in lines:
        left, spaces = re.match(r"    (\S+(?: VALUE| PATH)?)( +)", line).groups()
        starts.add(4 + len(left) + len(spaces))
        gaps.append(len(spaces))
    assert len(starts) == 1 and min(gaps) == 2


def test_help_sections_hold_their_own_class_flagfile_first():
    text = flags.help_text("pyosqueryd", "1.0", "")
    command_line = text.split("command line flags:\n\n")[1].split("\n\n")[0].splitlines()
    assert command_line[0].startswith("    --flagfile PATH ")
    assert text.count("    --audit_allow_config ") == 1
    assert not any(line.startswith("    --audit_allow_config ") for line in command_line)


def test_a_double_flag_that_is_not_a_number_is_named():
    with pytest.raises(flags.FlagError, match="--profile_delay: not a number"):
        parse(["--profile_delay=fast"])
