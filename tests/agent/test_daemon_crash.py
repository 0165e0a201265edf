"""SIGKILL while the daemon writes: the database stays sound and keeps what it committed."""

import random
import time

import apsw

from daemon_harness import Daemon

# every run returns a different half of /usr/bin, so every run stores and logs a change
CHURN = "SELECT path FROM file WHERE directory = '/usr/bin' AND abs(random()) % 2 = 0"


def stored_counter(path):
    db = apsw.Connection(path, flags=apsw.SQLITE_OPEN_READONLY)
    try:
        row = db.execute("SELECT counter FROM results WHERE name = 'churn'").fetchone()
        return None if row is None else row[0]
    finally:
        db.close()


def test_fifty_kills_leave_a_sound_database(tmp_path):
    daemon = Daemon(tmp_path, {"schedule": {"churn": {"query": CHURN, "interval": 1, "denylist": False}}},
                    extra_flags=["--disable_extensions", "--disable_watchdog"])   # this process is the writer
    database = daemon.paths["database_path"]
    seen = -1
    rng = random.Random(7)
    try:
        for number in range(50):
            daemon.start(wait_socket=False)
            if number % 5 == 0:
                # every fifth daemon commits a run of its own before it dies, however slowly a busy
                # machine starts it: the counter must go up at least ten times
                daemon.wait_for(lambda: committed(database) > seen, "a new stored result", 120)
            else:
                daemon.wait_for(lambda: committed(database) >= 0, "a stored result", 120)
            time.sleep(rng.uniform(0.0, 1.5))
            daemon.proc.kill()
            daemon.proc.wait()
            counter = stored_counter(database)
            # what was committed before the kill is still there: the counter never goes back
            assert counter >= seen
            seen = counter
    finally:
        daemon.close()
    db = apsw.Connection(database)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert seen >= 10
    logged = [line["counter"] for line in daemon.results() if line["name"] == "churn"]
    # at-least-once: every stored counter was logged before it was stored
    assert set(range(1, seen + 1)) <= set(logged)


def committed(path):
    """The stored counter, -1 while there is none (or the database cannot be read yet)."""
    try:
        counter = stored_counter(path)
    except apsw.Error:
        return -1
    return -1 if counter is None else counter
