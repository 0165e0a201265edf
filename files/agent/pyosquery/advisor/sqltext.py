"""Just enough of SQL's text for the advisor: tokens, `x IN (SELECT ...)` subqueries, and the
clause that constrains a column, so a finding can quote the query's own words.

SQLite parses the query for real (the plan comes from it); this only finds spans to quote or
to replace, and every rewrite built from them is prepared and planned again before it is shown.
"""

import collections
import re

Token = collections.namedtuple("Token", "kind text start end")

_TOKEN = re.compile(r"""
    (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|$))
  | (?P<string>'(?:[^']|'')*'?)
  | (?P<quoted>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)
  | (?P<word>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
  | (?P<op><=|>=|<>|!=|==|\|\||<<|>>|.)
""", re.VERBOSE | re.DOTALL)

# comparison operators whose column side a clause can be found by
_COMPARISONS = ("=", "==", "in", "like", "glob", "is")
# words that end a WHERE condition at the top level of a subquery or a statement
_CLAUSE_ENDS = {"group", "order", "limit", "union", "except", "intersect", "window", "having"}
# words allowed in a simple condition besides column names, values and functions
CONDITION_WORDS = {"and", "or", "not", "in", "is", "null", "like", "glob", "between", "escape", "case",
                   "when", "then", "else", "end", "collate", "true", "false", "regexp", "match", "cast", "as"}

InSubquery = collections.namedtuple(
    "InSubquery", "start end qualifier column table alias selected condition bare")
InSubquery.__doc__ = """`[qualifier.]column IN (SELECT [alias.]selected FROM table [alias] ...)`.

start/end: the span of the whole expression in the SQL text; condition: (first, last) token
indexes of its WHERE condition when that is all there is and it is simple, else None; bare: True
when the condition can replace the expression without parentheses (no OR, in a WHERE/ON/AND
position, followed by AND or the end of the clause).
"""


def tokenize(sql):
    """Tokens without spaces and comments; quoted identifiers keep their quotes in `text`."""
    return [Token(match.lastgroup, match.group(), match.start(), match.end())
            for match in _TOKEN.finditer(sql) if match.lastgroup != "space"]


def name(token):
    """The identifier a word or quoted-identifier token names (lower case), else None."""
    if token.kind == "word":
        return token.text.lower()
    if token.kind == "quoted":
        return token.text[1:-1].lower()
    return None


def matching(tokens, index):
    """Index of the ')' closing the '(' at `index`, or None when the text ends first."""
    depth = 0
    for position in range(index, len(tokens)):
        if tokens[position].text == "(":
            depth += 1
        elif tokens[position].text == ")":
            depth -= 1
            if depth == 0:
                return position
    return None


def _reference(tokens, last):
    """(qualifier or None, column, first index) of a column reference ending at `last`, or None."""
    if last < 0 or name(tokens[last]) is None:
        return None
    if last >= 2 and tokens[last - 1].text == "." and name(tokens[last - 2]) is not None:
        return name(tokens[last - 2]), name(tokens[last]), last - 2
    return None, name(tokens[last]), last


def _subquery(tokens, first, last):
    """(selected, table, alias, (cond first, cond last) or None) of `SELECT [q.]c FROM t [[AS] a] ...`;
    the condition only for a lone `WHERE <simple condition>`."""
    if name(tokens[first]) != "select" or last - first < 3:
        return None
    position = first + (2 if name(tokens[first + 1]) in ("distinct", "all") else 1)
    selected = _reference(tokens, position + (2 if tokens[position + 1].text == "." else 0))
    if selected is None:
        return None
    position = selected[2] + (3 if selected[0] else 1)
    if position + 1 > last or name(tokens[position]) != "from" or name(tokens[position + 1]) is None:
        return None
    table, position = name(tokens[position + 1]), position + 2
    alias = None
    if position <= last and name(tokens[position]) == "as":
        position += 1
    if position <= last and name(tokens[position]) not in (None, "where"):
        alias, position = name(tokens[position]), position + 1
    condition = None
    if position < last and name(tokens[position]) == "where" and _simple(tokens, position + 1, last):
        condition = (position + 1, last)
    return selected[1], table, alias, condition


