"""Read one config or pack file as osquery's filesystem plugin does: strip comments, check limits, parse JSON."""

import json

from pyosquery import bounded

MAX_SIZE = 4 * 1024 * 1024      # bytes after comment stripping (osquery 5.12)
MAX_FILE_SIZE = 2 * MAX_SIZE    # bytes read at most: comments may take as much room as the config
MAX_DEPTH = 32                  # nested objects/arrays, the root object counting as one


class ConfigError(Exception):
    """A config that cannot be used. Each message names its file (and line and column, or JSON path)."""

    def __init__(self, *messages):
        super().__init__("\n".join(messages))
        self.messages = list(messages)


def read_text(path):
    try:
        return bounded.read_text(path, MAX_FILE_SIZE)
    except bounded.Unreadable as error:
        raise ConfigError("%s: %s" % (path, error)) from None


def _is_comment(line):
    stripped = line.strip()
    return stripped.startswith("#") or stripped.startswith("//")


def strip_comments(text):
    """osquery's stripConfigComments: join backslash-newline pairs, trim lines, drop `#` and `//` lines."""
    lines = text.replace("\\\n", "").split("\n")
    return "\n".join(line.strip() for line in lines if not _is_comment(line))


def _same_lines(text):
    """JSON equal to strip_comments(text), but keeping the file's line and column numbers for errors.

    Comment lines become empty lines; the newlines of joined lines move to the end of the joined line.
    """
    out = []
    for line in text.replace("\\\n", "\0").split("\n"):
        pieces = line.split("\0")
        whole = "".join(pieces)
        out.append(("" if _is_comment(whole) else whole) + "\n" * (len(pieces) - 1))
    return "\n".join(out)


def _reject_constant(name):
    # rapidjson parses strictly: NaN and Infinity are not JSON
    raise ValueError("%s is not valid JSON" % name)


def _depth(value):
    """Nesting depth of containers, iteratively so a deep document cannot exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _first_wins(duplicates):
    """An object hook keeping the first of duplicate keys, as rapidjson's member lookup does."""
    def hook(pairs):
        obj = {}
        for key, value in pairs:
            if key in obj:
                duplicates.append(key)
            else:
                obj[key] = value
        return obj
    return hook


def parse(path, text):
    """(JSON object, warnings) for `text`, the content of `path`; raises ConfigError."""
    if len(strip_comments(text).encode("utf-8")) > MAX_SIZE:
        raise ConfigError("%s: the config size exceeds the limit of %d bytes" % (path, MAX_SIZE))
    try:
        duplicates = []
        data = json.loads(_same_lines(text), parse_constant=_reject_constant, object_pairs_hook=_first_wins(duplicates))
    except json.JSONDecodeError as error:
        raise ConfigError("%s:%d:%d: JSON error: %s" % (path, error.lineno, error.colno, error.msg)) from None
    except ValueError as error:
        raise ConfigError("%s: JSON error: %s" % (path, error)) from None
    except RecursionError:
        raise ConfigError("%s: Configuration has too many nesting levels!" % path) from None
    if not isinstance(data, dict):
        raise ConfigError("%s: the config root must be a JSON object" % path)
    if _depth(data) > MAX_DEPTH:
        raise ConfigError("%s: Configuration has too many nesting levels!" % path)
    return data, ["%s: duplicate key \"%s\": the first one is used" % (path, key) for key in duplicates]
