"""Issue 11, item 9: a second daemon on the same database (another pidfile, another socket) refuses to
run, naming the database and the daemon that has it; the first keeps running."""

from daemon_harness import Daemon, worker


def test_a_second_daemon_on_the_same_database_refuses(daemons, tmp_path):
    first = daemons({"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 1}}}).start()
    watcher = worker(first)[1]
    (tmp_path / "second").mkdir()
    second = Daemon(tmp_path / "second", {"schedule": {"t": {"query": "SELECT 1 AS a", "interval": 1}}})
    second.paths["database_path"] = first.paths["database_path"]
    try:
        second.start(wait_socket=False)
        assert second.proc.wait(30) == 1
    finally:
        second.close()
    stderr = second.proc.stderr.read().decode()
    assert "the database %s is in use by another pyosqueryd (pid %d)" % (first.paths["database_path"], watcher) \
        in stderr, stderr
    assert worker(first)[1] == watcher
