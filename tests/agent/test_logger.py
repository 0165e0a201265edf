"""The results log (file modes, rotation, stdout) and the glog-format status log."""

import json
import logging
import os
import re

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
