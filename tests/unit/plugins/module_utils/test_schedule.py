"""schedule_info's result shape from the tables' rows (pure)."""

from ansible_collections.pyosquery.fleet.plugins.module_utils import schedule


def schedule_row(name, executions, **columns):
    row = {"name": name, "query": "SELECT 1", "interval": 60, "executions": executions, "last_executed": 0,
           "denylisted": 0, "output_size": 0, "wall_time": 0, "wall_time_ms": 0, "last_wall_time_ms": 0,
           "user_time": 0, "last_user_time": 0, "system_time": 0, "last_system_time": 0, "average_memory": 0,
           "last_memory": 0}
    row.update(columns)
    return row


def run_row(name, started, user_ms, system_ms):
    return {"name": name, "started": started, "lateness_ms": 3.0, "wall_ms": 9.5, "user_ms": user_ms,
            "system_ms": system_ms, "memory": 4096, "rows": 2, "output_size": 80}


TABLES = {
    "collected_at": 1000.5,
    "info": [{"version": "0.1.0", "pid": 11, "watcher": 10, "start_time": 900, "instance_id": "i", "uuid": "u",
              "config_hash": "h", "config_valid": 1}],
    "watchdog": [{"worker_restarts": 0, "last_stop_reason": ""}],
    "schedule": [schedule_row("a", 4, user_time=30, system_time=10, wall_time_ms=100, average_memory=512,
                              output_size=400),
                 schedule_row("b", 0)],
    "runs": [run_row("a", 990.0, 5.0, 2.5), run_row("a", 930.0, 1.0, 1.0)],
}


def test_every_column_plus_averages_and_runs_oldest_first():
    result = schedule.shape(TABLES, "host-1", None)
    assert (result["collected_at"], result["hostname"], result["missing"]) == (1000.5, "host-1", [])
    assert result["agent"] == TABLES["info"][0] and result["watchdog"] == TABLES["watchdog"][0]
    entry = result["queries"]["a"]
    assert {key: entry[key] for key in TABLES["schedule"][0]} == TABLES["schedule"][0]
    assert entry["per_execution"] == {"cpu_ms": 10.0, "wall_ms": 25.0, "memory": 512, "output_bytes": 100.0}
    assert entry["runs"] == [
        {"started": 930.0, "lateness_ms": 3.0, "wall_ms": 9.5, "user_ms": 1.0, "system_ms": 1.0, "cpu_ms": 2.0,
         "memory": 4096, "rows": 2, "output_size": 80},
        {"started": 990.0, "lateness_ms": 3.0, "wall_ms": 9.5, "user_ms": 5.0, "system_ms": 2.5, "cpu_ms": 7.5,
         "memory": 4096, "rows": 2, "output_size": 80}]
    assert result["queries"]["b"]["per_execution"] is None and result["queries"]["b"]["runs"] == []


def test_without_runs_there_is_no_runs_key_and_unknown_names_are_missing():
    result = schedule.shape(dict(TABLES, runs=None), "host-1", ["a", "zz"])
    assert "runs" not in result["queries"]["a"] and result["missing"] == ["zz"]


def test_names_are_quoted_as_sql_strings():
    assert schedule.sql_text("it's") == "'it''s'"
