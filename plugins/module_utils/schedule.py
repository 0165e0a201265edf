# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""schedule_info's result: the agent's osquery_info, osquery_watchdog, osquery_schedule and
osquery_schedule_runs, read over its socket and shaped as the collection's contract says.

`read_tables` does the I/O; `shape` is pure, so the result's shape is tested without an agent.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.pyosquery.fleet.plugins.module_utils.rows import typed_query

AGENT_COLUMNS = ("version", "pid", "watcher", "start_time", "instance_id", "uuid", "config_hash", "config_valid")
RUN_FIELDS = ("started", "lateness_ms", "wall_ms", "user_ms", "system_ms", "cpu_ms", "memory", "rows", "output_size")


def sql_text(value):
    """A string literal for SQLite."""
    return "'%s'" % value.replace("'", "''")


def _where_names(names):
    return " WHERE name IN (%s)" % ", ".join(sql_text(name) for name in names) if names else ""


def read_tables(client, names=None, runs=True):
    """The four tables' rows (typed), and the host time just before the schedule was read."""
    tables = dict(info=typed_query(client, "SELECT %s FROM osquery_info" % ", ".join(AGENT_COLUMNS)),
                  watchdog=typed_query(client, "SELECT * FROM osquery_watchdog"))
    tables["collected_at"] = time.time()
    tables["schedule"] = typed_query(client, "SELECT * FROM osquery_schedule" + _where_names(names))
    tables["runs"] = typed_query(client, "SELECT * FROM osquery_schedule_runs" + _where_names(names)) if runs else None
    return tables


def per_execution(cpu_ms, wall_ms, memory, output_bytes, executions):
    """Averages over `executions`, or None when there were none."""
    if not executions:
        return None
    return dict(cpu_ms=cpu_ms / executions, wall_ms=wall_ms / executions, memory=memory,
                output_bytes=output_bytes / executions)


def cpu_ms(row):
    """User plus system CPU ms of a schedule row's totals."""
    return row["user_time"] + row["system_time"]


def run_entry(row):
    """One osquery_schedule_runs row as the result lists it (cpu_ms added, the name dropped)."""
    entry = dict((field, row[field]) for field in RUN_FIELDS if field in row)
    entry["cpu_ms"] = row["user_ms"] + row["system_ms"]
    return entry


def query_entry(row, runs):
    """One osquery_schedule row, its lifetime per-execution averages and (when read) its runs, oldest first."""
    entry = dict(row)
    entry["per_execution"] = per_execution(cpu_ms(row), row["wall_time_ms"], row["average_memory"],
                                           row["output_size"], row["executions"])
    if runs is not None:
        entry["runs"] = sorted(runs, key=lambda run: run["started"])
    return entry


def shape(tables, hostname, names=None):
    """The module's result (without `deltas`) from read_tables' output."""
    runs_by_name = None
    if tables["runs"] is not None:
        runs_by_name = {}
        for row in tables["runs"]:
            runs_by_name.setdefault(row["name"], []).append(run_entry(row))
    queries = dict((row["name"], query_entry(row, None if runs_by_name is None else runs_by_name.get(row["name"], [])))
                   for row in tables["schedule"])
    return dict(collected_at=tables["collected_at"], hostname=hostname,
                agent=tables["info"][0] if tables["info"] else {},
                watchdog=tables["watchdog"][0] if tables["watchdog"] else {},
                queries=queries, missing=sorted(set(names or ()) - set(queries)))
