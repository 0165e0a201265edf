"""The plan advisor: what a query will cost on this host, and why, read from the plan (issue 12)."""

import json
import os
import subprocess
import sys

import pytest

from pyosquery.advisor import Advisor
from pyosquery.sql.engine import Engine
from pyosquery.tables import accounts, files

SLIDE_37 = ("SELECT * FROM processes JOIN process_open_sockets USING (pid) JOIN hash USING (path) "
            "WHERE pid IN (SELECT pid FROM processes WHERE uid = 0)")
SLIDE_38 = ("SELECT * FROM processes JOIN process_open_sockets USING (pid) JOIN hash USING (path) "
            "WHERE uid = 0")
USERS_SIX = "select 1 from users, users, users, users, users, users"


@pytest.fixture(scope="module")
def advisor():
    return Advisor(Engine())


def kinds(advice, kind):
    return [finding for finding in advice.findings if finding.kind == kind]


def process_count():
    return len([name for name in os.listdir("/proc") if name.isdigit()])


# the talk's examples (slides 37 and 38) and the cases

def test_slide_37_reads_processes_twice_and_the_rewrite_is_slide_38(advisor):
    advice = advisor.advise(SLIDE_37)
    [finding] = kinds(advice, "scanned-twice")
    assert finding.severity == "warning" and finding.table == "processes"
    assert finding.clause == "pid IN (SELECT pid FROM processes WHERE uid = 0)"
    assert finding.rewrite == SLIDE_38
    assert "processes is read 2 times" in finding.message


def test_slide_38_reads_processes_once(advisor):
    assert kinds(advisor.advise(SLIDE_38), "scanned-twice") == []


def test_a_recursive_walk_of_the_root_is_blocking(advisor):
    [finding] = advisor.advise("SELECT * FROM file WHERE path LIKE '/%%'").findings
    assert (finding.severity, finding.kind, finding.table) == ("blocking", "expensive-scan", "file")
    assert finding.clause == "path LIKE '/%%'"
    assert finding.count > 1000 and "the inodes in use on the filesystems holding / and below it" in finding.now


def test_a_walk_below_one_directory_warns_with_that_root(advisor):
    [finding] = advisor.advise("SELECT path FROM hash WHERE directory LIKE '/usr/%%'").findings
    assert (finding.severity, finding.kind) == ("warning", "expensive-scan")
    assert "below /usr" in finding.message


def test_one_pid_is_no_finding(advisor):
    assert advisor.advise("SELECT * FROM processes WHERE pid = 1").findings == []


def test_six_users_cross_join_is_blocking_with_the_row_combinations(advisor):
    users = Engine().query("SELECT count(*) FROM users")[1][0][0]
    advice = advisor.advise(USERS_SIX)
    [finding] = kinds(advice, "cross-join")
    assert finding.severity == "blocking" and finding.table == "users"
    assert finding.count == users ** 6
    assert finding.clause == "FROM users, users, users, users, users, users"
    assert kinds(advice, "scanned-twice") == []     # one join: the cross join says it all


def test_join_fed_hash_reports_the_outer_row_count(advisor):
    before = process_count()
    [finding] = kinds(advisor.advise("SELECT h.sha256 FROM processes p JOIN hash h ON h.path = p.path"), "join-fed")
    after = process_count()
    assert finding.severity == "warning" and finding.table == "hash"
    assert finding.clause == "h.path = p.path"
    assert min(before, after) - 20 <= finding.count <= max(before, after) + 20
    assert "once per row of p" in finding.message


# the rewrite: offered only when it returns the same rows, and checked by planning it

def test_the_rewrite_returns_the_same_rows():
    engine = Engine()
    sql = "SELECT username FROM users WHERE uid IN (SELECT uid FROM users WHERE shell LIKE '%nologin')"
    [finding] = kinds(Advisor(engine).advise(sql), "scanned-twice")
    assert finding.rewrite == "SELECT username FROM users WHERE shell LIKE '%nologin'"
    assert sorted(engine.query(finding.rewrite)[1]) == sorted(engine.query(sql)[1])


def test_an_aliased_rewrite_keeps_the_alias_and_parenthesises_an_or(advisor):
    sql = ("SELECT * FROM processes p WHERE p.pid IN (SELECT pid FROM processes WHERE name = 'sshd' OR uid = 0) "
           "AND p.state = 'S'")
    [finding] = kinds(advisor.advise(sql), "scanned-twice")
    assert finding.rewrite == "SELECT * FROM processes p WHERE (p.name = 'sshd' OR p.uid = 0) AND p.state = 'S'"


