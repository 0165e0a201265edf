"""Every served table has osquery's columns, runs, and returns values of its declared types."""

import os

import pytest

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
# tables with no rows on a machine like the CI's (a container: no logins, keys, history, sudoers,
# modules, systemd, DMI, USB, browsers, iptables rules, rpm or portage, not on EC2; the osquery_*
# tables have rows only in a daemon): their own test files give them fixtures. Every other table
# must return rows, so its type check cannot pass by looping zero times.
MAY_BE_EMPTY = {"authorized_keys", "chrome_extensions", "cpu_info", "ec2_instance_metadata", "ec2_instance_tags",
                "firefox_addons", "iptables", "kernel_modules", "known_hosts", "last", "logged_in_users",
                "osquery_packs", "osquery_schedule", "osquery_schedule_runs", "osquery_watchdog", "platform_info",
                "portage_packages", "rpm_packages", "shell_history", "smbios_tables", "sudoers", "systemd_units",
                "usb_devices", "user_ssh_keys"}
# tables of ours that osquery does not have
OUR_TABLES = {"osquery_schedule_runs", "osquery_watchdog"}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_declared_columns_reach_sqlite(engine, name):
    table = TABLES[name]
    _, rows = engine.query("PRAGMA table_xinfo(%s)" % name)
    declared = [(c.name, c.sql_type) for c in table.columns]
    declared += [(alias, c.sql_type) for c in table.columns for alias in c.aliases]
    assert [(row[1], row[2]) for row in rows] == declared
    hidden = {c.name for c in table.columns if c.hidden} | {a for c in table.columns for a in c.aliases}
    assert {row[1] for row in rows if row[6]} == hidden


@pytest.mark.parametrize("name", sorted(TABLES))
def test_values_have_declared_types(engine, name):
    table = TABLES[name]
    columns = [c for c in table.columns if not c.hidden]
    select = ", ".join("typeof(`%s`)" % c.name for c in columns)
    _, rows = engine.query("SELECT %s FROM %s %s LIMIT %d"
                           % (select, name, SAMPLE_WHERE.get(name, ""), SAMPLE_LIMIT.get(name, 500)))
    assert rows or table.evented or name in MAY_BE_EMPTY, "%s returned no rows: nothing was checked" % name
    for row in rows:
        for column, kind in zip(columns, row):
            assert kind in ("null", SQLITE_TYPES[column.type]), "%s.%s is %s" % (name, column.name, kind)


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
            assert [(c.name, c.type) for c in table.columns] == expected[name], name


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
