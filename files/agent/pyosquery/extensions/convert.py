"""Values and messages as osquery puts them on the wire: every cell a string, NULL as ""."""

from osquery.extensions.ttypes import InternalOptionInfo


def cell_text(value):
    """A SQLite value as the string osquery sends (numbers in decimal, NULL as "")."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float):
        return repr(value)    # the shortest text that reads back as the same double
    if isinstance(value, str):
        return value if value.isascii() else _wire_safe(value)
    return str(value)


def _wire_safe(text):
    # Paths decoded with surrogateescape would make thrift's UTF-8 encoding fail mid-reply.
    return text.encode("utf-8", "replace").decode("utf-8")


def row_map(names, row):
    """One result row as osquery's string map (a repeated column name keeps its last value)."""
    return dict(zip(names, map(cell_text, row)))


def error_message(error):
    """SQLite's own words, without a leading exception class name that some apsw versions add."""
    text = str(error)
    prefix = type(error).__name__ + ": "
    return text[len(prefix):] if text.startswith(prefix) else text


def flag_text(value):
    """A flag value as gflags prints it (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def flag_type(value):
    """gflags' type name for a Python value, when the provider does not name one."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int32"
    if isinstance(value, float):
        return "double"
    return "string"


def option_info(value):
    """InternalOptionInfo from a provider entry: (value, default, type) or a bare value."""
    if isinstance(value, InternalOptionInfo):
        return value
    if isinstance(value, tuple) and len(value) == 3:
        current, default, kind = value
        return InternalOptionInfo(value=flag_text(current), default_value=flag_text(default),
                                  type=kind or flag_type(current))
    return InternalOptionInfo(value=flag_text(value), default_value=flag_text(value), type=flag_type(value))
