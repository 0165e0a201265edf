"""Expand osquery's path patterns: `%` matches within one level, `%%` recurses.

`WHERE path LIKE '/etc/%.conf'` lists /etc's *.conf; `'/usr/%%'` lists everything below
/usr. Patterns expand as osquery's glob(3) does (GLOB_MARK): a wildcard does not match a
name starting with '.', and a directory found by a pattern ends in '/' (its `directory` is
then the directory itself, as boost's parent_path gives). Walks never follow symlinked
directories, so a link loop cannot trap a query (osquery's glob enters them).
Everything here yields (path, directory) pairs, or with `stat=True` (path, directory, stat
result, is_link): the stat result of what the path names, a symlink followed (osquery's file
attributes are its target's) or its own lstat when it dangles, None when the path is gone. A
recursive listing of a large tree runs this once per file, so the directory is carried along
instead of recomputed, a walk stats each entry relative to its open directory, as find does,
rather than resolving the whole path again, and a symlink is followed once.
"""

import glob
import itertools
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
    """(path, directory, stat result, is_link) below directory `top` as osquery's recursive `%%` glob
    lists them (see `stat` above).

    A link to a directory is listed as `link/`, which names the directory itself (not a link).
    """
    stack = [top]
    lstat = os.lstat
    while stack:
        current = stack.pop()
        fd = _os.open_directory(current)
        if fd is None:
            continue
        prefix = current + "/" if current != "/" else "/"
        try:
            for name in _os.list_dir(fd):
                if name[0] == ".":
                    continue
                try:
                    info = lstat(name, dir_fd=fd)       # inline: this runs once per file
                except OSError as error:
                    if _os.skipped(error):
                        continue
                    raise
                path = prefix + name
                kind = info.st_mode & 0o170000
                if kind == 0o040000:
                    stack.append(path)
                    yield path + "/", path, info, False
                elif kind == 0o120000:
                    target = _os.stat(name, dir_fd=fd)
                    if target is None:
                        yield path, current, info, True         # dangling: its own lstat
                    elif target.st_mode & 0o170000 == 0o040000:
                        yield path + "/", path, target, False
                    else:
                        yield path, current, target, True
                else:
                    yield path, current, info, False
        finally:
            os.close(fd)


def _attributes(path):
    """(stat result, is_link) of one path named outside a walk (see `stat` above)."""
    info = _os.lstat(path)
    if info is None or info.st_mode & 0o170000 != 0o120000:
        return info, False
    return _os.stat(path) or info, True


def _stated(pairs, stat):
    """`pairs` as they are, or with each path's attributes; an empty list stays one (see requested)."""
    if not stat or pairs == []:
        return pairs
    return ((path, directory) + _attributes(path) for path, directory in pairs)


def _glob(pattern):
    # osquery's '%' is glob's '*'; the rest of the pattern is literal
    escaped = glob.escape(pattern.replace("%", "\0")).replace("\0", "*")
    return [_marked(path, os.path.isdir(path)) for path in sorted(glob.glob(escaped))]


def expand(pattern, stat=False):
    """(path, directory) for paths matching one LIKE pattern, the osquery way (see `stat` above).

    Relative patterns match nothing. An iterator, not a generator: a recursive walk's entries
    pass through it to the table in C (itertools.chain), not through one more Python frame each.
    """
    if not pattern.startswith("/"):
        return iter(())
    if not pattern.endswith("%%"):
        return iter(_stated(_matches(pattern), stat))
    base = pattern[:-2]
    if base.endswith("/"):
        tops, found = [base], []
    else:
        tops = _glob(base + "%")
        found = _stated([(top, parent(top)) for top in tops], stat)
    walks = (glob_walk(top.rstrip("/") or "/") for top in tops
             if top.endswith("/") and not os.path.islink(top.rstrip("/") or "/"))
    if not stat:
        walks = (((path, directory) for path, directory, _, _ in walk) for walk in walks)
    return itertools.chain(found, itertools.chain.from_iterable(walks))


def exact(pattern):
    """True when every path `expand(pattern)` yields matches SQLite's `LIKE pattern`, so SQLite need
    not check them again (see tables/context.py exact_like).

    So for a plain absolute path followed by '%' or '%%' ('/usr/%%', '/etc/ssh/%', '/usr/li%'):
    every path found starts with that literal text, and the trailing '%' matches the rest,
    directory marks included. '_' in the literal is safe (the walk yields the '_' itself, which
    LIKE's '_' matches), and LIKE ignores case where the walk does not, so the walk finds fewer
    paths than LIKE would accept, never others. Not so for a '%' before the end ('/usr/l%b' lists
    the directory as '/usr/lib/', which the pattern does not match) nor for '//' (glob and the
    walk print a doubled slash as one).
    """
    if not isinstance(pattern, str) or not pattern.startswith("/") or not pattern.endswith("%"):
        return False
    literal = pattern.rstrip("%")
    return "%" not in literal and "//" not in literal


def _matches(pattern):
    """(path, directory) for a pattern without a trailing %%: one path, or one level's glob."""
    if "%" not in pattern:
        return [(pattern, parent(pattern))] if os.path.lexists(pattern) else []
    return [(path, parent(path)) for path in _glob(pattern)]


def listing(directory):
    """(path, directory) for the direct entries of a directory, as `WHERE directory = ...` asks.

    The directory keeps the spelling the query gave, so SQLite's own re-check holds.
    """
    if not isinstance(directory, str):
        return []
    return [(os.path.join(directory, name), directory) for name in sorted(_os.list_dir(directory))]


def requested(context, path_column="path", directory_column="directory", stat=False):
    """(path, directory) for every path a file-like table's constraints name (see `stat` above).

    Sources: `path =`, `path LIKE`, `directory =` and `directory LIKE`; a path named by
    several of them is listed once.
    """
    named = [(path, parent(path)) for path in context.equals(path_column) or () if isinstance(path, str)]
    sources = [_stated(named, stat)]
    sources += [expand(pattern, stat) for pattern in context.patterns(path_column) if isinstance(pattern, str)]
    directories = list(context.equals(directory_column) or ())
    for pattern in context.patterns(directory_column):
        if isinstance(pattern, str):
            directories.extend(path for path, _ in expand(pattern))
    sources += [_stated(listing(directory), stat) for directory in directories]
    sources = [source for source in sources if source != []]
    if len(sources) == 1:
        return sources[0]
    return _unique(sources)


def _unique(sources):
    seen = set()
    for source in sources:
        for item in source:
            if item[0] not in seen:
                seen.add(item[0])
                yield item
