"""The results log (file modes, rotation, stdout) and the glog-format status log."""

import json
import logging
import os
import re
import threading

import file_limits
from pyosquery import flags
from pyosquery.logger import results, status


def values_for(tmp_path, *extra):
    values, _ = flags.parse(["--flagfile=/dev/null", "--logger_path=%s" % tmp_path] + list(extra), "pyosqueryd")
    return values


def item(name="q", counter=1):
    return {"name": name, "host": "h1", "now": 1462227452, "epoch": 0, "counter": counter, "numerics": False}


def test_event_lines_match_osquerys_format():
    lines = results.event_lines(item(), [{"a": "1"}], [{"a": "0"}])
    assert lines == [
        '{"name":"q","hostIdentifier":"h1","calendarTime":"Mon May  2 22:17:32 2016 UTC","unixTime":1462227452,'
        '"epoch":0,"counter":1,"numerics":false,"columns":{"a":"0"},"action":"removed"}',
        '{"name":"q","hostIdentifier":"h1","calendarTime":"Mon May  2 22:17:32 2016 UTC","unixTime":1462227452,'
        '"epoch":0,"counter":1,"numerics":false,"columns":{"a":"1"},"action":"added"}']


def test_batch_and_decorations():
    line = json.loads(results.batch_line(dict(item(), decorations={"host_uuid": "x"}), [{"a": "1"}], []))
    assert list(line) == ["diffResults", "name", "hostIdentifier", "calendarTime", "unixTime", "epoch", "counter",
                          "numerics", "decorations"]
    assert line["diffResults"] == {"removed": [], "added": [{"a": "1"}]}


def test_results_file_mode_is_reapplied(tmp_path):
    log = results.ResultsLog(values_for(tmp_path, "--logger_mode=0754"))
    path = tmp_path / results.RESULTS
    assert path.exists() and oct(path.stat().st_mode & 0o7777) == "0o754"
    os.chmod(path, 0o600)
    log.results(["{}"])
    assert oct(path.stat().st_mode & 0o7777) == "0o754"


def test_rotation_shifts_and_drops_the_oldest(tmp_path):
    log = results.ResultsLog(values_for(tmp_path, "--logger_rotate", "--logger_rotate_size=100",
                                        "--logger_rotate_max_files=3"))
    for number in range(12):
        log.results([json.dumps({"n": number, "pad": "x" * 80})])
    names = sorted(os.listdir(tmp_path))
    assert names == [results.RESULTS, results.RESULTS + ".1", results.RESULTS + ".2", results.RESULTS + ".3"]
    newest = json.loads((tmp_path / results.RESULTS).read_text())
    assert newest["n"] == 11
    assert json.loads((tmp_path / (results.RESULTS + ".1")).read_text())["n"] == 10


def test_stdout_plugin_writes_no_files(tmp_path, capsys):
    log = results.ResultsLog(values_for(tmp_path, "--logger_plugin=stdout"))
    log.results(['{"a":1}'])
    assert capsys.readouterr().out == '{"a":1}\n'
    assert os.listdir(tmp_path) == []


def test_status_log_lines_and_files(tmp_path):
    logger = status.setup(values_for(tmp_path, "--logger_stderr=false"))
    logging.getLogger("pyosquery.test").info("hello %s", "info")
    logging.getLogger("pyosquery.test").error("bad thing")
    for handler in logger.handlers:
        handler.flush()
    info = (tmp_path / "pyosqueryd.INFO").read_text().splitlines()
    assert re.match(r"^I\d{4} \d\d:\d\d:\d\d\.\d{6} \d+ test_logger\.py:\d+\] hello info$", info[0])
    assert info[1].startswith("E") and info[1].endswith("] bad thing")
    assert (tmp_path / "pyosqueryd.ERROR").read_text().count("\n") == 1
    assert (tmp_path / "pyosqueryd.WARNING").read_text().endswith("] bad thing\n")
    assert os.path.islink(tmp_path / "pyosqueryd.INFO")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_text_is_logged_as_utf_8_not_escaped():
    line = results.event_lines(item(), [{"user": "José", "path": "/tmp/日本"}], [])[0]
    assert '"columns":{"user":"José","path":"/tmp/日本"}' in line


def test_rows_are_logged_as_strings_or_with_numerics_as_json_numbers():
    row = {"n": 1, "d": 2.0, "t": "x", "inf": float("inf")}
    plain = json.loads(results.event_lines(item(), [row], [])[0])
    assert plain["columns"] == {"n": "1", "d": "2.0", "t": "x", "inf": "inf"} and plain["numerics"] is False
    typed = results.event_lines(dict(item(), numerics=True), [row], [])[0]
    assert '"columns":{"n":1,"d":2.0,"t":"x","inf":"inf"}' in typed and '"numerics":true' in typed


