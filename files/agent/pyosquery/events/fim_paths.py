"""The config's `file_paths`, `exclude_paths` and `file_accesses` as inotify targets, with osquery's glob rules.

`%` is `*` (one path level), `%%` makes the directory before it a tree watched recursively; a
wildcard in the last part (`/bin/%sh`) watches the directory and keeps the names it matches; a
wildcard higher up (`/home/%/.ssh/`) is expanded when the config loads (a home added later needs
a config reload, as in osquery). A plain directory (with or without its trailing `/`) is watched
one level deep; a plain file is watched itself. Paths are canonical (symlinks resolved), as
osquery canonicalises the part before the first wildcard.

Exclusions are osquery's (events/pathset.h): one set for every category, matched against an
event's path and against its directory, part by part; `%` is one part, a trailing `%` or `%%`
also covers everything below. (osquery takes `abc%` in an exclusion literally; here it matches
as it does in file_paths.)

file_paths from every config file (conf.d included) and from packs are merged, as osquery's
parser keeps each source's; a pack's are used whatever its discovery queries say.
`file_paths_query` (paths from a query's rows) is not supported: a warning says so.
"""

import collections
import fnmatch
import glob
import os
import re

from pyosquery.config.source import ConfigError, parse
from pyosquery.config.validate import json_path

Owner = collections.namedtuple("Owner", "category leaf recursive accesses")   # leaf: name matcher or None
Target = collections.namedtuple("Target", "path owner")     # path: a directory ending in "/", or a file
Rules = collections.namedtuple("Rules", "targets excludes subscriptions warnings")


def _sections(config):
    """[(file, JSON path prefix, object)] holding FIM keys: each config file, its inline packs, the pack files.
    `config` is a loaded config.loader.Config, or one plain config object."""
    if isinstance(config, dict):
        return [("config", (), config)]
    found = []
    for path, text in list(config.sources.items()) + list(config.pack_files.items()):
        try:
            data = parse(path, text)[0]
        except ConfigError:
            continue        # the loader reported it
        found.append((path, (), data))
        for name, body in (data.get("packs") or {}).items():
            if isinstance(body, dict):
                found.append((path, ("packs", name), body))
    return found


def _has_wildcard(text):
    return glob.has_magic(text)


def _directories(pattern):
    """Canonical directories (ending in "/") that `pattern` names or matches."""
    candidates = glob.glob(pattern) if _has_wildcard(pattern) else [pattern]
    return sorted({os.path.realpath(path) + "/" for path in candidates if os.path.isdir(path)})


def _paths(pattern):
    """Canonical files and directories (these ending in "/") that `pattern` names or matches."""
    candidates = glob.glob(pattern) if _has_wildcard(pattern) else [pattern]
    found = set()
    for path in candidates:
        if os.path.isdir(path):
            found.add(os.path.realpath(path).rstrip("/") + "/")
        elif os.path.exists(path):
            found.add(os.path.realpath(path))
    return sorted(found)


def targets(text, category, accesses):
    """([Target], problem or None) for one file_paths glob."""
    pattern = text.replace("%", "*")
    if not pattern.startswith("/"):
        return [], "not an absolute path"
    problem = None
    if "**" in pattern:
        head, _, tail = pattern.partition("**")
        if tail.strip("/"):
            problem = "'%s' after %%%% is ignored: the tree is watched whole" % tail
        owner = Owner(category, None, True, accesses)
        found = _directories(head)
    else:
        directory, _, leaf = pattern.rpartition("/")
        if _has_wildcard(leaf):
            owner = Owner(category, re.compile(fnmatch.translate(leaf)).match, False, accesses)
            found = _directories(directory + "/")
        else:
            owner = Owner(category, None, False, accesses)
            found = _paths(pattern)
    if not found:
        problem = "no such directory" if owner.recursive or owner.leaf else "no such file or directory"
    return [Target(path, owner) for path in found], problem


def _parts(path):
    return [part for part in path.split("/") if part]


def _part_matches(pattern, part):
    return pattern == "*" or pattern == part or (_has_wildcard(pattern) and fnmatch.fnmatchcase(part, pattern))


class Excludes:
    """exclude_paths: every category's patterns, matched part by part as osquery's PathSet does."""

    def __init__(self, patterns):
        self.patterns = [_parts(pattern.replace("%", "*")) for pattern in patterns]

    @staticmethod
    def _matches(pattern, parts):
        if pattern and pattern[-1] in ("*", "**"):
            # a trailing "**" covers its directory too, a trailing "*" one level and below
            head = pattern[:-1]
            deep_enough = len(parts) >= (len(head) if pattern[-1] == "**" else len(pattern))
            return deep_enough and all(map(_part_matches, head, parts))
        return len(parts) == len(pattern) and all(map(_part_matches, pattern, parts))

    def for_directory(self, directory):
        """(every entry of `directory` is excluded, a test for one entry's name or None): computed once per watch,
        so an event costs a name test only where an exclusion reaches below the directory."""
        parts = _parts(directory)
        if any(self._matches(pattern, parts) for pattern in self.patterns):
            return True, None
        near = [pattern for pattern in self.patterns
                if all(map(_part_matches, [p for p in pattern if p != "**"][:len(parts)], parts))]
        if not near:
            return False, None
        return False, lambda name: any(self._matches(pattern, parts + [name]) for pattern in near)

    def covers(self, path):
        parts = _parts(path)
        return any(self._matches(pattern, parts) for pattern in self.patterns)


def _categories(data, key):
    value = data.get(key)
    return value.items() if isinstance(value, dict) else ()


def rules(config):
    """Rules from a loaded config: the targets to watch, the exclusions, the number of subscriptions
    (globs) and the warnings, each naming its file, JSON path and glob."""
    sections = _sections(config)
    accesses, excluded, known = set(), [], set()
    for _, _, data in sections:
        accesses.update(item for item in data.get("file_accesses") or () if isinstance(item, str))
        for _, patterns in _categories(data, "exclude_paths"):
            excluded.extend(item for item in patterns if isinstance(item, str) and item)
    found, warnings, subscriptions = [], [], 0
    for source, where, data in sections:
        for category, patterns in _categories(data, "file_paths"):
            known.add(category)
            for index, text in enumerate(patterns):
                if not isinstance(text, str) or not text:
                    continue        # osquery skips empty patterns
                subscriptions += 1
                more, problem = targets(text, category, category in accesses)
                found.extend(more)
                if problem:
                    location = json_path(list(where) + ["file_paths", category, index])
                    warnings.append("%s: %s: %s: %s" % (source, location, text, problem))
    for source, where, data in sections:
        if data.get("file_paths_query"):
            warnings.append("%s: %s: not supported by pyosquery; ignored"
                            % (source, json_path(list(where) + ["file_paths_query"])))
        for index, category in enumerate(data.get("file_accesses") or ()):
            if category not in known:
                location = json_path(list(where) + ["file_accesses", index])
                warnings.append("%s: %s: %s: no such category in file_paths" % (source, location, category))
    return Rules(found, Excludes(excluded), subscriptions, warnings)
