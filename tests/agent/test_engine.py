"""The engine splits one cursor's rows into each statement's own, as the shell and socket read them."""

from pyosquery.sql.engine import Engine

SQL = "SELECT 1 AS a UNION ALL SELECT 2; SELECT 3 AS b WHERE 0; SELECT 4 AS c UNION ALL SELECT 5; SELECT 6 AS d"


def test_each_statement_gets_its_own_rows():
    assert [(names, list(rows)) for names, rows in Engine().statements(SQL)] == [
        (["a"], [(1,), (2,)]), (["b"], []), (["c"], [(4,), (5,)]), (["d"], [(6,)])]


def test_rows_left_unread_do_not_leak_into_the_next_statement():
    first_rows = [(names, next(rows, None)) for names, rows in Engine().statements(SQL)]
    assert first_rows == [(["a"], (1,)), (["b"], None), (["c"], (4,)), (["d"], (6,))]
