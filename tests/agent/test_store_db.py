"""The agent's store on a real SQLite file: what it keeps across a reopen (a restart), its file's
modes, a corrupt or unopenable file, a full database, and --database_dump's lines.
faults/test_store.py checks the same faults through a running daemon."""

import glob
import io
import logging
import os
import stat
import subprocess

import apsw
import pytest

from pyosquery.store.db import RUNS_KEPT, STAT_COLUMNS, Store
from pyosquery.store.dump import dump_lines, run_database_dump


@pytest.fixture(name="path")
def fixture_path(tmp_path):
    return str(tmp_path / "db" / "pyosquery.db")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def reopened(store):
    """The same database after a restart."""
    store.close()
    return Store(store.path)


def run(name, started, **values):
    return dict(dict(name=name, started=started, lateness_ms=0.0, wall_ms=1.0, user_ms=0.5, system_ms=0.25,
                     memory=10, rows=1, output_size=2), **values)


def test_state_survives_a_restart(path):
    store = Store(path)
    store.put("executing_query", "q")
    store.put("number", 5)
    store.save_results("q", "SELECT 1 AS a", 3, 7, [{"a": "1"}, {"a": 2}], 1000)
    store.deny("bad", 2000)
    store.reset_stats("q", "SELECT 1 AS a")
    store = reopened(store)
    assert store.get("executing_query") == "q" and store.get("number") == "5"
    assert store.get("missing") is None and store.get("missing", "") == ""
    assert store.previous("q") == ("SELECT 1 AS a", 3, 7, [{"a": "1"}, {"a": 2}])
    assert store.previous("other") is None
    assert store.denylist() == {"bad": 2000}
    assert store.stats() == {"q": dict(dict.fromkeys(STAT_COLUMNS, 0), sql="SELECT 1 AS a")}
    assert store.integrity() == "ok"


def test_files_are_private_whatever_the_umask(path):
    old = os.umask(0)
    try:
        store = Store(path)
        store.put("k", "v")
    finally:
        os.umask(old)
    assert mode(os.path.dirname(path)) == 0o750
    stored = [path, path + "-wal", path + "-shm"]
    assert {name: mode(name) for name in glob.glob(path + "*")} == dict.fromkeys(stored, 0o600)


def test_the_journal_is_wal_with_normal_sync(path):
    store = Store(path)
    other = apsw.Connection(path)
    assert other.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
    assert store.db.execute("PRAGMA synchronous").fetchall() == [(1,)]    # NORMAL
    # a reader or writer beside it (pyosqueryctl, --database_dump) is waited for up to 5 s, not failed at once
    assert store.db.execute("PRAGMA busy_timeout").fetchall() == [(5000,)]


def test_integrity_names_the_first_fault(path):
    os.makedirs(os.path.dirname(path))
    db = apsw.Connection(path)
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO settings VALUES ('a', '1'), ('b', '2'), ('c', '3')")
    db.execute("CREATE INDEX by_value ON settings (value)")
    root, sql = db.execute("SELECT rootpage, sql FROM sqlite_master WHERE name = 'by_value'").fetchall()[0]
    # the rows change behind the index's back: the index is taken out of the schema and put back after
    db.execute("PRAGMA writable_schema = ON")
    db.execute("DELETE FROM sqlite_master WHERE name = 'by_value'")
    db.close()
    db = apsw.Connection(path)
    db.execute("UPDATE settings SET value = value || 'x'")
    db.execute("PRAGMA writable_schema = ON")
    db.execute("INSERT INTO sqlite_master VALUES ('index', 'by_value', 'settings', ?, ?)", (root, sql))
    db.close()
    store = Store(path)
    assert store.integrity() == "row 1 missing from index by_value"


def test_allow_lifts_one_denylisting(path):
    store = Store(path)
    store.deny("a", 10)
    store.deny("b", 20)
    store.deny("a", 30)
    store.allow("a")
    assert reopened(store).denylist() == {"b": 20}


def test_stats_runs_and_their_reset(path):
    store = Store(path)
    store.reset_stats("q", "SELECT 1")
    counters = dict(zip(STAT_COLUMNS, range(1, len(STAT_COLUMNS) + 1)))
    store.record_run("q", counters, run("q", 5.0))
    store.reset_stats("other", "SELECT 2")
    store.record_run("other", dict.fromkeys(STAT_COLUMNS, 9), run("other", 1.0))
    store = reopened(store)
    assert store.stats()["q"] == dict(counters, sql="SELECT 1")
    assert store.runs() == [run("other", 1.0, user_ms=0.5), run("q", 5.0)]
    store.reset_stats("q", "SELECT 3")
    assert store.stats()["q"] == dict(dict.fromkeys(STAT_COLUMNS, 0), sql="SELECT 3")
    assert [r["name"] for r in store.runs()] == ["other"]


