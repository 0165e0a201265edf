"""Issue 11, item 10: the daemon's files get explicit modes whatever the umask, a symlink planted in the
logger directory is not followed, and a logger or database directory others can write is refused."""

import glob
import os
import stat

import pytest

from daemon_harness import schedule, status_log, worker

CONFIG = {"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 1}}}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(name="no_umask")
def fixture_no_umask():
    """The daemons started in the test inherit umask 000."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_modes_are_explicit_under_umask_000(daemons, tmp_path, no_umask):
    daemon = daemons(CONFIG, extra_flags=["--logger_mode=0600"])
    daemon.paths["pidfile"] = str(tmp_path / "run" / "sub" / "pyosqueryd.pid")
    daemon.start()
    daemon.wait_for(daemon.results, "a result")
    logs = glob.glob(os.path.join(daemon.paths["logger_path"], "pyosqueryd.INFO.*"))
    assert logs and {mode(path) for path in logs} == {0o600}
    assert mode(os.path.join(daemon.paths["logger_path"], "pyosqueryd.results.log")) == 0o600
    assert mode(tmp_path / "run") == 0o755 and mode(tmp_path / "run" / "sub") == 0o755
    assert mode(daemon.paths["logger_path"]) == 0o750 and mode(os.path.dirname(daemon.paths["database_path"])) == 0o750
    # the store holds every query's last results: its file and SQLite's WAL and shm beside it are private
    stored = [daemon.paths["database_path"] + suffix for suffix in ("", "-wal", "-shm")]
    assert {path: mode(path) for path in stored if os.path.exists(path)} == dict.fromkeys(stored, 0o600)


def test_a_symlink_planted_as_the_results_log_is_not_followed(daemons, tmp_path):
    target = tmp_path / "target"
    target.write_text("precious\n")
    target.chmod(0o600)
    daemon = daemons(CONFIG)
    os.makedirs(daemon.paths["logger_path"], mode=0o750)
    os.symlink(str(target), os.path.join(daemon.paths["logger_path"], "pyosqueryd.results.log"))
    daemon.start()
    ran = int(schedule(daemon)["t"]["executions"])
    daemon.wait_for(lambda: int(schedule(daemon)["t"]["executions"]) > ran + 1, "runs")
    assert target.read_text() == "precious\n" and mode(target) == 0o600
    assert "Cannot write results to %s/pyosqueryd.results.log" % daemon.paths["logger_path"] in status_log(daemon)


@pytest.mark.parametrize("which", ["logger_path", "database"])
def test_a_directory_others_can_write_is_refused(daemons, which):
    daemon = daemons(CONFIG)
    directory = daemon.paths["logger_path"] if which == "logger_path" else os.path.dirname(daemon.paths["database_path"])
    os.makedirs(directory)
    os.chmod(directory, 0o777)
    daemon.start()
    worker(daemon)
    if which == "logger_path":
        assert not glob.glob(os.path.join(directory, "pyosqueryd.*"))
        stderr_log = daemon.stop() is not None and daemon.proc.stderr.read().decode()
        assert "Cannot write status logs to %s: writable by others (mode 0777): refused" % directory in stderr_log
    else:
        ran = int(schedule(daemon)["t"]["executions"])
        daemon.wait_for(lambda: int(schedule(daemon)["t"]["executions"]) > ran, "runs")
        assert not os.listdir(directory)
        assert "Cannot open the database %s: writable by others (mode 0777): refused; running on an in-memory" % (
            daemon.paths["database_path"]) in status_log(daemon)
