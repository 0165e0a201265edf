"""Issue 11, item 6: `pyosqueryctl` signals only a live pyosqueryd that holds its pidfile, never the
process that took a dead daemon's pid."""

import os
import signal
import subprocess
import sys

import pytest

from daemon_harness import alive, wait_until

CTL = os.path.join(os.path.dirname(sys.executable), "pyosqueryctl")


def ctl(flagfile, action):
    return subprocess.run([CTL, "--flagfile", flagfile, action], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.fixture(name="flagfile")
def fixture_flagfile(tmp_path):
    path = tmp_path / "pyosquery.flags"
    path.write_text("--pidfile=%s\n--config_path=/dev/null\n" % (tmp_path / "pyosqueryd.pid"))
    return str(path)


@pytest.mark.parametrize("locked", [False, True], ids=["stale", "locked-by-another-program"])
def test_stop_leaves_a_process_that_is_not_our_daemon_alone(tmp_path, flagfile, locked):
    pidfile = tmp_path / "pyosqueryd.pid"
    pidfile.touch()
    # a stranger now has the pid a kill -9'd daemon wrote; in the second case it even holds the lock
    command = ["flock", str(pidfile), "sleep", "600"] if locked else ["sleep", "600"]
    stranger = subprocess.Popen(command)   # pylint: disable=consider-using-with
    try:
        pidfile.write_text("%d\n" % stranger.pid)
        if locked:      # until the stranger holds the lock (flock exits 0 only on a conflict)
            wait_until(lambda: subprocess.run(["flock", "--nonblock", "--conflict-exit-code", "0", str(pidfile),
                                               "false"], check=False).returncode == 0, "the lock", timeout=60)
        assert ctl(flagfile, "status").returncode == 3
        stopped = ctl(flagfile, "stop")
        assert stopped.returncode == 0 and "not running" in stopped.stdout
        assert alive(stranger.pid)
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()
