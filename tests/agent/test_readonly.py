"""No query can change state: writes, ATTACH, load_extension and PRAGMA writes are refused."""

import re

import apsw
import pytest

from pyosquery.sql.readonly import ReadOnlyError

REFUSED = [
    "INSERT INTO processes (pid) VALUES (1)",
    "UPDATE processes SET name = 'x'",
    "DELETE FROM processes",
    "CREATE TABLE t (a)",
    "CREATE TEMP VIEW v AS SELECT 1",
    "ATTACH DATABASE '/tmp/pyosquery-attach.db' AS other",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode = WAL",
    "SELECT load_extension('/tmp/x.so')",
    "DROP TABLE processes",
    # issue 11: a schema_version write, transactions that would stay open on the shared connection, REINDEX
    "PRAGMA schema_version = 7",
    "PRAGMA main.schema_version = 7",
    # issue 14: reading them is allowed, writing them is not
    "PRAGMA user_version = 5",
    "PRAGMA application_id = 5",
    "BEGIN",
    "BEGIN IMMEDIATE",
    "SAVEPOINT s",
    "SELECT 1; BEGIN",
    "REINDEX",
    "/* a comment first */ REINDEX nocase",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_writes_are_refused(engine, sql):
    # SQLite itself refuses UPDATE/DELETE on read-only virtual tables before asking us
    with pytest.raises((ReadOnlyError, apsw.SQLError)) as caught:
        engine.query(sql)
    message = str(caught.value)
    assert "read-only" in message or "may not be modified" in message


def test_no_transaction_stays_open_and_the_schema_is_unchanged(engine):
    version = engine.query("PRAGMA schema_version")[1]
    for sql in ("BEGIN", "SAVEPOINT s", "PRAGMA schema_version = 99"):
        with pytest.raises(ReadOnlyError):
            engine.query(sql)
    assert engine.connection.in_transaction is False
    assert engine.query("PRAGMA schema_version")[1] == version


def test_attach_leaves_no_file(engine, tmp_path):
    target = tmp_path / "other.db"
    with pytest.raises(ReadOnlyError):
        engine.query("ATTACH DATABASE '%s' AS other" % target)
    assert not target.exists()


def test_read_only_pragmas_work(engine):
    names = [row[1] for row in engine.query("PRAGMA table_info(time)")[1]]
    assert names[:3] == ["weekday", "year", "month"]
    assert engine.query("SELECT name FROM pragma_table_info('processes') WHERE name = 'pid'")[1] == [("pid",)]


def test_reads_and_functions_work(engine):
    assert engine.query("SELECT upper('a'), count(*) > 0 FROM processes")[1] == [("A", 1)]


@pytest.mark.parametrize("sql, message", [
    ("PRAGMA journal_mode = WAL", "refused: PRAGMA journal_mode=WAL;"),
    ("PRAGMA foreign_keys", "refused: PRAGMA foreign_keys;"),
    ("CREATE TABLE t (a)", "refused: schema change;"),
    ("BEGIN", "refused: TRANSACTION BEGIN;"),
    ("/* a comment first */ REINDEX nocase", "refused: REINDEX;"),
])
def test_the_refusal_names_what_was_refused(engine, sql, message):
    with pytest.raises(ReadOnlyError, match="^%s pyosquery SQL is read-only$" % re.escape(message)):
        engine.query(sql)


def test_a_comment_before_a_select_is_no_write(engine):
    assert engine.query("/* why */ -- and how\n SELECT 1")[1] == [(1,)]