def test_only_the_last_hundred_runs_of_each_query_are_kept(path):
    store = Store(path)
    store.reset_stats("q", "SELECT 1")
    store.reset_stats("r", "SELECT 2")
    store.record_run("r", dict.fromkeys(STAT_COLUMNS, 0), run("r", 0.0))
    # recorded out of order: the oldest by start time go first
    for number in [5] + list(range(RUNS_KEPT + 10, 6, -1)) + [6, 6]:
        store.record_run("q", dict.fromkeys(STAT_COLUMNS, 0), run("q", float(number), rows=number))
    runs = reopened(store).runs()
    kept = [r["started"] for r in runs if r["name"] == "q"]
    assert RUNS_KEPT == 100 and len(kept) == 100
    assert kept == [float(n) for n in range(11, RUNS_KEPT + 11)]
    assert [r["name"] for r in runs].count("r") == 1


def test_forget_drops_a_querys_stats_runs_and_results_only(path):
    store = Store(path)
    for name in ("gone", "also", "kept"):
        store.reset_stats(name, "SELECT 1")
        store.record_run(name, dict.fromkeys(STAT_COLUMNS, 1), run(name, 1.0))
        store.save_results(name, "SELECT 1", 0, 0, [], 1)
    store.deny("gone", 100)
    store.put("interval.gone", "10:10")
    store.forget(["gone", "also"])
    store = reopened(store)
    assert list(store.stats()) == ["kept"] and [r["name"] for r in store.runs()] == ["kept"]
    assert store.previous("gone") is None and store.previous("also") is None and store.previous("kept")
    assert store.denylist() == {"gone": 100} and store.get("interval.gone") == "10:10"


def test_a_corrupt_database_is_moved_aside(path, caplog):
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(b"not a database " * 300)
    with caplog.at_level(logging.ERROR, "pyosquery.store"):
        store = Store(path)
    (aside,) = glob.glob(path + ".corrupt.*")
    with open(aside, "rb") as handle:
        assert handle.read(15) == b"not a database "
    assert "The database %s is corrupt (file is not a database): moved to %s, starting a new one" % (
        path, aside) in caplog.text
    store.put("k", "v")
    assert reopened(store).get("k") == "v" and store.path == path


def test_an_unopenable_database_leaves_an_in_memory_store(tmp_path, caplog):
    (tmp_path / "file").write_text("")
    path = str(tmp_path / "file" / "pyosquery.db")
    with caplog.at_level(logging.ERROR, "pyosquery.store"):
        store = Store(path)
    assert "Cannot open the database %s: unable to open database file; running on an in-memory store" % path in caplog.text
    store.put("k", "v")
    assert store.get("k") == "v" and store.integrity() == "ok"


def test_a_corrupt_database_that_cannot_be_replaced_leaves_an_in_memory_store(tmp_path, caplog):
    # a file system with no inode to spare: the corrupt file can be renamed, but no new file made
    mount = tmp_path / "two_inodes"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=2,mode=0750", "tmpfs", str(mount)], check=True)
    try:
        path = mount / "pyosquery.db"
        path.write_bytes(b"not a database " * 300)
        with caplog.at_level(logging.ERROR, "pyosquery.store"):
            store = Store(str(path))
        assert "is corrupt (file is not a database): moved to" in caplog.text
        assert "Cannot open the database %s: unable to open database file; running on an in-memory store" % (
            path) in caplog.text
        store.put("k", "v")
        assert store.get("k") == "v" and glob.glob(str(path) + ".corrupt.*")
        store.close()
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


def test_a_corrupt_database_that_cannot_be_moved_aside_leaves_an_in_memory_store(tmp_path, caplog):
    corrupt = tmp_path / "corrupt"
    corrupt.write_bytes(b"not a database " * 300)
    path = tmp_path / "db" / "pyosquery.db"
    path.parent.mkdir()
    path.write_bytes(b"")
    # a file mounted over the path: renaming it fails (EBUSY)
    subprocess.run(["mount", "--bind", str(corrupt), str(path)], check=True)
    try:
        with caplog.at_level(logging.ERROR, "pyosquery.store"):
            store = Store(str(path))
        assert "The database %s is corrupt (file is not a database) and cannot be moved aside" % path in caplog.text
        assert "Cannot open the database %s: Device or resource busy; running on an in-memory store" % (
            path) in caplog.text
        store.put("k", "v")
        assert store.get("k") == "v" and corrupt.read_bytes() == b"not a database " * 300
        store.close()
    finally:
        subprocess.run(["umount", str(path)], check=False)


