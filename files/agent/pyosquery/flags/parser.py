"""Read flags the way osquery's gflags does: `--name=value` arguments and line-per-flag flagfiles."""

import fnmatch
import os

from pyosquery import bounded
from pyosquery.flags.definitions import lookup
from pyosquery.flags.values import FlagError, Values

DEFAULT_FLAGFILE = "/etc/pyosquery/pyosquery.flags"
# flagfiles may name other flagfiles; a loop must end in an error, not a recursion crash
_MAX_FLAGFILE_DEPTH = 8
MAX_FLAGFILE_SIZE = 1024 * 1024


def _split(token):
    """'--name=value' -> ('name', 'value'); '-name' -> ('name', None)."""
    body = token[2:] if token.startswith("--") else token[1:]
    name, equals, text = body.partition("=")
    return name, (text if equals else None)


def _resolve(name, text):
    """(flag, text) for one assignment; bools take `--name`, `--noname` and `--name=false`."""
    flag = lookup(name)
    if flag is not None:
        if text is None:
            if flag.type != "bool":
                raise FlagError("flag --%s is missing its value" % name)
            text = "true"
        return flag, text
    negated = lookup(name[2:]) if name.startswith("no") else None
    if negated is not None and negated.type == "bool" and text is None:
        return negated, "false"
    raise FlagError("unknown flag --%s" % name)


def _scan_argv(argv):
    """Split argv into [(flag, text)] and positional arguments; `--` ends the flags."""
    assignments, positional = [], []
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "--":
            positional.extend(argv[index:])
            break
        if not token.startswith("-") or token == "-":
            positional.append(token)
            continue
        name, text = _split(token)
        flag = lookup(name)
        if text is None and flag is not None and flag.type != "bool" and index < len(argv):
            text = argv[index]      # `--name value` for a flag that needs a value
            index += 1
        assignments.append(_resolve(name, text))
    return assignments, positional


def _program_matches(line, program):
    """A flagfile line without a leading '-' lists the program names the next flags are for."""
    base = os.path.basename(program or "")
    return any(fnmatch.fnmatch(base, pattern) for pattern in line.split())


def _looks_like_flag(line):
    """A line without '-' that is a flag's name or assignment, not a list of program names."""
    name = line.split("=", 1)[0].strip()
    return "=" in line or lookup(name) is not None or (name.startswith("no") and lookup(name[2:]) is not None)


def _read_flagfile(path, program, depth=0):
    """[(flag, text)] from one flagfile, nested flagfiles expanded in place."""
    if depth > _MAX_FLAGFILE_DEPTH:
        raise FlagError("%s: flagfiles nest too deeply" % path)
    try:
        lines = bounded.read_text(path, MAX_FLAGFILE_SIZE).splitlines()
    except bounded.Unreadable as error:
        raise FlagError("flagfile %s: %s" % (path, error)) from None
    assignments, applies = [], True
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("-"):
            if _looks_like_flag(line):
                raise FlagError("%s:%d: %s: a flag needs its leading '--' (without it the line names the programs "
                                "the next flags are for, and every flag after it would be skipped)"
                                % (path, number, line))
            applies = _program_matches(line, program)
            continue
        if not applies:     # flags for another program may be unknown to this one
            continue
        try:
            flag, text = _resolve(*_split(line))
        except FlagError as error:
            raise FlagError("%s:%d: %s" % (path, number, error)) from None
        if flag.name == "flagfile":
            assignments.extend(_read_flagfile(text, program, depth + 1))
        else:
            assignments.append((flag, text, "%s:%d: " % (path, number)))
    return assignments


def _apply(values, flag, text, where=""):
    try:
        values.set_text(flag.name, text)
    except FlagError as error:
        raise FlagError(where + str(error)) from None


def parse(argv, program=None, default_flagfile=DEFAULT_FLAGFILE):
    """Parse a command line; return (Values, positional arguments). Raises FlagError.

    The flagfile (`--flagfile`, else `default_flagfile` when readable) is applied first, so flags on
    the command line win whatever their position.
    """
    assignments, positional = _scan_argv(list(argv))
    flagfiles = [text for flag, text in assignments if flag.name == "flagfile"]
    if not flagfiles and default_flagfile and os.access(default_flagfile, os.R_OK):
        flagfiles = [default_flagfile]
    values = Values()
    for path in flagfiles:
        for flag, text, where in _read_flagfile(path, program):
            _apply(values, flag, text, where)
        values.set("flagfile", path)
    for flag, text in assignments:
        if flag.name != "flagfile":
            _apply(values, flag, text)
    return values, positional
