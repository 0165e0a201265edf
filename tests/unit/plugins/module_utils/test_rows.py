"""Typed values: numbers where the agent declares them, text kept as text."""

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils.rows import canonical_number, typed_rows


def test_declared_types_decide():
    rows = [{"pid": "1", "size": "", "ratio": "0.25", "name": "007", "uid": "18446744073709551615"}]
    columns = [("pid", "INTEGER"), ("size", "BIGINT"), ("ratio", "DOUBLE"), ("name", "TEXT"),
               ("uid", "UNSIGNED_BIGINT")]
    assert typed_rows(rows, columns) == [{"pid": 1, "size": None, "ratio": 0.25, "name": "007",
                                          "uid": 18446744073709551615}]


@pytest.mark.parametrize("text, number", [("42", 42), ("-3", -3), ("0.5", 0.5), ("007", None), ("1e3", None),
                                          ("", None), ("nan", None), ("inf", None), (" 4", None), ("abc", None)])
def test_expressions_become_numbers_only_when_written_canonically(text, number):
    assert canonical_number(text) == number
    assert typed_rows([{"x": text}], [("x", "UNKNOWN")]) == [{"x": text if number is None else number}]