def full(store):
    """The database can grow no more: SQLite refuses new pages as on a full disk, in the middle of
    the transaction (as a disk does when a big write spills SQLite's cache before its commit)."""
    pages = store.db.execute("PRAGMA page_count").fetchall()[0][0]
    store.db.execute("PRAGMA max_page_count = %d" % pages)


def test_a_full_database_is_reported_once_and_writing_resumes(path, caplog):
    big = [{"a": "x" * 10000}]
    with caplog.at_level(logging.INFO, "pyosquery.store"):
        store = Store(path)
        store.reset_stats("q", "SELECT 1")
        assert caplog.text == ""                # nothing to say while writes succeed
        full(store)
        for _ in range(3):
            assert store.save_results("q", "SELECT 1", 0, 0, big, 1) is None
        assert store.previous("q") is None
        store.db.execute("PRAGMA max_page_count = 1000000")
        store.save_results("q", "SELECT 1", 0, 0, big, 1)
        store.put("k", "v")
    report = "Cannot write the database %s: database or disk is full; the agent goes on" % path
    assert caplog.text.count(report) == 1 and caplog.text.count("Writing the database %s again" % path) == 1
    assert store.previous("q")[3] == big and store.get("k") == "v"
    full(store)                                 # full again after it recovered: said again
    with caplog.at_level(logging.INFO, "pyosquery.store"):
        store.save_results("q", "SELECT 1", 0, 0, big + big, 2)
    assert caplog.text.count(report) == 2


def test_a_store_the_system_will_not_write_loses_the_writes_but_not_the_agent(path, caplog):
    store = Store(path)
    store.reset_stats("q", "SELECT 1")
    store.save_results("q", "SELECT 1", 0, 0, [], 1)
    store.db.execute("PRAGMA query_only = 1")      # as a file system remounted read-only refuses every write
    counters = dict.fromkeys(STAT_COLUMNS, 1)
    with caplog.at_level(logging.ERROR, "pyosquery.store"):
        for write, args in ((store.put, ("k", "v")), (store.save_results, ("q", "SELECT 2", 0, 0, [], 2)),
                            (store.deny, ("q", 5)), (store.allow, ("q",)), (store.reset_stats, ("r", "SELECT 3")),
                            (store.forget, (["q"],)), (store.record_run, ("q", counters, run("q", 1.0)))):
            assert write(*args) is None, write.__name__
    assert caplog.text.count("Cannot write the database %s: attempt to write a readonly database" % path) == 1
    assert store.previous("q")[0] == "SELECT 1" and list(store.stats()) == ["q"] and store.runs() == []


# --database_dump

def test_dump_prints_every_key_in_osquerys_domains(path):
    store = Store(path)
    store.put("b_key", "2")
    store.put("a_key", "1")
    store.save_results("q", "SELECT 1", 1, 2, [{"a": "1"}], 100)
    store.deny("z", 7)
    store.deny("q", 9)
    store.reset_stats("q", "SELECT 1")
    store.close()
    lines = dump_lines(path)
    assert lines[:5] == ["configurations[a_key]: 1", "configurations[b_key]: 2",
                         'queries[q]: {"counter":2,"epoch":1,"rows":"[{\\"a\\":\\"1\\"}]","sql":"SELECT 1","updated":100}',
                         'denylist[q]: {"expiry":9}', 'denylist[z]: {"expiry":7}']
    assert lines[5].startswith('query_performance[q]: {"average_memory":0,') and len(lines) == 6
    out = io.StringIO()
    assert run_database_dump(type("Values", (), {"database_path": path})(), out) == 0
    assert out.getvalue() == "\n".join(lines) + "\n"


def test_dump_of_no_store_prints_nothing_and_creates_nothing(tmp_path):
    path = str(tmp_path / "absent.db")
    assert dump_lines(path) == [] and not os.path.exists(path)
    (tmp_path / "empty.db").write_bytes(b"")
    assert dump_lines(str(tmp_path / "empty.db")) == []
