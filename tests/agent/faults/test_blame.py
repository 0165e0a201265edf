"""Issue 11, item 1: only the query that ran is blamed. A socket client's expensive query is stopped
by its own budget and reported to that client; the scheduled queries that waited are untouched."""

import json
import os
import threading

import pytest

from daemon_harness import schedule, status_log, worker
from pyosquery import config as config_lib
from pyosquery import flags
from pyosquery.logger.results import ResultsLog
from pyosquery.scheduler.packs import PackSet
from pyosquery.scheduler.runner import MARKER, Scheduler
from pyosquery.sql.engine import Engine
from pyosquery.store.db import Store

CPUS = os.cpu_count() or 1
UTILIZATION = max(1, 100 // (2 * CPUS))       # one busy core always crosses it (see test_watchdog)
LIMIT_FLAGS = ["--watchdog_delay=1", "--watchdog_forced_shutdown_delay=1", "--watchdog_latency_limit=3",
               "--watchdog_memory_limit=60"]
# never ends on its own: only an interrupt stops it
ENDLESS = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
# grows a string by 1 MB at a time, past any budget, with little CPU per megabyte
GROWING = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000000) "
           "SELECT length(group_concat(CASE WHEN i % 1000 = 0 THEN printf('%.*c', 1000000, 'x') END)) AS n FROM r")


@pytest.mark.parametrize("sql, utilization, budget", [(ENDLESS, UTILIZATION, "CPU budget"),
                                                      (GROWING, 100, "memory by more than its budget of 30 MB")])
def test_a_socket_query_over_budget_is_stopped_and_nothing_scheduled_is_blamed(daemons, sql, utilization, budget):
    limits = LIMIT_FLAGS + ["--watchdog_utilization_limit=%d" % utilization]
    daemon = daemons({"schedule": {"t": {"query": "SELECT 1 AS one", "interval": 1}}}, extra_flags=limits).start()
    first = worker(daemon)[0]
    daemon.wait_for(lambda: int(schedule(daemon)["t"]["executions"]) >= 1, "a scheduled run")
    response = daemon.ask(sql)
    assert response.status.code != 0 and budget in response.status.message, response.status.message
    state = daemon.query("SELECT worker_pid, worker_restarts, last_denylisted_query FROM osquery_watchdog")[0]
    assert state == {"worker_pid": str(first), "worker_restarts": "0", "last_denylisted_query": ""}
    ran = int(schedule(daemon)["t"]["executions"])
    daemon.wait_for(lambda: int(schedule(daemon)["t"]["executions"]) > ran, "the schedule to go on")
    assert schedule(daemon)["t"]["denylisted"] == "0"
    assert "Scheduled query may have failed" not in status_log(daemon)


class _Announcing:
    """The engine's lock, saying when someone starts to wait for it."""

    def __init__(self, lock):
        self.lock = lock
        self.wanted = threading.Event()

    def __enter__(self):
        self.wanted.set()
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def test_a_scheduled_query_waiting_for_the_engine_is_not_marked_as_executing(tmp_path):
    path = tmp_path / "pyosquery.conf"
    path.write_text(json.dumps({"schedule": {"t": {"query": "SELECT 1 AS one", "interval": 1}}}))
    values, _ = flags.parse(["--flagfile=/dev/null", "--config_path=%s" % path, "--logger_path=%s" % tmp_path],
                            "pyosqueryd")
    engine, store = Engine(), Store()
    packs = PackSet(config_lib.load(str(path), values), values)
    scheduler = Scheduler(engine, store, ResultsLog(values), values, packs, lambda: "host")
    scheduler.use(packs)
    held, engine.lock = engine.lock, _Announcing(engine.lock)
    with held:      # a socket client's query holds the engine
        waiting = threading.Thread(target=scheduler.execute, args=(next(packs.all_queries()), 0))
        waiting.start()
        assert engine.lock.wanted.wait(10)
        assert store.get(MARKER, "") == ""
    waiting.join(10)
    assert store.get(MARKER, "") == "" and scheduler.stats["t"]["executions"] == 1
