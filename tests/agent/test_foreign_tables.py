"""--enable_foreign: osquery's tables of other platforms are declared (from specs/foreign.tsv) and
return no rows, as osquery's foreign tables do; without the flag they do not exist."""

import json
import os
import subprocess
import sys

from pyosquery.sql.engine import Engine
from pyosquery.tables.spec import load_foreign_tables, load_tables

BIN = os.path.dirname(sys.executable)


def run(program, *args):
    return subprocess.run([os.path.join(BIN, program)] + list(args), capture_output=True, text=True, timeout=120,
                          check=False)


def test_every_foreign_table_is_declared_and_returns_no_rows():
    foreign = load_foreign_tables()
    assert len(foreign) > 100 and not set(foreign) & set(load_tables())     # no Linux table shadowed
    engine = Engine(foreign=True)
    for name, table in foreign.items():
        if not table.required:      # a table with a required column needs it, as osquery's does
            assert engine.query("SELECT * FROM %s" % name)[1] == [], name
    assert [c.name for c in foreign["services"].columns][:4] == ["name", "service_type", "display_name", "status"]
    assert "HIDDEN" in foreign["windows_eventlog"].create_sql() and foreign["windows_eventlog"].required


def test_the_shell_serves_them_only_with_the_flag():
    without = run("pyosqueryi", "--json", "SELECT count(*) AS n FROM registry")
    assert without.returncode != 0 and "no such table: registry" in without.stderr
    done = run("pyosqueryi", "--enable_foreign", "--json", "SELECT count(*) AS n FROM registry")
    assert done.returncode == 0 and json.loads(done.stdout) == [{"n": "0"}], done.stderr
    listed = run("pyosqueryi", "--enable_foreign", ".tables").stdout.splitlines()
    assert "  => windows_eventlog" in listed and "  => processes" in listed
    assert "  => windows_eventlog" not in run("pyosqueryi", ".tables").stdout.splitlines()


def test_config_check_accepts_a_foreign_query_only_with_the_flag(tmp_path):
    config = tmp_path / "c.conf"
    config.write_text(json.dumps({"schedule": {"apps": {"query": "SELECT name FROM apps", "interval": 60}}}))
    assert run("pyosqueryd", "--config_check", "--config_path", str(config)).returncode == 1
    done = run("pyosqueryd", "--config_check", "--enable_foreign", "--config_path", str(config))
    assert done.returncode == 0, done.stderr


def test_the_daemon_registers_them_and_runs_their_queries(daemons):
    config = {"schedule": {"apps": {"query": "SELECT name FROM apps", "interval": 1}}}
    plain = daemons(config, name="plain", extra_flags=["--disable_watchdog"]).start()
    foreign = daemons(config, name="foreign", extra_flags=["--disable_watchdog", "--enable_foreign"]).start()
    count = "SELECT count(*) AS n FROM osquery_registry WHERE registry = 'table'"
    assert int(foreign.query(count)[0]["n"]) > int(plain.query(count)[0]["n"]) + 100
    assert foreign.query("SELECT name FROM osquery_registry WHERE name = 'apps'") == [{"name": "apps"}]
    assert foreign.query("SELECT * FROM apps") == []
    foreign.wait_for(lambda: int(foreign.query("SELECT executions FROM osquery_schedule")[0]["executions"]) >= 1,
                     "the foreign query to run")
    assert "apps" not in foreign.log("pyosqueryd.ERROR")
    plain.wait_for(lambda: "no such table: apps" in plain.log("pyosqueryd.ERROR"), "the error without the flag")
