"""Whole lines or nothing in the logs: a write that fails part-way is cut back, and a partial line
left by a killed process is cut off when the log is opened again (faults/test_full_disk.py does it
on a real full disk, through the daemon)."""

import errno
import logging
import os

import pytest

import file_limits
from pyosquery import flags
from pyosquery.logger import results, whole_lines


def append(path, data):
    fd = os.open(path, whole_lines.OPEN_FLAGS, 0o600)
    try:
        whole_lines.append(fd, data)
    finally:
        os.close(fd)


def test_append_adds_at_the_end(tmp_path):
    path = tmp_path / "log"
    append(path, b"one\n")
    append(path, b"two\n" * 20000)          # more than one write may take
    assert path.read_bytes() == b"one\n" + b"two\n" * 20000


def test_a_write_that_stops_part_way_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "log"
    append(path, b"kept\n" * 10)
    with file_limits.file_size_limit(80):
        with pytest.raises(OSError):
            append(path, b"lost line\n" * 10)     # 30 bytes fit (a short write), the rest fail
    assert path.read_bytes() == b"kept\n" * 10
    append(path, b"next\n")
    assert path.read_bytes() == b"kept\n" * 10 + b"next\n"


def test_a_failed_write_that_cannot_be_cut_back_still_raises_the_write_s_error():
    fd = os.open("/dev/full", os.O_WRONLY)        # every write: ENOSPC; ftruncate: refused
    try:
        with pytest.raises(OSError) as raised:
            whole_lines.append(fd, b"line\n")
    finally:
        os.close(fd)
    assert raised.value.strerror == os.strerror(errno.ENOSPC)     # not the truncate's error


@pytest.mark.parametrize("content, kept", [
    (b"", b""),
    (b"whole\n", b"whole\n"),
    (b"whole\nwho", b"whole\n"),
    (b"\npartial", b"\n"),                      # the only newline is the first byte
    (b"no newline at all", b""),
    (b"x", b""),
    (b"a\n" + b"x" * 200000, b"a\n"),           # the newline is further back than one read
    (b"a\n" * 40000 + b"tail", b"a\n" * 40000),
])
def test_repair_cuts_back_to_the_last_newline(tmp_path, content, kept):
    path = tmp_path / "log"
    path.write_bytes(content)
    assert whole_lines.repair_tail(str(path)) == len(content) - len(kept)
    assert path.read_bytes() == kept


def test_repair_of_a_missing_file_does_nothing(tmp_path):
    assert whole_lines.repair_tail(str(tmp_path / "missing")) == 0
    assert not (tmp_path / "missing").exists()


def values_for(tmp_path, *extra):
    values, _ = flags.parse(["--flagfile=/dev/null", "--logger_path=%s" % tmp_path] + list(extra), "pyosqueryd")
    return values


def test_the_results_log_cuts_off_a_partial_line_left_by_a_killed_daemon(tmp_path, caplog):
    (tmp_path / results.RESULTS).write_bytes(b'{"n":1}\n{"n":2')
    (tmp_path / results.SNAPSHOTS).write_bytes(b'{"s":1}\n{"s"')
    with caplog.at_level(logging.WARNING, "pyosquery.logger"):
        log = results.ResultsLog(values_for(tmp_path))
    log.results(['{"n":3}'])
    assert (tmp_path / results.RESULTS).read_bytes() == b'{"n":1}\n{"n":3}\n'
    assert (tmp_path / results.SNAPSHOTS).read_bytes() == b'{"s":1}\n'
    warned = [record.getMessage() for record in caplog.records]
    assert warned == ["%s ended in a partial line (6 bytes, left by an interrupted write): removed"
                      % (tmp_path / results.RESULTS),
                      "%s ended in a partial line (4 bytes, left by an interrupted write): removed"
                      % (tmp_path / results.SNAPSHOTS)]


def test_results_that_do_not_fit_are_not_written_and_the_next_ones_are(tmp_path, caplog):
    log = results.ResultsLog(values_for(tmp_path))
    log.results(['{"n":1}'])
    with caplog.at_level(logging.INFO, "pyosquery.logger"):
        with file_limits.file_size_limit(20):
            for _ in range(2):
                with pytest.raises(results.NotWritten):
                    log.results(['{"n":2}', '{"n":3}'])       # 8 bytes fit, 8 do not
        log.results(['{"n":4}'])
        log.results(['{"n":5}'])
    assert (tmp_path / results.RESULTS).read_text() == '{"n":1}\n{"n":4}\n{"n":5}\n'
    path = tmp_path / results.RESULTS
    assert [record.getMessage() for record in caplog.records] == [
        "Cannot write results to %s: %s; differential results are logged again once it can be written, "
        "snapshots until then are lost" % (path, os.strerror(errno.EFBIG)),           # once for the two failures
        "Writing results to %s again" % path]


def test_a_symlink_planted_as_a_results_log_is_not_followed(tmp_path, caplog):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"precious\npartial")
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o750)
    os.symlink(target, logs / results.RESULTS)
    with caplog.at_level(logging.ERROR, "pyosquery.logger"):
        log = results.ResultsLog(values_for(logs))          # starts all the same: the error is reported
        with pytest.raises(results.NotWritten):
            log.results(['{"n":1}'])
    assert target.read_bytes() == b"precious\npartial"     # neither repaired nor written through the link
    assert [record.getMessage() for record in caplog.records] == [
        "Cannot write results to %s: %s; differential results are logged again once it can be written, "
        "snapshots until then are lost" % (logs / results.RESULTS, os.strerror(errno.ELOOP))]


def test_a_whole_log_is_left_untouched_at_start(tmp_path):
    for name in (results.RESULTS, results.SNAPSHOTS):
        (tmp_path / name).write_bytes(b'{"n":1}\n')
        os.utime(tmp_path / name, (1000000000, 1000000000))       # log shippers go by the modification time
    results.ResultsLog(values_for(tmp_path))
    assert [os.stat(tmp_path / name).st_mtime for name in (results.RESULTS, results.SNAPSHOTS)] == [1000000000] * 2
