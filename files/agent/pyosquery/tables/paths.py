"""Expand osquery's path patterns: `%` matches within one level, `%%` recurses.

`WHERE path LIKE '/etc/%.conf'` lists /etc's *.conf; `'/usr/%%'` lists everything below
/usr. Patterns expand as osquery's glob(3) does (GLOB_MARK): a wildcard does not match a
name starting with '.', and a directory found by a pattern ends in '/' (its `directory` is
then the directory itself, as boost's parent_path gives). Walks never follow symlinked
directories, so a link loop cannot trap a query (osquery's glob enters them).
Everything here yields (path, directory) pairs: a recursive listing of a large tree runs
this once per file, so the directory is carried along instead of recomputed.
"""

import glob
import os

from pyosquery.tables import _os


def parent(path):
    head = path[:path.rfind("/")]
    return head or "/"


def walk(top):
    """(path, directory) for everything below directory `top`, without following links."""
    stack = [top]
    while stack:
        current = stack.pop()
        for entry in _os.scan_dir(current):
            yield entry.path, current
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
            except OSError:
                continue


def _marked(path, is_dir):
    return path + "/" if is_dir and not path.endswith("/") else path


def glob_walk(top):
    """(path, directory) below directory `top` as osquery's recursive `%%` glob lists them."""
    stack = [top]
    while stack:
        current = stack.pop()
        for entry in _os.scan_dir(current):
            if entry.name[0] == ".":
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():
                    stack.append(entry.path)
                yield entry.path + "/", entry.path
            else:
                yield entry.path, current


def _glob(pattern):
    # osquery's '%' is glob's '*'; the rest of the pattern is literal
    escaped = glob.escape(pattern.replace("%", "\0")).replace("\0", "*")
    return [_marked(path, os.path.isdir(path)) for path in sorted(glob.glob(escaped))]


def expand(pattern):
    """(path, directory) for paths matching one LIKE pattern, the osquery way.

    Relative patterns match nothing.
    """
    if not pattern.startswith("/"):
        return
    if "%" not in pattern:
        if os.path.lexists(pattern):
            yield pattern, parent(pattern)
        return
    if not pattern.endswith("%%"):
        for path in _glob(pattern):
            yield path, parent(path)
        return
    base = pattern[:-2]
    if base.endswith("/"):
        tops = [base]
    else:
        tops = _glob(base + "%")
        for top in tops:
            yield top, parent(top)
    for top in tops:
        if top.endswith("/") and not os.path.islink(top.rstrip("/") or "/"):
            yield from glob_walk(top.rstrip("/") or "/")


def listing(directory):
    """(path, directory) for the direct entries of a directory, as `WHERE directory = ...` asks.

    The directory keeps the spelling the query gave, so SQLite's own re-check holds.
    """
    if not isinstance(directory, str):
        return []
    return [(os.path.join(directory, name), directory) for name in sorted(_os.list_dir(directory))]


def requested(context, path_column="path", directory_column="directory"):
    """(path, directory) for every path a file-like table's constraints name.

    Sources: `path =`, `path LIKE`, `directory =` and `directory LIKE`; a path named by
    several of them is listed once.
    """
    sources = [[(path, parent(path)) for path in context.equals(path_column) or () if isinstance(path, str)]]
    sources += [expand(pattern) for pattern in context.patterns(path_column) if isinstance(pattern, str)]
    directories = list(context.equals(directory_column) or ())
    for pattern in context.patterns(directory_column):
        if isinstance(pattern, str):
            directories.extend(path for path, _ in expand(pattern))
    sources += [listing(directory) for directory in directories]
    sources = [source for source in sources if source != []]
    if len(sources) == 1:
        return sources[0]
    return _unique(sources)


def _unique(sources):
    seen = set()
    for source in sources:
        for path, directory in source:
            if path not in seen:
                seen.add(path)
                yield path, directory