def test_glog_levels_from_the_flags(tmp_path):
    assert status.levels(values_for(tmp_path)) == (logging.INFO, logging.INFO)       # osqueryd: INFO on stderr
    assert status.levels(values_for(tmp_path), shell=True) == (logging.WARNING, logging.WARNING)
    quiet = values_for(tmp_path, "--logger_min_status=2", "--logger_min_stderr=1")
    assert status.levels(quiet, shell=True) == (logging.ERROR, logging.ERROR)         # set: the shell follows it
    assert status.levels(values_for(tmp_path, "--logger_min_stderr=4"))[1] > logging.CRITICAL   # nothing
    assert status.levels(values_for(tmp_path, "--verbose", "--logger_min_status=3")) == (logging.DEBUG,) * 2


def close(logger):
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_status_log_handlers_stay_the_agent_s_own(tmp_path):
    logger = status.setup(values_for(tmp_path, "--logger_stderr=false"))
    try:
        assert logger.propagate is False        # nothing reaches the root logger a second time
        assert [type(handler) for handler in logger.handlers] == [status.LevelFile] * 3
        status.relevel(values_for(tmp_path, "--logger_stderr=false", "--logger_min_stderr=2"))
        assert [handler.level for handler in logger.handlers] == [logging.INFO, logging.WARNING, logging.ERROR]
        logging.getLogger("pyosquery.test").critical("the end")
        for handler in logger.handlers:
            handler.flush()
        assert (tmp_path / "pyosqueryd.ERROR").read_text().startswith("F")     # glog's FATAL letter
    finally:
        close(logger)
    logger = status.setup(values_for(tmp_path / "off", "--disable_logging", "--logger_stderr=false"))
    try:
        assert [type(handler) for handler in logger.handlers] == [logging.StreamHandler]
        assert not (tmp_path / "off").exists()
    finally:
        close(logger)


def test_snapshot_lines_one_per_run_or_one_per_row():
    snap = dict(item(counter=5), decorations={"rack": "r7"})
    line = results.snapshot_lines(snap, [{"a": 1}, {"a": 2}])
    assert len(line) == 1
    document = json.loads(line[0])
    assert list(document)[:2] == ["snapshot", "action"] and document["action"] == "snapshot"
    assert document["snapshot"] == [{"a": "1"}, {"a": "2"}] and document["decorations"] == {"rack": "r7"}
    assert document["counter"] == 0                     # a snapshot has no differential counter
    per_row = [json.loads(text) for text in results.snapshot_lines(snap, [{"a": 1}, {"a": 2}], per_row=True)]
    assert [(row["columns"], row["action"], row["counter"]) for row in per_row] == [
        ({"a": "1"}, "snapshot", 0), ({"a": "2"}, "snapshot", 0)]


def test_decorations_as_one_object_at_top_level_or_left_out_when_there_are_none():
    nested = json.loads(results.event_lines(dict(item(), decorations={"rack": "r7"}), [{"a": "1"}], [])[0])
    assert nested["decorations"] == {"rack": "r7"} and "rack" not in nested
    top = json.loads(results.event_lines(dict(item(), decorations={"rack": "r7", "name": "d"}, top_level=True),
                                         [{"a": "1"}], [])[0])
    assert "decorations" not in top and top["rack"] == "r7"
    assert top["name"] == "d"                           # as osquery: a decoration may overwrite a header key
    for none in ({}, None):
        assert "decorations" not in json.loads(results.batch_line(dict(item(), decorations=none), [], []))


def test_batch_lines_keep_numbers_with_numerics():
    line = json.loads(results.batch_line(dict(item(), numerics=True), [{"n": 1}], [{"n": 2.5}]))
    assert line["diffResults"] == {"removed": [{"n": 2.5}], "added": [{"n": 1}]}


def test_a_results_directory_others_may_write_is_refused_and_named(tmp_path, caplog):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with caplog.at_level(logging.ERROR, "pyosquery.logger"):
        log = results.ResultsLog(values_for(shared))
    assert [record.getMessage() for record in caplog.records] == [
        "Cannot log results to %s: writable by others (mode 0777): refused" % shared]
    try:
        log.results(['{"a":1}'])
    except results.NotWritten as error:
        assert str(error) == str(shared / results.RESULTS)
    else:
        raise AssertionError("results written to a refused directory")
    assert os.listdir(shared) == []


