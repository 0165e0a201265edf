"""auto_table_construction: tables the config declares over SQLite files on disk, as osquery's ATC.

    "auto_table_construction": {"<table>": {"query": "SELECT ...", "path": "/home/%/app.db",
                                           "columns": ["a", "b"], "platform": "linux"}}

Each scan runs `query` on every file `path` matches (`%` is a wildcard, as in osquery's file
patterns), opened read-only, and yields the named columns (as text) plus `path`. A file that
is not a readable SQLite database, or where the query fails, gives no rows.
"""

import glob
import threading

import apsw

from pyosquery.config.shard import platform_applies
from pyosquery.tables.spec import Column, Table


def _definitions(data, warnings):
    """{table: (query, path, columns)} of the config's valid ATC entries on this platform."""
    found = {}
    for name, body in sorted((data.get("auto_table_construction") or {}).items()):
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) \
                or not isinstance(body.get("path"), str) or not isinstance(body.get("columns"), list):
            warnings.append("auto_table_construction: %s needs query, path and columns" % name)
            continue
        if platform_applies(str(body.get("platform") or "")):
            found[name] = (body["query"], body["path"], [str(c) for c in body["columns"]])
    return found


def _scan(query, pattern, columns):
    for path in sorted(glob.glob(pattern.replace("%", "*"))):
        try:
            db = apsw.Connection(path, flags=apsw.SQLITE_OPEN_READONLY)
            try:
                cursor = db.execute(query)
                names = [d[0] for d in cursor.getdescription()]
                rows = cursor.fetchall()
            finally:
                db.close()
        except apsw.Error:
            continue
        for row in rows:
            values = dict(zip(names, row))
            item = {c: None if values.get(c) is None else str(values[c]) for c in columns}
            item["path"] = path
            yield item


class AutoTables:
    """The ATC tables served on one engine; a reload updates their queries and paths in place."""

    def __init__(self, engine):
        self.engine = engine
        self._current = {}
        self._mutex = threading.Lock()

    def install(self, data, warnings):
        """Serve the config's ATC tables; returns their names. A name a built-in table has is refused."""
        definitions = _definitions(data, warnings)
        with self._mutex:
            known = dict(self._current)
            self._current = {n: d for n, d in definitions.items() if n in known or n not in self.engine.tables}
        for name in sorted(set(definitions) - set(self._current)):
            warnings.append("auto_table_construction: %s is a built-in table" % name)
        with self.engine.lock:
            for name, (_query, _path, columns) in self._current.items():
                if name not in known:
                    spec = Table(name, None, ["auto_table_construction"], "Auto-constructed table", "",
                                 [Column(c, "TEXT", []) for c in columns] + [Column("path", "TEXT", [])])
                    self.engine.add_table(spec, self._generator(name))
            for name in set(known) - set(self._current):
                self.engine.tables.pop(name, None)
        return sorted(self._current)

    def _generator(self, name):
        def generate(_context):
            with self._mutex:
                definition = self._current.get(name)
            if definition is None:
                from pyosquery.sql.vtable import QueryError   # pylint: disable=import-outside-toplevel
                raise QueryError("no such table: %s" % name)
            return _scan(*definition)
        return generate