def test_no_rewrite_when_the_column_is_not_a_key(advisor):
    # a process has many sockets: "sockets of processes with a port-443 socket" is not "port-443 sockets"
    sql = ("SELECT * FROM process_open_sockets WHERE pid IN "
           "(SELECT pid FROM process_open_sockets WHERE remote_port = 443)")
    [finding] = kinds(advisor.advise(sql), "scanned-twice")
    assert finding.rewrite is None and finding.clause.startswith("pid IN (SELECT pid")


def test_a_correlated_subquery_is_a_full_scan_per_outer_row_without_rewrite(advisor):
    sql = ("SELECT * FROM processes p JOIN users u USING (uid) WHERE p.pid IN "
           "(SELECT pid FROM processes WHERE name = u.username)")
    advice = advisor.advise(sql)
    [finding] = kinds(advice, "cross-join")
    assert finding.table == "processes" and "once per row of p x u" in finding.message
    assert [f.rewrite for f in advice.findings] == [None] * len(advice.findings)


# the model behind the findings is the engine's real behaviour

def spied(table):
    """An engine whose `table` generator records each call."""
    calls = []
    real = {"hash": files.gen_hash, "users": accounts.gen_users}[table]

    def spy(context):
        calls.append(context)
        return real(context)
    return Engine(generators={table: spy}), calls


def test_advising_runs_nothing_and_only_reads_the_first_statement():
    engine, calls = spied("hash")
    advisor = Advisor(engine)
    advisor.advise("SELECT * FROM hash WHERE path LIKE '/%%'; SELECT * FROM hash WHERE path = '/etc/hosts'")
    assert calls == []
    assert advisor.advise("SELECT * FROM users; SELECT 1 FROM users, users, users", interval=60).findings == []
    with pytest.raises(Exception, match="read-only"):
        advisor.advise("SELECT * FROM users; BEGIN")
    assert not engine.connection.in_transaction


def test_an_inner_full_scan_runs_once_per_outer_row():
    engine, calls = spied("users")
    rows = engine.query("SELECT count(*) FROM users")[1][0][0]
    del calls[:]
    engine.query("SELECT count(*) FROM users a, users b")
    assert len(calls) == rows + 1


def test_a_join_fed_hash_runs_once_per_outer_row(tmp_path):
    for name in "abc":
        (tmp_path / name).write_text(name)
    engine, calls = spied("hash")
    sql = "SELECT h.sha1 FROM file f JOIN hash h ON h.path = f.path WHERE f.directory = '%s'" % tmp_path
    [finding] = kinds(Advisor(engine).advise(sql), "join-fed")
    assert finding.table == "hash" and "once per row of f" in finding.message
    assert len(engine.query(sql)[1]) == 3 and len(calls) == 3


def test_a_missing_required_column_is_blocking(advisor):
    [finding] = advisor.advise("SELECT * FROM hash").findings
    assert (finding.severity, finding.kind) == ("blocking", "missing-required")
    assert "path or directory" in finding.message


# output volume, for scheduled queries

@pytest.fixture
def sleepers():
    """Enough processes that `SELECT * FROM processes` every 10 s logs over 655 MB a day on any
    machine (a fresh CI machine may run a dozen processes; about 87 are needed)."""
    children = [subprocess.Popen(["sleep", "120"]) for _ in range(100)]
    yield
    for child in children:
        child.kill()
        child.wait()


def test_large_output_depends_on_the_interval(sleepers):
    advisor = Advisor(Engine())         # the module's advisor counted the processes before the sleepers
    sql = "SELECT * FROM processes"
    [finding] = kinds(advisor.advise(sql, interval=10), "large-output")
    assert finding.severity == "blocking" and finding.clause == "interval 10"
    assert kinds(advisor.advise(sql, interval=86400), "large-output") == []
    assert kinds(advisor.advise("SELECT count(*) FROM processes", interval=10), "large-output") == []
    assert kinds(advisor.advise(sql), "large-output") == []     # no interval: no volume


def test_table_hints_come_with_the_advice(advisor):
    tables = advisor.advise("SELECT * FROM users JOIN processes USING (uid)").tables
    assert {t["table"] for t in tables} == {"users", "processes"}
    users = next(t for t in tables if t["table"] == "users")
    assert users["cost"] == "cheap" and users["reason"] == "parses /etc/passwd" and users["now"].endswith(" rows")