def test_results_go_to_stdout_when_it_is_one_of_the_plugins(tmp_path, capsys):
    log = results.ResultsLog(values_for(tmp_path, "--logger_plugin=filesystem, stdout"))
    log.snapshots(['{"s":1}'])
    assert capsys.readouterr().out == '{"s":1}\n'


def test_rotation_starts_when_the_file_reaches_the_size_and_only_when_asked(tmp_path):
    log = results.ResultsLog(values_for(tmp_path, "--logger_rotate", "--logger_rotate_size=20",
                                        "--logger_rotate_max_files=3"))
    log.results(['{"n":1,"pad":"xx"}'])          # 19 bytes: under the size
    log.results(['{"n":2}'])                     # now 27 bytes: the next write rotates
    assert not (tmp_path / (results.RESULTS + ".1")).exists()
    log.results(['{"n":3}'])
    assert (tmp_path / (results.RESULTS + ".1")).read_text().splitlines() == ['{"n":1,"pad":"xx"}', '{"n":2}']
    exact = tmp_path / "exact"
    log = results.ResultsLog(values_for(exact, "--logger_rotate", "--logger_rotate_size=20"))
    log.results(['{"n":1,"pad":"xxx"}'])         # exactly 20 bytes: the next write rotates
    log.results(['{"n":2}'])
    assert (exact / results.RESULTS).read_text() == '{"n":2}\n'
    os.unlink(exact / results.RESULTS)           # removed by hand: the next write starts it again
    log.results(['{"n":3}'])
    assert (exact / results.RESULTS).read_text() == '{"n":3}\n'
    plain = tmp_path / "plain"
    log = results.ResultsLog(values_for(plain, "--logger_rotate_size=20"))
    for number in range(5):
        log.results(['{"n":%d,"pad":"xxxxxxxxxx"}' % number])
    assert os.listdir(plain) == [results.RESULTS]


def test_glog_severities_as_logging_levels():
    assert [status.glog_level(severity) for severity in (-1, 0, 1, 2, 3, 4)] == [
        logging.INFO, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL, status.NOTHING]


def test_status_lines_carry_microseconds_and_the_native_thread_id(tmp_path):
    record = logging.makeLogRecord({"msg": "at %s", "args": ("noon",), "levelno": logging.WARNING,
                                    "levelname": "WARNING", "created": 1462227452.25, "filename": "x.py",
                                    "lineno": 7, "native_thread": 4242})
    assert re.match(r"^W\d{4} \d\d:\d\d:32\.250000 4242 x\.py:7\] at noon$", status.GlogFormatter().format(record))
    record.created = 1462227452.1234569          # 0.12345695... s: microseconds are cut, not rounded
    assert ":32.123456 4242 " in status.GlogFormatter().format(record)
    logger = status.setup(values_for(tmp_path, "--logger_stderr=false"))
    try:
        logging.getLogger("pyosquery.test").info("here")
        for handler in logger.handlers:
            handler.flush()
    finally:
        close(logger)
    assert " %d test_logger.py:" % threading.get_native_id() in (tmp_path / "pyosqueryd.INFO").read_text()


def test_status_files_are_named_by_time_and_pid_and_the_link_follows_the_newest(tmp_path):
    for message in ("one", "two"):
        handler = status.LevelFile(str(tmp_path), logging.INFO, "INFO", 0o600)
        handler.emit(logging.makeLogRecord({"msg": message}))
        handler.close()
        if message == "one":            # the next file of the same second and pid would be this one
            os.rename(tmp_path / os.readlink(tmp_path / "pyosqueryd.INFO"), tmp_path / "older")
    target = os.readlink(tmp_path / "pyosqueryd.INFO")
    assert re.match(r"^pyosqueryd\.INFO\.\d{8}-\d{6}\.%d$" % os.getpid(), target)
    assert oct((tmp_path / target).stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / target).read_text() == "two\n" and (tmp_path / "older").read_text() == "one\n"


