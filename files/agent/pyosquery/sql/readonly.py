"""The authorizer that keeps every query read-only, local or over the socket."""

import re

import apsw

# Actions that only read. Anything not listed is refused: transactions too, as an open one would
# stay on the connection that the scheduler and every socket client share.
ALLOWED = {apsw.SQLITE_SELECT, apsw.SQLITE_READ, apsw.SQLITE_FUNCTION, apsw.SQLITE_RECURSIVE}

# The statements that may run, by their first keyword. Some statements reach no authorizer check
# at all (REINDEX with no argument), so the kind of statement is checked too.
STATEMENTS = {"SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN"}
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*([A-Za-z]*)", re.S)

# PRAGMAs that report and change nothing, with or without an argument.
READ_ONLY_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "function_list", "module_list", "pragma_list", "collation_list",
    "database_list", "compile_options", "encoding", "user_version", "schema_version",
    "application_id", "case_sensitive_like_status",
}

REFUSED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


class ReadOnlyError(apsw.AuthError):
    """A statement that would change state, which the agent never runs."""


def check_statement(cursor, sql):
    """An apsw exec tracer's check, before each statement runs: refuse what is not a read."""
    word = _FIRST_WORD.match(sql).group(1).upper()
    if word and word not in STATEMENTS:     # no word: only comments, nothing runs
        raise ReadOnlyError("refused: %s; pyosquery SQL is read-only" % word)
    if not cursor.is_readonly:
        raise ReadOnlyError("refused: %s that writes; pyosquery SQL is read-only" % word)


def _action_name(code):
    return apsw.mapping_authorizer_function.get(code, str(code)).replace("SQLITE_", "")


def authorize(code, arg1, arg2, _database, _trigger):
    """apsw authorizer: allow reads, refuse writes, ATTACH, load_extension and PRAGMA writes."""
    if code == apsw.SQLITE_FUNCTION:
        if arg2 and arg2.lower() in REFUSED_FUNCTIONS:
            raise ReadOnlyError("refused: function %s(); pyosquery SQL is read-only" % arg2)
        return apsw.SQLITE_OK
    if code in ALLOWED:
        return apsw.SQLITE_OK
    if code == apsw.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in READ_ONLY_PRAGMAS and not (arg2 and name in ("user_version", "application_id")):
            return apsw.SQLITE_OK
        raise ReadOnlyError("refused: PRAGMA %s%s; pyosquery SQL is read-only"
                            % (arg1, "" if arg2 is None else "=" + str(arg2)))
    if arg1 in ("sqlite_master", "sqlite_temp_master", "sqlite_schema"):
        raise ReadOnlyError("refused: schema change; pyosquery SQL is read-only")
    target = " %s" % arg1 if arg1 else ""
    raise ReadOnlyError("refused: %s%s; pyosquery SQL is read-only" % (_action_name(code), target))
