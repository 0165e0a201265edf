"""The planner pushes constraints to generators, and reports missing required columns."""

import pytest

from pyosquery.sql.engine import Engine
from pyosquery.sql.planner import CONSTANT, Plan, Planner
from pyosquery.sql.vtable import QueryError
from pyosquery.tables.context import tuple_rows
from pyosquery.tables.spec import Column, Table
from pyosquery.tables import processes


@pytest.fixture()
def spied(monkeypatch):
    """A fresh engine whose processes generator records each context it is called with."""
    contexts = []
    real = processes.gen_processes

    def spy(context):
        contexts.append(context)
        return real(context)

    return Engine(generators={"processes": spy}), contexts


def test_pid_equality_reads_one_process(monkeypatch):
    read = []
    real = processes.process_row
    monkeypatch.setattr(processes, "process_row", lambda pid, *a: read.append(pid) or real(pid, *a))
    rows = Engine().query_dicts("SELECT pid, name FROM processes WHERE pid = 1")
    assert [row["pid"] for row in rows] == [1]
    assert read == [1]


def test_in_list_arrives_as_one_set(spied):
    engine, contexts = spied
    rows = engine.query_dicts("SELECT pid FROM processes WHERE pid IN (1, 2, 999999999)")
    assert len(contexts) == 1
    assert contexts[0].equals("pid") == frozenset((1, 2, 999999999))
    assert {row["pid"] for row in rows} <= {1, 2}


def test_generator_sees_only_used_columns(spied, monkeypatch):
    engine, contexts = spied
    monkeypatch.setattr(processes, "cmdline", lambda base: pytest.fail("cmdline read for an unused column"))
    engine.query("SELECT pid, name FROM processes")
    assert contexts[0].used == frozenset(("pid", "name"))


def test_full_scan_sees_no_constraint(spied):
    engine, contexts = spied
    rows = engine.query_dicts("SELECT pid FROM processes WHERE name != ''")
    assert contexts[0].constraints == {}
    assert len(rows) > 1


def test_explain_query_plan_shows_the_index(engine):
    _, rows = engine.query("EXPLAIN QUERY PLAN SELECT * FROM processes WHERE pid = 1")
    assert rows[0][3].startswith("SCAN processes VIRTUAL TABLE INDEX ")
    assert rows[0][3].endswith(":pid=")


def test_missing_required_column_names_table_and_columns(engine):
    with pytest.raises(QueryError) as caught:
        engine.query("SELECT * FROM hash")
    assert "hash" in str(caught.value)
    assert "path or directory" in str(caught.value)


def test_required_column_from_a_join_is_used(engine, tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("x")
    rows = engine.query_dicts("SELECT h.sha1 FROM file f JOIN hash h ON h.path = f.path WHERE f.directory = '%s'"
                              % tmp_path)
    assert rows == [{"sha1": "11f6ad8ec52a2984abaafd7c3b516503785c2072"}]


def test_text_pid_constraint_still_matches(engine):
    assert engine.query("SELECT pid FROM processes WHERE pid = '1'")[1] == [(1,)]


def test_plan_numbers_name_their_table_and_where_each_value_comes_from(engine):
    sql = ("SELECT * FROM users u JOIN processes p ON p.pid = u.uid "
           "WHERE u.uid IN (0, 1) AND p.name = 'x' AND u.username = 'root'")
    details = [row[3] for row in engine.query("EXPLAIN QUERY PLAN " + sql)[1]]
    plans = [engine.plans.plans[int(detail.split("INDEX ")[1].split(":")[0])] for detail in details]
    assert sorted(plan.table for plan in plans) == ["processes", "users"]
    sources = {plan.table: dict(zip(plan.pushed, plan.sources)) for plan in plans}
    assert sources["users"][("uid", "=")] == "set" and sources["users"][("username", "=")] == "constant"
    assert sources["processes"] == {("pid", "="): "runtime"}


def test_an_equality_narrows_a_thousandfold_a_pattern_tenfold(engine):
    # SQLite picks among plans (and join orders) by these costs: each `=` divides the full
    # scan's by 1000, each LIKE/GLOB by 10, so a plan with more constraints always wins
    cost = Planner(engine.tables["processes"])._cost    # pylint: disable=protected-access
    assert cost(Plan("processes", (), (), None, False)) == 1e6
    assert cost(Plan("processes", (("pid", "="), ("name", "LIKE")), (CONSTANT, CONSTANT), None, False)) == 100
    assert cost(Plan("processes", (("name", "GLOB"),), (CONSTANT,), None, False)) == 1e5
    assert cost(Plan("hash", (), (), None, True)) == 1e15


def synthetic(columns, rows):
    """An engine serving one table `t` of `columns` (name, type, flags) whose generator ignores
    every constraint (a generator may return more than asked) and yields only the used columns."""
    columns = [Column(name, type_, flags) for name, type_, flags in columns]

    def generate(context):
        return [{name: value for name, value in row.items() if context.uses(name)} for row in rows]
    return Engine(tables={"t": Table("t", "synthetic", "", "", "", columns)}, generators={"t": generate})


def test_sqlite_rechecks_what_the_generator_returns_but_not_an_additional_input():
    rows = [{"k": k, "include_more": 0} for k in (1, 2, 3)]
    engine = synthetic([("k", "INTEGER", ["index"]), ("include_more", "INTEGER", ["additional", "hidden"])], rows)
    assert engine.query("SELECT k FROM t WHERE k = 2")[1] == [(2,)]
    # `additional = 1` is an input to the generator, not a filter on what it returns
    assert engine.query("SELECT k FROM t WHERE include_more = 1")[1] == [(1,), (2,), (3,)]


def test_a_wide_table_computes_the_columns_after_the_64th():
    # SQLite's colUsed has one bit for "column 63 or later": the generator must compute them all
    engine = synthetic([("c%d" % i, "INTEGER", []) for i in range(70)], [{"c%d" % i: i for i in range(70)}])
    assert engine.query("SELECT c2, c66 FROM t")[1] == [(2, 66)]


def test_alias_columns_read_their_column(engine):
    assert engine.query("SELECT datetime = date_time FROM time")[1] == [(1,)]


def test_tuple_rows_serve_alias_columns_too():
    columns = [Column("a", "TEXT", []), Column("b", "INTEGER", ["aliases=b2|b3"])]
    engine = Engine(tables={"t": Table("t", "synthetic", "", "", "", columns)},
                    generators={"t": tuple_rows(lambda context: [("x", 1), ("y", 2)])})
    assert engine.query("SELECT b3, a, b2, b FROM t")[1] == [(1, "x", 1, 1), (2, "y", 2, 2)]


def test_a_constraint_that_cannot_be_pushed_does_not_hide_the_next():
    engine = synthetic([("a", "TEXT", []), ("k", "INTEGER", ["required"])], [{"a": "x", "k": 2}])
    assert engine.query("SELECT k FROM t WHERE a > 'a' AND k = 2")[1] == [(2,)]
