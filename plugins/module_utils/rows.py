# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rows from the agent as typed values: osquery sends every cell as text, the column types say what it is."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

INTEGER_TYPES = frozenset(("INTEGER", "BIGINT", "UNSIGNED_BIGINT"))
FLOAT_TYPES = frozenset(("DOUBLE",))
UNTYPED = frozenset(("UNKNOWN", ""))    # expressions (count(*), 1 AS x): the agent cannot declare them


def canonical_number(text):
    """`text` as an int or float when it is one written canonically ('42', '-1', '0.5'), else None.

    '007', '1e3' or 'nan' stay text: turning them into numbers would change what the value says.
    """
    try:
        number = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) and repr(number) == text else None
    return number if str(number) == text else None


def typed_value(text, declared):
    """One cell: '' is None (NULL) for numbers; text columns stay text."""
    if declared in INTEGER_TYPES or declared in FLOAT_TYPES:
        if text == "":
            return None
        convert = int if declared in INTEGER_TYPES else float
        try:
            return convert(text)
        except ValueError:
            return text         # e.g. a value too odd for its declared type: keep what the agent said
    if declared in UNTYPED:
        number = canonical_number(text)
        return text if number is None else number
    return text


def typed_rows(rows, columns):
    """`rows` (dicts of text) with each value converted by its column's declared type."""
    types = dict(columns)
    return [dict((name, typed_value(text, types.get(name, ""))) for name, text in row.items()) for row in rows]


def typed_query(client, sql):
    """Run `sql` on an AgentClient; rows with typed values."""
    return typed_rows(client.query(sql), client.columns(sql))
