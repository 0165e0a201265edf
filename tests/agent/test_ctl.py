"""pyosqueryctl drives a real daemon by its flagfile: start, status, restart, stop, config-check."""

import os
import subprocess
import sys

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
