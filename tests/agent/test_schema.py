"""Every served table has osquery's columns, runs, and returns values of its declared types."""

import os

import pytest

from fakehost import BUILDERS
from pyosquery.tables.spec import load_costs, load_tables

TABLES = load_tables()
# osquery's columns (table, column, type, flags), carried with the tests so the parity check runs
# everywhere: `cut -f1-4` of the team's shared/reference/osquery-tables.tsv (its descriptions left out)
REFERENCE = os.path.join(os.path.dirname(__file__), "data", "osquery-columns.tsv")
SQLITE_TYPES = {"TEXT": "text", "INTEGER": "integer", "BIGINT": "integer", "UNSIGNED_BIGINT": "integer",
                "DOUBLE": "real", "BLOB": "blob"}
# tables whose required columns need a value to run
SAMPLE_WHERE = {"file": "WHERE path = '/etc/passwd'", "hash": "WHERE path = '/etc/passwd'"}
# tables that walk trees the machine may fill without bound (suid_bin walks /tmp, where lab hosts
# keep whole root filesystems): one row is enough to check types
SAMPLE_LIMIT = {"suid_bin": 1}
# Every table's type check runs on rows: this machine's, and for the tables a machine like the CI's
# leaves empty (fakehost.BUILDERS) a made-up host's as well. The osquery_* tables below describe a
# running daemon's schedule, packs and watchdog (the shell has none): one daemon gives them rows.
IN_A_DAEMON = {"osquery_packs", "osquery_schedule", "osquery_schedule_runs", "osquery_watchdog"}
HERE = sorted(name for name, table in TABLES.items() if not table.evented and name not in IN_A_DAEMON)
# tables of ours that osquery does not have
OUR_TABLES = {"osquery_schedule_runs", "osquery_watchdog"}
# columns of ours in osquery's tables: hidden, so SELECT * gives osquery's columns
OUR_COLUMNS = {("osquery_events", "lost")}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_declared_columns_reach_sqlite(engine, name):
    table = TABLES[name]
    _, rows = engine.query("PRAGMA table_xinfo(%s)" % name)
    declared = [(c.name, c.sql_type) for c in table.columns]
    declared += [(alias, c.sql_type) for c in table.columns for alias in c.aliases]
    assert [(row[1], row[2]) for row in rows] == declared
    hidden = {c.name for c in table.columns if c.hidden} | {a for c in table.columns for a in c.aliases}
    assert {row[1] for row in rows if row[6]} == hidden


def typeof_sql(name):
    columns = [c for c in TABLES[name].columns if not c.hidden]
    select = ", ".join("typeof(`%s`) AS `%s`" % (c.name, c.name) for c in columns)
    return "SELECT %s FROM %s %s LIMIT %d" % (select, name, SAMPLE_WHERE.get(name, ""), SAMPLE_LIMIT.get(name, 500))


def assert_declared_types(name, rows):
    """rows: {column: SQLite type of its value}; at least one, each of its column's declared type."""
    assert rows, "%s returned no rows: nothing was checked (fakehost.py can give it rows)" % name
    declared = {c.name: SQLITE_TYPES[c.type] for c in TABLES[name].columns}
    for row in rows:
        for column, kind in row.items():
            assert kind in ("null", declared[column]), "%s.%s is %s" % (name, column, kind)


@pytest.mark.parametrize("name", HERE)
def test_values_have_declared_types(engine, fake_host, name):
    rows = engine.query_dicts(typeof_sql(name))
    if name in BUILDERS:        # none on a machine like the CI's: the made-up host's rows are checked as well
        if rows:
            assert_declared_types(name, rows)
        fake_host.make(name)
        rows = engine.query_dicts(typeof_sql(name))
    assert_declared_types(name, rows)


def test_the_daemons_own_tables_have_declared_types(daemons):
    config = {"schedule": {"tick": {"query": "SELECT 1 AS one", "interval": 1}},
              "packs": {"pack": {"queries": {"tock": {"query": "SELECT 2 AS two", "interval": 1}}}}}
    daemon = daemons(config).start()
    daemon.wait_for(lambda: daemon.query("SELECT name FROM osquery_schedule_runs"), "a first run")
    for name in sorted(IN_A_DAEMON):
        assert_declared_types(name, daemon.query(typeof_sql(name)))


def test_evented_tables_are_empty_not_errors(engine):
    evented = [name for name, table in TABLES.items() if table.evented]
    assert "process_events" in evented and "file_events" in evented
    for name in evented:
        assert engine.query("SELECT * FROM %s" % name)[1] == []


def test_osquery_events_lists_the_inactive_publishers_and_subscribers(engine):
    rows = {r["name"]: r for r in engine.query_dicts("SELECT * FROM osquery_events")}
    assert rows["process_events"]["publisher"] == "auditeventpublisher"
    assert rows["process_events"]["type"] == "subscriber" and rows["inotify"]["type"] == "publisher"
    assert {r["active"] for r in rows.values()} == {0}
    evented = {name for name, table in TABLES.items() if table.evented}
    assert evented <= set(rows)


def test_columns_equal_the_osquery_reference():
    expected = {}
    with open(REFERENCE, encoding="utf-8") as handle:
        for line in handle.read().splitlines()[1:]:
            table, column, type_, flags = line.split("\t")[:4]
            platforms = [f[9:] for f in flags.split(",") if f.startswith("platform=")]
            if platforms and "linux" not in platforms[0]:
                continue        # osquery declares these hidden on Linux; we leave them out
            expected.setdefault(table, []).append((column, type_))
    for name, table in TABLES.items():
        if name not in OUR_TABLES:
            assert name in expected, "%s is not an osquery table in %s" % (name, REFERENCE)
            ours = [(c.name, c.type) for c in table.columns if (name, c.name) not in OUR_COLUMNS]
            assert ours == expected[name], name
    for table, column in OUR_COLUMNS:
        assert next(c for c in TABLES[table].columns if c.name == column).hidden, (table, column)


def test_schema_matches_osquery_dot_schema_form():
    assert TABLES["time"].create_sql().startswith("CREATE TABLE time(`weekday` TEXT, `year` INTEGER")
    assert TABLES["processes"].create_sql().endswith("PRIMARY KEY (`pid`)) WITHOUT ROWID;")


# cost hints (specs/costs.tsv), read by the plan advisor

def test_every_served_table_has_a_cost_hint():
    costs = load_costs()
    missing = sorted(set(TABLES) - set(costs))
    assert not missing, ("tables without a cost hint: %s; add a row to specs/costs.tsv: "
                         "table<TAB>cheap|moderate|expensive<TAB>rows|processes|files|-<TAB>reason" % ", ".join(missing))
    unknown = sorted(set(costs) - set(TABLES))
    assert not unknown, "specs/costs.tsv names tables that are not served: %s" % ", ".join(unknown)


def test_cost_units_fit_their_tables():
    for name, cost in load_costs().items():
        if cost.unit == "rows":     # the advisor counts these with count(*): never expensive, needs no WHERE
            assert cost.cost != "expensive" and not TABLES[name].required, name
        if cost.unit == "files":    # sized by the root of a path or directory pattern
            assert {"path", "directory"} <= {c.name for c in TABLES[name].columns}, name


def test_a_bad_cost_row_names_file_and_line(tmp_path):
    path = tmp_path / "costs.tsv"
    path.write_text("table\tcost\tunit\treason\nusers\tcheap\trows\tparses passwd\nfile\tpricey\tfiles\twalks\n")
    with pytest.raises(ValueError, match=r"costs.tsv:3: file: cost must be one of cheap/moderate/expensive"):
        load_costs(str(path))
