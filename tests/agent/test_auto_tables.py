"""auto_table_construction: tables over SQLite files on disk, in the shell, --config_check and the daemon."""

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from pyosquery.config.atc import AutoTables
from pyosquery.sql.engine import Engine
from pyosquery.sql.vtable import QueryError

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")


def _database(path, value):
    db = sqlite3.connect(str(path))
    db.execute("CREATE TABLE t (a_number INTEGER, label TEXT)")
    db.execute("INSERT INTO t VALUES (?, 'pi')", (value,))
    db.commit()
    db.close()


def _config(tmp_path, **extra):
    config = {"auto_table_construction": {"test_atc": {
        "query": "SELECT a_number, label FROM t", "path": str(tmp_path / "app-%.db"),
        "columns": ["a_number", "label"], "platform": "linux"}}}
    config.update(extra)
    path = tmp_path / "atc.conf"
    path.write_text(json.dumps(config))
    return str(path)


def shell(*args):
    return subprocess.run([SHELL] + list(args), capture_output=True, text=True, timeout=60, check=False)


def test_shell_serves_atc_tables_over_every_matching_file(tmp_path):
    _database(tmp_path / "app-1.db", 314159)
    _database(tmp_path / "app-2.db", 2718)
    (tmp_path / "app-3.db").write_text("not a database")
    done = shell("--config_path", _config(tmp_path), "--csv", "SELECT a_number, label, path FROM test_atc ORDER BY path")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["a_number,label,path", "314159,pi,%s" % (tmp_path / "app-1.db"),
                                        "2718,pi,%s" % (tmp_path / "app-2.db")]


def test_config_check_knows_atc_tables(tmp_path):
    config = _config(tmp_path, schedule={"atc": {"query": "SELECT a_number FROM test_atc", "interval": 60}})
    done = shell("--config_check", "--config_path", config)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_config_that_does_not_load_leaves_the_shell_working():
    done = shell("--config_path=/", "SELECT 1 AS one", "--csv")
    assert done.returncode == 0 and done.stdout == "one\n1\n"
    assert "Error reading config" in done.stderr


def test_daemon_schedules_queries_on_atc_tables(daemons, tmp_path):
    _database(tmp_path / "app-1.db", 42)
    config = json.loads(open(_config(tmp_path), encoding="utf-8").read())
    config["schedule"] = {"atc": {"query": "SELECT a_number FROM test_atc", "interval": 1}}
    daemon = daemons(config, extra_flags=["--disable_watchdog"]).start()
    daemon.wait_for(daemon.results, "a result")
    assert daemon.results()[0]["columns"] == {"a_number": "42"}


def test_a_built_in_name_or_an_incomplete_entry_is_refused_with_a_warning(tmp_path):
    good = {"query": "SELECT 1", "path": str(tmp_path / "x.db"), "columns": ["a"]}
    warnings = []
    entries = {"processes": good, "no_columns": dict(good, columns="a"), "not_object": [good], "mine": good}
    assert AutoTables(Engine()).install({"auto_table_construction": entries}, warnings) == ["mine"]
    assert warnings == ["auto_table_construction: no_columns needs query, path and columns",
                        "auto_table_construction: not_object needs query, path and columns",
                        "auto_table_construction: processes is a built-in table"]


def test_an_entry_without_a_path_or_a_query_is_refused_with_a_warning(tmp_path):
    good = {"query": "SELECT 1", "path": str(tmp_path / "x.db"), "columns": ["a"]}
    warnings = []
    entries = {"no_path": {"query": "SELECT 1", "columns": ["a"]}, "no_query": dict(good, query=None)}
    assert AutoTables(Engine()).install({"auto_table_construction": entries}, warnings) == []
    assert warnings == ["auto_table_construction: no_path needs query, path and columns",
                        "auto_table_construction: no_query needs query, path and columns"]


def test_a_file_that_is_no_database_leaves_the_next_files_served(tmp_path):
    (tmp_path / "app-0.db").write_text("not a database")        # first in order
    _database(tmp_path / "app-1.db", 7)
    engine = Engine()
    AutoTables(engine).install(json.loads(open(_config(tmp_path), encoding="utf-8").read()), [])
    assert engine.query_dicts("SELECT a_number, path FROM test_atc") == [
        {"a_number": "7", "path": str(tmp_path / "app-1.db")}]


def test_a_table_a_reload_removed_is_no_such_table(tmp_path):
    engine = Engine()
    tables = AutoTables(engine)
    tables.install(json.loads(open(_config(tmp_path), encoding="utf-8").read()), [])
    assert engine.query_dicts("SELECT * FROM test_atc") == []
    tables.install({}, [])
    with pytest.raises(QueryError, match="^no such table: test_atc$"):
        engine.query_dicts("SELECT * FROM test_atc")
    assert "test_atc" not in engine.tables                  # nor listed among the tables
