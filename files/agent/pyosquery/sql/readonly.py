"""The authorizer that keeps every query read-only, local or over the socket."""

import apsw

# Statements that only read. Anything not listed is refused.
ALLOWED = {
    apsw.SQLITE_SELECT, apsw.SQLITE_READ, apsw.SQLITE_FUNCTION, apsw.SQLITE_RECURSIVE,
    apsw.SQLITE_TRANSACTION, apsw.SQLITE_SAVEPOINT,
}

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
