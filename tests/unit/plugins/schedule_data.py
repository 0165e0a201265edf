"""schedule_info results for unit tests, in the module's exact shape (the shared contract).

A FakeAgent keeps a host's schedule the way the agent does (lifetime counters, the last 100
runs per query in osquery_schedule_runs, osquery_watchdog's counters) while the test moves its
clock; read() returns what pyosquery.fleet.schedule_info would return, and read(since=baseline)
adds the deltas the module computes from an earlier result.
"""

import random

KEEP_RUNS = 100            # osquery_schedule_runs keeps the last 100 runs of each query
START = 1_699_999_200.0      # a whole hour, so runs fall on predictable seconds


def cost(cpu_ms=5.0, wall_ms=None, memory=0, output_size=200, rows=2, user_share=0.75):
    """Figures of one run, as a dict FakeAgent.tick() accepts."""
    return {"cpu_ms": float(cpu_ms), "wall_ms": float(wall_ms if wall_ms is not None else cpu_ms * 1.2 + 0.5),
            "memory": int(memory), "output_size": int(output_size), "rows": rows, "user_share": user_share}


class FakeAgent:
    """One host's agent as schedule_info sees it."""

    def __init__(self, hostname, cpu_limit_ms=600, memory_limit_mb=200, seed=0):
        self.hostname = hostname
        self.now = START
        self.queries = {}
        self.random = random.Random("%s-%s" % (hostname, seed))
        self.start_time = int(START) - 3600
        self.instance_id = "instance-%s-1" % hostname
        self.watchdog = {"watcher_pid": 100, "worker_pid": 101, "worker_start_time": self.start_time,
                         "worker_restarts": 0, "quick_restarts": 0, "last_stop_reason": "", "last_stop_time": 0,
                         "last_exit": "", "last_denylisted_query": "", "cpu_limit_ms": cpu_limit_ms,
                         "memory_limit_mb": memory_limit_mb, "latency_limit_s": 12, "delay_s": 60}

    # the schedule

    def add(self, name, interval, base=None, jitter=0.1, sql=None):
        """Schedule a query; each run costs `base` (a cost() dict) times a random factor within +-jitter."""
        self.queries[name] = {"sql": sql or "SELECT 1 -- %s" % name, "interval": interval, "base": base or cost(),
                              "jitter": jitter, "runs": [], "denylisted": False}

    def remove(self, name):
        del self.queries[name]

    def change_sql(self, name, sql):
        """A changed query: the agent resets its stats, as osquery does."""
        query = self.queries[name]
        query.update(sql=sql, runs=[])

    def set_cost(self, name, base):
        self.queries[name]["base"] = base

    def tick(self, seconds):
        """Move the clock; every query not denylisted runs at each multiple of its interval."""
        end = self.now + seconds
        for query in self.queries.values():
            if query["denylisted"]:
                continue
            due = (int(self.now) // query["interval"] + 1) * query["interval"]
            while due <= end:
                query["runs"].append(self._run(query, due))
                due += query["interval"]
        self.now = end

    def _run(self, query, started):
        base, spread = query["base"], query["jitter"]
        factor = 1 + self.random.uniform(-spread, spread)
        cpu = round(base["cpu_ms"] * factor, 3)
        user = round(cpu * base["user_share"], 3)
        return {"started": float(started), "lateness_ms": round(self.random.uniform(0, 3), 3),
                "wall_ms": round(base["wall_ms"] * factor, 3), "user_ms": user, "system_ms": round(cpu - user, 3),
                "cpu_ms": cpu, "memory": int(base["memory"] * factor), "rows": base["rows"],
                "output_size": int(base["output_size"] * factor)}

    # events

    def denylist(self, name, stop_reason=None):
        """The watchdog stopped the worker while `name` ran: the next worker denylists it."""
        self.queries[name]["denylisted"] = True
        self.watchdog.update(last_denylisted_query=name, worker_restarts=self.watchdog["worker_restarts"] + 1,
                             last_stop_reason=stop_reason or "Maximum sustainable CPU utilization limit 600ms exceeded "
                             "for 12 seconds", last_stop_time=int(self.now), last_exit="0",
                             worker_start_time=int(self.now), worker_pid=self.watchdog["worker_pid"] + 1)

    def restart_worker(self, exit_text="signal 9"):
        """The worker died on its own (no watchdog stop) and the watcher started another."""
        self.watchdog.update(worker_restarts=self.watchdog["worker_restarts"] + 1, last_exit=exit_text,
                             worker_start_time=int(self.now), worker_pid=self.watchdog["worker_pid"] + 1)

    def restart_agent(self):
        """The whole agent restarted: new start time and instance, the watchdog's counters from zero."""
        self.start_time = int(self.now)
        self.instance_id = self.instance_id[:-1] + str(int(self.instance_id[-1]) + 1)
        self.watchdog.update(worker_restarts=0, quick_restarts=0, last_stop_reason="", last_stop_time=0, last_exit="",
                             worker_start_time=int(self.now), watcher_pid=self.watchdog["watcher_pid"] + 10)

    # what schedule_info returns

    def read(self, since=None, runs=True):
        result = {"changed": False, "collected_at": self.now, "hostname": self.hostname,
                  "agent": {"version": "0.1.0", "pid": self.watchdog["worker_pid"], "watcher": self.watchdog["watcher_pid"],
                            "start_time": self.start_time, "instance_id": self.instance_id, "uuid": "uuid-" + self.hostname,
                            "config_hash": "hash", "config_valid": 1},
                  "watchdog": dict(self.watchdog),
                  "queries": {name: self._row(name, query, runs) for name, query in self.queries.items()},
                  "deltas": None}
        if since is not None:
            result["deltas"] = deltas(since, result)
        return result

    def _row(self, name, query, with_runs):
        done = query["runs"]
        executions = len(done)
        user = sum(run["user_ms"] for run in done)
        system = sum(run["system_ms"] for run in done)
        wall = sum(run["wall_ms"] for run in done)
        last = done[-1] if done else None
        row = {"name": name, "query": query["sql"], "interval": query["interval"], "executions": executions,
               "last_executed": int(last["started"]) if last else 0, "denylisted": int(query["denylisted"]),
               "output_size": sum(run["output_size"] for run in done), "wall_time": int(wall // 1000),
               "wall_time_ms": int(wall), "last_wall_time_ms": int(last["wall_ms"]) if last else 0,
               "user_time": int(user), "last_user_time": int(last["user_ms"]) if last else 0,
               "system_time": int(system), "last_system_time": int(last["system_ms"]) if last else 0,
               "average_memory": int(sum(run["memory"] for run in done) / executions) if executions else 0,
               "last_memory": last["memory"] if last else 0}
        row["per_execution"] = None if not executions else {
            "cpu_ms": (user + system) / executions, "wall_ms": wall / executions,
            "memory": row["average_memory"], "output_bytes": row["output_size"] / executions}
        row["runs"] = [dict(run) for run in done[-KEEP_RUNS:]] if with_runs else []
        return row


def deltas(before, now):
    """What schedule_info computes from an earlier result `before` and the current one `now`."""
    same_watcher = before["agent"]["watcher"] == now["agent"]["watcher"]
    restarts = now["watchdog"]["worker_restarts"] - before["watchdog"]["worker_restarts"] if same_watcher else \
        now["watchdog"]["worker_restarts"]
    # osquery_info describes the worker: a new worker (pid) is a restart too, explained by the watchdog
    restarted = any(before["agent"][key] != now["agent"][key] for key in ("start_time", "instance_id", "pid"))
    reason = None
    if restarted:
        reason = "the worker restarted (%s)" % now["watchdog"]["last_exit"] if same_watcher and restarts else \
            "the agent restarted (start_time %s -> %s)" % (before["agent"]["start_time"], now["agent"]["start_time"])
    queries = {name: _query_delta(before["queries"].get(name), row, before["collected_at"])
               for name, row in now["queries"].items()}
    for name in before["queries"]:
        if name not in now["queries"]:
            queries[name] = _empty("removed", "no longer in the schedule")
    return {"since": before["collected_at"], "restarted": restarted, "restart_reason": reason,
            "worker_restarts": restarts, "queries": queries}


def _empty(status, reason, denylisted=False):
    return {"status": status, "reason": reason, "executions": 0, "cpu_ms": 0.0, "wall_ms": 0.0, "output_bytes": 0,
            "per_execution": None, "denylisted": denylisted, "newly_denylisted": False, "runs": []}


def _query_delta(old, row, since):
    if old is not None and (old["query"] != row["query"] or row["executions"] < old["executions"]):
        return _empty("reset", "the query's SQL changed" if old["query"] != row["query"] else "executions went down",
                      bool(row["denylisted"]))
    base = old or {"executions": 0, "user_time": 0, "system_time": 0, "wall_time_ms": 0, "output_size": 0,
                   "denylisted": 0}
    executions = row["executions"] - base["executions"]
    cpu = (row["user_time"] + row["system_time"]) - (base["user_time"] + base["system_time"])
    wall = row["wall_time_ms"] - base["wall_time_ms"]
    output = row["output_size"] - base["output_size"]
    new_runs = [run for run in row["runs"] if run["started"] > since]
    per_execution = None if not executions else {
        "cpu_ms": cpu / executions, "wall_ms": wall / executions,
        "memory": (sum(run["memory"] for run in new_runs) / len(new_runs)) if new_runs else 0,
        "output_bytes": output / executions}
    return {"status": "new" if old is None else "ok", "reason": None, "executions": executions, "cpu_ms": float(cpu),
            "wall_ms": float(wall), "output_bytes": output, "per_execution": per_execution,
            "denylisted": bool(row["denylisted"]), "newly_denylisted": bool(row["denylisted"]) and not base["denylisted"],
            "runs": new_runs}


def unreachable(host):
    """A registered result of a host Ansible could not reach (ignore_unreachable)."""
    return {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via ssh: %s: "
            "Connection timed out" % host}


def agent_down(reason="connection refused"):
    """schedule_info's failure when the agent does not answer."""
    return {"failed": True, "changed": False, "msg": "pyosquery agent not answering on "
            "/var/lib/pyosquery/pyosquery.em: %s" % reason}