def test_status_lines_that_cannot_be_written_wait_for_the_next_write(tmp_path):
    handler = status.LevelFile(str(tmp_path), logging.INFO, "INFO")
    handler.emit(logging.makeLogRecord({"msg": "before"}))
    size = os.path.getsize(tmp_path / "pyosqueryd.INFO")
    with file_limits.file_size_limit(size):
        for number in range(status.LevelFile.PENDING_MAX + 5):
            handler.emit(logging.makeLogRecord({"msg": "waiting %d" % number}))
    handler.emit(logging.makeLogRecord({"msg": "after"}))
    handler.close()
    lines = (tmp_path / "pyosqueryd.INFO").read_text().splitlines()
    assert lines == ["before"] + ["waiting %d" % number for number in range(5, 1005)] + ["after"]
    assert oct(os.stat(tmp_path / "pyosqueryd.INFO").st_mode & 0o777) == "0o640"      # the default mode


def test_status_files_take_logger_mode(tmp_path):
    logger = status.setup(values_for(tmp_path, "--logger_stderr=false", "--logger_mode=0600"))
    try:
        logging.getLogger("pyosquery.test").warning("x")       # the files open on the first message
    finally:
        close(logger)
    assert oct(os.stat(tmp_path / "pyosqueryd.INFO").st_mode & 0o777) == "0o600"


def test_the_link_replaces_a_dangling_link_or_a_file_of_its_name(tmp_path):
    os.symlink("pyosqueryd.INFO.gone", tmp_path / "pyosqueryd.INFO")     # its file was cleaned away
    (tmp_path / "pyosqueryd.WARNING").write_text("left by someone\n")
    logger = status.setup(values_for(tmp_path, "--logger_stderr=false"))
    try:
        logging.getLogger("pyosquery.test").warning("new")
    finally:
        close(logger)
    for level in ("INFO", "WARNING"):
        assert os.readlink(tmp_path / ("pyosqueryd." + level)).startswith("pyosqueryd.%s.2" % level)
        assert (tmp_path / ("pyosqueryd." + level)).read_text().endswith("] new\n")


def test_status_logging_goes_on_without_its_link_and_past_a_bad_message(tmp_path, capsys):
    (tmp_path / "pyosqueryd.INFO").mkdir()                 # the link cannot be made
    logger = status.setup(values_for(tmp_path, "--logger_stderr=false"))
    try:
        logging.getLogger("pyosquery.test").info("%d runs", "many")       # a message that cannot be formatted
        logging.getLogger("pyosquery.test").info("still here")
    finally:
        close(logger)
    assert "Traceback" in capsys.readouterr().err                       # logging's own report of the bad one
    [written] = [name for name in os.listdir(tmp_path) if name.startswith("pyosqueryd.INFO.")]
    assert (tmp_path / written).read_text().endswith("] still here\n")


def test_status_logs_go_to_stderr_when_their_directory_is_refused(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    logger = status.setup(values_for(shared, "--logger_stderr=false"))
    try:
        assert [type(handler) for handler in logger.handlers] == [logging.StreamHandler]
        logging.getLogger("pyosquery.test").warning("still heard")
    finally:
        close(logger)
    assert os.listdir(shared) == []
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("E") and lines[0].endswith(
        "] Cannot write status logs to %s: writable by others (mode 0777): refused; they go to stderr" % shared)
    assert lines[1].startswith("W") and lines[1].endswith("] still heard")


def test_the_log_directories_are_made_private(tmp_path):
    results.ResultsLog(values_for(tmp_path / "results"))
    close(status.setup(values_for(tmp_path / "status", "--logger_stderr=false")))
    assert [oct(os.stat(tmp_path / name).st_mode & 0o777) for name in ("results", "status")] == ["0o750"] * 2


def test_relevel_moves_the_stderr_threshold(tmp_path):
    logger = status.setup(values_for(tmp_path, "--logger_stderr", "--logger_min_stderr=0"))
    try:
        status.relevel(values_for(tmp_path, "--logger_min_stderr=2"))
        assert [handler.level for handler in logger.handlers] == [logging.INFO, logging.WARNING, logging.ERROR,
                                                                  logging.ERROR]
        assert logger.level == logging.INFO
    finally:
        close(logger)


def open_files():
    return {os.readlink("/proc/self/fd/" + fd) for fd in os.listdir("/proc/self/fd")
            if os.path.islink("/proc/self/fd/" + fd)}


def test_a_closed_status_handler_leaves_its_file_closed(tmp_path):
    handler = status.LevelFile(str(tmp_path), logging.INFO, "INFO")
    handler.close()                                     # never opened: nothing to close
    handler = status.LevelFile(str(tmp_path), logging.INFO, "INFO")
    handler.emit(logging.makeLogRecord({"msg": "one"}))
    path = os.path.realpath(tmp_path / "pyosqueryd.INFO")
    assert path in open_files()
    handler.close()
    assert path not in open_files()
