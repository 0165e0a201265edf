"""Plan advisor benchmarks: advising one query in a warm engine, against reading its plan by hand.

Run by `make bench`. The peer is the query's own EXPLAIN QUERY PLAN in the same engine, planned
afresh (not from the statement cache): what an expert reads, and the floor of anything built on
it, since the advisor plans the query too. Each advice uses a fresh Advisor, so the
host's counts (processes, mounts' inodes, count(*) of cheap tables) are taken every time, as a
one-shot `pyosqueryi --advise` takes them; a config check shares one Advisor for all its queries.
Results go into benchmarks/README.md between the `advisor` markers.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import median_ms  # noqa: E402  pylint: disable=wrong-import-position
from report import publish  # noqa: E402  pylint: disable=wrong-import-position

from pyosquery.advisor import Advisor  # noqa: E402  pylint: disable=wrong-import-position
from pyosquery.sql.engine import Engine  # noqa: E402  pylint: disable=wrong-import-position

QUERIES = (
    ("slide 37: processes read twice", "SELECT * FROM processes JOIN process_open_sockets USING (pid) "
     "JOIN hash USING (path) WHERE pid IN (SELECT pid FROM processes WHERE uid = 0)"),
    ("slide 38", "SELECT * FROM processes JOIN process_open_sockets USING (pid) JOIN hash USING (path) "
     "WHERE uid = 0"),
    ("file LIKE '/%%'", "SELECT * FROM file WHERE path LIKE '/%%'"),
    ("six users cross join", "select 1 from users, users, users, users, users, users"),
    ("processes WHERE pid = 1", "SELECT * FROM processes WHERE pid = 1"),
)
RUNS = 30


def bench_one_query(engine, rows):
    for label, sql in QUERIES:
        Advisor(engine).advise(sql, interval=3600)      # warm: tables connected, modules imported
        ours = median_ms(lambda sql=sql: Advisor(engine).advise(sql, interval=3600), RUNS)
        peer = median_ms(lambda sql=sql: engine.explain(sql), RUNS)
        rows.append(("advise %s" % label, ours, "EXPLAIN QUERY PLAN", peer, ours / peer, "< 100 ms"))


def bench_config_check(engine, rows, count=100):
    """A config check's share: `count` queries advised by one Advisor, against planning them by hand."""
    queries = ["%s AND %d = %d" % (sql, i, i) if "WHERE" in sql else "%s WHERE %d = %d" % (sql, i, i)
               for i in range(count // len(QUERIES)) for _, sql in QUERIES]

    def advise_all():
        advisor = Advisor(engine)
        for sql in queries:
            advisor.advise(sql, interval=3600)

    def prepare_all():
        for sql in queries:
            engine.explain(sql)

    ours = median_ms(advise_all, 5) / len(queries)
    peer = median_ms(prepare_all, 5) / len(queries)
    rows.append(("--config_check advice, %d queries: per query" % len(queries), ours,
                 "EXPLAIN QUERY PLAN", peer, ours / peer, "-"))


def main():
    engine = Engine()
    rows = []
    bench_one_query(engine, rows)
    bench_config_check(engine, rows)
    cells = [(name, "%.2f" % ours, peer_name, "%.2f" % peer, "%.1f" % ratio, target)
             for name, ours, peer_name, peer, ratio, target in rows]
    publish("advisor", ("measurement", "ours (ms)", "peer", "peer (ms)", "ratio", "target"), cells)


if __name__ == "__main__":
    main()
