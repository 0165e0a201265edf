"""osqueryi's profile mode (`--profile N`): run one query N times and print nothing, for a profiler to watch.

The delays before and after give a sampler that started this process time to see it idle, then to take its
last reading after the query ended (memory, descriptors and CPU time are read from that last sample).
"""

import time

from pyosquery.shell.session import error_text

NO_QUERY = "No query provided via stdin or args to profile..."
# osqueryi exits with the SQLite status of a failed query; every failure we see is SQLITE_ERROR
QUERY_FAILED = 1


def run_profile(engine, sql, count, delay, err):
    """Run `sql` `count` times between two sleeps of `delay` seconds; return the exit code."""
    if not sql or not sql.strip():
        err.write(NO_QUERY + "\n")
        return 2
    time.sleep(delay)
    for _run in range(count):
        try:
            engine.query(sql)   # rows are built and dropped: producing them is the cost measured
        except Exception as error:   # pylint: disable=broad-except  # any failure ends the run with its message
            err.write("Query failed (%d): %s\n" % (QUERY_FAILED, error_text(error)))
            return QUERY_FAILED
    time.sleep(delay)
    return 0