def test_sql_that_does_not_prepare_raises(advisor):
    with pytest.raises(Exception, match="no such table: nosuch"):
        advisor.advise("SELECT * FROM nosuch")


# where it shows: the shell, --config_check, pyosquery-profile

BIN = os.path.dirname(sys.executable)


def run(program, *args, stdin=None):
    return subprocess.run([os.path.join(BIN, program)] + list(args), input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


def test_shell_advise_prints_findings_and_the_rewrite():
    result = run("pyosqueryi", "--advise", SLIDE_37)
    assert result.returncode == 0 and result.stderr == ""
    assert "warning scanned-twice: processes\n" in result.stdout
    assert "  rewrite: %s\n" % SLIDE_38 in result.stdout
    assert result.stdout.startswith("processes: moderate, ")


def test_shell_advise_json_for_machines():
    result = run("pyosqueryi", "--json", "--advise", "SELECT * FROM file WHERE path LIKE '/%%'")
    advice = json.loads(result.stdout)
    assert advice["query"] == "SELECT * FROM file WHERE path LIKE '/%%'"
    assert [(f["severity"], f["kind"], f["table"]) for f in advice["findings"]] == [
        ("blocking", "expensive-scan", "file")]
    assert advice["tables"][0]["cost"] == "expensive"


def test_shell_dot_advise_keeps_the_quotes_of_the_sql():
    lines = ".advise SELECT * FROM processes WHERE pid = 1\n.advise SELECT * FROM file WHERE path LIKE '/%%'\n"
    result = run("pyosqueryi", stdin=lines)
    assert result.returncode == 0
    assert result.stdout.count("No findings.") == 1 and "clause:  path LIKE '/%%'" in result.stdout


def test_shell_advise_on_bad_sql_fails_with_the_error():
    result = run("pyosqueryi", "--advise", "SELECT * FROM nosuch")
    assert result.returncode == 1 and result.stderr == "Error: no such table: nosuch\n"


def write_config(tmp_path, schedule):
    path = tmp_path / "advise.conf"
    path.write_text(json.dumps({"schedule": schedule}))
    return str(path)


SCHEDULE = {"slide37": {"query": SLIDE_37, "interval": 3600},
            "walk": {"query": "SELECT path FROM file WHERE path LIKE '/%%'", "interval": 86400},
            "one": {"query": "SELECT * FROM processes WHERE pid = 1", "interval": 60}}


def test_config_check_warns_for_every_scheduled_query_and_still_passes(tmp_path):
    result = run("pyosqueryd", "--config_path", write_config(tmp_path, SCHEDULE), "--config_check")
    assert result.returncode == 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert all(line.startswith("Warning: %s: query " % (tmp_path / "advise.conf")) for line in lines)
    [slide37] = [line for line in lines if "query slide37: warning scanned-twice: processes: " in line]
    assert slide37.endswith("; rewrite: %s" % SLIDE_38)
    assert "; clause: pid IN (SELECT pid FROM processes WHERE uid = 0); now: " in slide37
    assert any("query walk: blocking expensive-scan: file: path LIKE '/%%' walks" in line for line in lines)
    assert not any("query one:" in line for line in lines)


def test_config_check_strict_fails_on_blocking_findings_only(tmp_path):
    strict = run("pyosqueryd", "--config_path", write_config(tmp_path, SCHEDULE), "--config_check",
                 "--config_check_strict")
    assert strict.returncode == 1
    assert any(line.startswith("Error reading config: ") and "query walk: blocking expensive-scan: file: " in line
               for line in strict.stderr.splitlines())
    warned_only = {"slide37": SCHEDULE["slide37"]}
    assert run("pyosqueryd", "--config_path", write_config(tmp_path, warned_only), "--config_check",
               "--config_check_strict").returncode == 0


def test_config_check_advises_the_queries_after_one_that_does_not_prepare(tmp_path):
    schedule = dict({"broken": {"query": "SELECT * FROM no_such_table", "interval": 60}}, **SCHEDULE)
    result = run("pyosqueryd", "--config_path", write_config(tmp_path, schedule), "--config_check")
    assert result.returncode == 1 and "no such table: no_such_table" in result.stderr
    assert "query walk: blocking expensive-scan: file: path LIKE '/%%' walks" in result.stderr