def _simple(tokens, first, last):
    """True for a condition without subqueries, joins, lists or clauses after it."""
    depth = 0
    for token in tokens[first:last + 1]:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        word = name(token) if token.kind == "word" else None
        if word in ("select", "from", "join") or word in _CLAUSE_ENDS or token.text == ";":
            return False
        if token.text == "," and depth == 0:
            return False
    return True


def _top_level_or(tokens, first, last):
    depth = 0
    for token in tokens[first:last + 1]:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if depth == 0 and name(token) == "or" and token.kind == "word":
            return True
    return False


def _bare(tokens, before, after, condition):
    """True when the condition may stand in for the IN expression without parentheses."""
    opens = before < 0 or tokens[before].text == "(" or name(tokens[before]) in ("where", "and", "on")
    closes = after >= len(tokens) or tokens[after].text in (")", ";") or name(tokens[after]) in (
        {"and"} | _CLAUSE_ENDS)
    return opens and closes and not _top_level_or(tokens, *condition)


def in_subqueries(tokens):
    """Every `x IN (SELECT y FROM t ...)` in the statement, as InSubquery."""
    found = []
    for index, token in enumerate(tokens):
        if name(token) != "in" or token.kind != "word" or index + 2 >= len(tokens):
            continue
        if tokens[index + 1].text != "(" or name(tokens[index + 2]) != "select":
            continue
        close = matching(tokens, index + 1)
        left = _reference(tokens, index - 1)
        if close is None or left is None or (left[2] > 0 and name(tokens[left[2] - 1]) == "not"):
            continue
        inner = _subquery(tokens, index + 2, close - 1)
        if inner is None:
            continue
        selected, table, alias, condition = inner
        bare = condition is not None and _bare(tokens, left[2] - 1, close + 1, condition)
        found.append(InSubquery(tokens[left[2]].start, tokens[close].end, left[0], left[1], table, alias,
                                selected, condition, bare))
    return found


def _operand_end(tokens, first):
    """Index of the last token of the operand starting at `first` (a value, a reference, a group)."""
    if tokens[first].text == "(":
        return matching(tokens, first)
    if first + 2 < len(tokens) and tokens[first + 1].text == "." and name(tokens[first + 2]) is not None:
        return first + 2
    return first


def _refers(tokens, index, qualifier, column):
    """(first index, qualified) when tokens[index] is `column`, bare or as `qualifier.column`."""
    if name(tokens[index]) != column:
        return None
    if index >= 2 and tokens[index - 1].text == ".":
        return (index - 2, True) if name(tokens[index - 2]) == qualifier else None
    if index + 1 < len(tokens) and tokens[index + 1].text in (".", "("):
        return None
    return index, False


def clause(sql, tokens, qualifier, column):
    """The query's own text of a clause constraining `qualifier.column` (or the bare column):
    a comparison (`h.path = p.path`, `path LIKE '/%%'`) or a `USING (...)`; None if not found.
    A qualified match wins over a bare one."""
    best = None
    for index, token in enumerate(tokens):
        found = _refers(tokens, index, qualifier, column)
        if found is None:
            continue
        first, qualified = found
        span = None
        if index + 2 < len(tokens) and tokens[index + 1].text.lower() in _COMPARISONS:
            operand = index + 2 + (1 if name(tokens[index + 2]) == "not" else 0)
            end = _operand_end(tokens, operand) if operand < len(tokens) else None
            span = (first, end) if end is not None else None
        elif first >= 2 and tokens[first - 1].text.lower() in ("=", "=="):
            start = first - 2
            if tokens[start].kind in ("word", "quoted") and start >= 2 and tokens[start - 1].text == ".":
                start -= 2
            span = (start, index)
        elif _in_using(tokens, index):
            span = _in_using(tokens, index)
        if span and (best is None or (qualified and not best[0])):
            best = (qualified, span)
    if best is None:
        return None
    first, last = best[1]
    return sql[tokens[first].start:tokens[last].end]


def _in_using(tokens, index):
    """(first, last) of `USING ( ... )` when tokens[index] is inside its list, else None."""
    position = index
    while position > 0 and (tokens[position - 1].text == "," or tokens[position - 1].kind in ("word", "quoted")):
        position -= 1
    if position >= 2 and tokens[position - 1].text == "(" and name(tokens[position - 2]) == "using":
        close = matching(tokens, position - 1)
        return (position - 2, close) if close is not None else None
    return None
