"""pyosqueryctl drives a real daemon by its flagfile: start, status, restart, stop, config-check."""

import os
import subprocess
import sys
import time

CTL = os.path.join(os.path.dirname(sys.executable), "pyosqueryctl")


def ctl(*args):
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=60, check=False)


def write_flagfile(root, config_text):
    config = root / "pyosquery.conf"
    config.write_text(config_text)
    flagfile = root / "pyosquery.flags"
    flagfile.write_text("\n".join([
        "# test daemon",
        "--config_path=%s" % config,
        "--database_path=%s" % (root / "pyosquery.db"),
        "--logger_path=%s" % (root / "log"),
        "--pidfile=%s" % (root / "pyosqueryd.pid"),
        "--disable_extensions",
    ]) + "\n")
    return str(flagfile)


def test_start_status_restart_stop(tmp_path):
    flagfile = write_flagfile(tmp_path, '{"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 1}}}')
    try:
        assert ctl("--flagfile", flagfile, "status").returncode == 3
        started = ctl("--flagfile", flagfile, "start")
        assert started.returncode == 0, started.stderr
        first = int((tmp_path / "pyosqueryd.pid").read_text())
        status = ctl("--flagfile", flagfile, "status")
        assert status.returncode == 0 and "running (pid %d)" % first in status.stdout
        assert ctl("--flagfile", flagfile, "start").stdout.startswith("pyosqueryd is already running")
        assert ctl("--flagfile", flagfile, "restart").returncode == 0
        second = int((tmp_path / "pyosqueryd.pid").read_text())
        assert second != first
    finally:
        stopped = ctl("--flagfile", flagfile, "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not (tmp_path / "pyosqueryd.pid").exists()
    assert ctl("--flagfile", flagfile, "status").returncode == 3


def wait_for_line(path, text, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.1)
    return False


def test_reload_rereads_the_config_in_the_same_process(tmp_path):
    flagfile = write_flagfile(tmp_path, '{"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 60}}}')
    not_running = ctl("--flagfile", flagfile, "reload")
    assert not_running.returncode == 3 and "not running" in not_running.stderr
    try:
        assert ctl("--flagfile", flagfile, "start").returncode == 0
        pid = int((tmp_path / "pyosqueryd.pid").read_text())
        info = tmp_path / "log" / "pyosqueryd.INFO"
        assert wait_for_line(info, "(1 queries)")
        (tmp_path / "pyosquery.conf").write_text(
            '{"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 60}, "u": {"query": "SELECT 2 AS b", "interval": 60}}}')
        reloaded = ctl("--flagfile", flagfile, "reload")
        assert reloaded.returncode == 0 and "reloading (pid %d)" % pid in reloaded.stdout
        assert wait_for_line(info, "(2 queries)"), info.read_text()
        assert "Reloading the config" in info.read_text()
        assert int((tmp_path / "pyosqueryd.pid").read_text()) == pid
    finally:
        ctl("--flagfile", flagfile, "stop")


def test_config_check_reports_a_bad_query(tmp_path):
    good = write_flagfile(tmp_path, '{"schedule": {"t": {"query": "SELECT pid FROM processes", "interval": 60}}}')
    assert ctl("--flagfile", good, "config-check").returncode == 0
    bad = write_flagfile(tmp_path, '{"schedule": {"t": {"query": "SELECT pidd FROM processes", "interval": 60}}}')
    result = ctl("--flagfile", bad, "config-check")
    assert result.returncode == 1
    assert "t" in result.stderr and "no such column: pidd" in result.stderr


def test_unknown_flag_in_the_flagfile_is_named(tmp_path):
    flagfile = tmp_path / "bad.flags"
    flagfile.write_text("--config_path=/dev/null\n--no_such_flag=1\n")
    result = ctl("--flagfile", str(flagfile), "status")
    assert result.returncode == 1 and "no_such_flag" in result.stderr and "bad.flags:2" in result.stderr


def test_pack_check_names_the_file_pack_and_query(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text('{"queries": {"procs": {"query": "SELECT pid FROM processes", "interval": 60}}}')
    assert ctl("--flagfile", str(tmp_path / "none.flags"), "pack-check", "--name", "baseline", str(good)).returncode == 0
    bad = tmp_path / "source"        # as Ansible's validate names its temporary file
    bad.write_text('{"queries": {"procs": {"query": "SELECT pid FROM processes", "interval": 60},'
                   ' "oops": {"query": "SELECT x FROM no_such_table", "interval": 60}}}')
    result = ctl("pack-check", "--name", "servers", str(bad))
    assert result.returncode == 1
    assert "%s: query pack_servers_oops: no such table: no_such_table" % bad in result.stderr


def test_pack_check_skips_other_platforms_and_checks_the_schema(tmp_path):
    other = tmp_path / "mac.conf"
    other.write_text('{"platform": "darwin", "queries": {"a": {"query": "SELECT * FROM no_such_table", "interval": 60}}}')
    assert ctl("pack-check", "--name", "mac", str(other)).returncode == 0
    broken = tmp_path / "broken.conf"
    broken.write_text('{"queries": 3}')
    result = ctl("pack-check", "--name", "broken", str(broken))
    assert result.returncode == 1 and "$.queries" in result.stderr


def test_pack_check_errors_name_the_pack_whatever_the_fault(tmp_path):
    """Schema, JSON and missing-file errors carry no query name: each line names the pack and the file."""
    cases = {"schema.conf": '{"queries": {"q": {"interval": 60}}}', "json.conf": '{"queries": \n'}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    schema = ctl("pack-check", "--name", "web", str(tmp_path / "schema.conf"))
    assert schema.returncode == 1
    assert schema.stderr == "Error reading pack web: %s: $.queries.q: 'query' is a required property\n" % (
        tmp_path / "schema.conf")
    broken = ctl("pack-check", "--name", "web", str(tmp_path / "json.conf"))
    assert broken.returncode == 1 and broken.stderr.startswith("Error reading pack web: %s:2:1: JSON error" % (
        tmp_path / "json.conf"))
    missing = ctl("pack-check", "--name", "web", str(tmp_path / "none.conf"))
    assert missing.returncode == 1 and missing.stderr.startswith("Error reading pack web: %s: cannot read" % (
        tmp_path / "none.conf"))
