"""`--database_dump`: print every key of the store, as osquery prints `<domain>[<key>]: <value>` lines.

The store is opened read-only, so dumping never creates, migrates or locks the daemon's database.
"""

import json

import apsw

# our tables under osquery's domain names, with the column that keys each row
DOMAINS = (("configurations", "settings", "key"), ("queries", "results", "name"),
           ("denylist", "denylist", "name"), ("query_performance", "stats", "name"))


def _value(row, names, key):
    if names == ["key", "value"]:
        return row[1]
    return json.dumps({name: value for name, value in zip(names, row) if name != key},
                      separators=(",", ":"), sort_keys=True)


def dump_lines(path):
    """The dump's lines; none when the store does not exist yet."""
    try:
        db = apsw.Connection(path, flags=apsw.SQLITE_OPEN_READONLY)
        db.execute("SELECT 1 FROM settings LIMIT 1").fetchall()
    except apsw.Error:
        return []
    lines = []
    try:
        for domain, table, key in DOMAINS:
            names = [column[1] for column in db.execute("PRAGMA table_info(%s)" % table)]
            for row in db.execute("SELECT * FROM %s ORDER BY %s" % (table, key)):
                lines.append("%s[%s]: %s" % (domain, row[names.index(key)], _value(row, names, key)))
    finally:
        db.close()
    return lines


def run_database_dump(values, out):
    """Print the dump of --database_path; exit code 0, as osqueryd (an absent store dumps nothing)."""
    for line in dump_lines(values.database_path):
        out.write(line + "\n")
    return 0
