"""pyosqueryi, run as a user runs it: osqueryi's output formats, dot commands and exit codes."""

import json
import os
import pty
import subprocess
import sys

from terminal import read_until

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")


def run(*args, stdin=None):
    return subprocess.run([SHELL] + list(args), input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)


def test_select_zero_json_is_byte_for_byte_osqueryi():
    result = run("--json", "select 0")
    assert result.returncode == 0
    assert result.stdout == '[\n  {"0":"0"}\n]\n'


def test_pid_one_lookup_returns_one_row():
    result = run("--json", "SELECT pid, name FROM processes WHERE pid = 1")
    rows = json.loads(result.stdout)
    assert len(rows) == 1 and rows[0]["pid"] == "1"
    assert sorted(rows[0]) == ["name", "pid"]


def test_pretty_mode_table():
    result = run("SELECT 1 AS a, 'xyz' AS bb")
    assert result.stdout == ("+---+-----+\n| a | bb  |\n+---+-----+\n| 1 | xyz |\n+---+-----+\n")


def test_pretty_mode_prints_nothing_for_no_rows():
    assert run("SELECT 1 WHERE 0").stdout == ""


def test_csv_line_and_list_modes():
    assert run("--csv", "SELECT 1 AS a, 'x,y' AS b").stdout == 'a,b\n1,"x,y"\n'
    assert run("--line", "SELECT 1 AS a, 2 AS bbbbbbb").stdout == "      a = 1\nbbbbbbb = 2\n"
    assert run("--list", "--header=false", "SELECT 1, 2").stdout == "1|2\n"


def test_bad_sql_prints_error_and_exits_one():
    result = run("SELEC 1")
    assert result.returncode == 1
    assert result.stderr == 'Error: near "SELEC": syntax error\n'
    unknown = run("SELECT * FROM no_such_table")
    assert unknown.returncode == 1 and unknown.stderr == "Error: no such table: no_such_table\n"


def test_write_is_refused_by_the_shell():
    result = run("ATTACH ':memory:' AS x")
    assert result.returncode == 1 and "read-only" in result.stderr


def test_dot_tables_with_filter_and_schema():
    assert run(".tables proc").stdout.splitlines()[:2] == ["  => process_envs", "  => process_events"]
    schema = run(".schema time").stdout
    assert schema.startswith("CREATE TABLE time(`weekday` TEXT") and schema.endswith(";\n")


def test_dot_mode_error_and_unknown_command():
    assert run(".mode nope").stderr == "Error: mode should be one of: column csv json line list pretty\n"
    result = run(".nonsense")
    assert result.returncode == 1
    assert result.stderr == 'Error: unknown command or invalid arguments:  "nonsense". Enter ".help" for help\n'


def test_piped_statements_report_the_failing_line():
    result = run(stdin="SELECT 1 AS a;\n.mode csv\nSELECT 2 AS b;\nBAD;\nSELECT 3 AS c\n")
    assert result.stdout == "+---+\n| a |\n+---+\n| 1 |\n+---+\nb\n2\nc\n3\n"
    assert result.stderr == 'Error: near line 4: near "BAD": syntax error\n'
    assert result.returncode == 1


def test_all_and_features():
    assert run("-A", "time", "--csv").stdout.startswith("weekday,year,month,day")
    assert "disable_watchdog: true" in run(".features").stdout
    assert run(".all").returncode == 1


def test_interactive_prompts_and_continuation():
    pid, fd = pty.fork()
    if pid == 0:   # the child becomes the shell on a terminal
        os.environ["HOME"] = "/tmp"
        os.execv(SHELL, [SHELL])
    try:
        assert "osquery> " in read_until(fd, b"osquery> ")
        os.write(fd, b"SELECT 41 + 1\n")
        assert "    ...> " in read_until(fd, b"...> ")
        os.write(fd, b"AS answer;\n")
        output = read_until(fd, b"osquery> ")
        assert "| answer |" in output and "| 42     |" in output
        os.write(fd, b".exit 3\n")
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 3
    finally:
        os.close(fd)


def test_timer_width_and_show():
    script = ".timer on\nselect 1 as a;\n.timer off\n.mode column\n.width 3 12\nselect 1 as a, 2 as b;\n.show\n"
    result = run(stdin=script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[5].startswith("Run Time: real ") and " user " in lines[5] and " sys " in lines[5]
    assert lines[6:9] == ["a    b", "---  ------------", "1    2"]
    assert "       timer: off" in lines and "       width: 3 12" in lines and "        mode: column" in lines


def test_connect_and_disconnect_switch_engines(daemons):
    daemon = daemons({"schedule": {}}, extra_flags=["--disable_watchdog"]).start()
    socket = daemon.paths["extensions_socket"]
    script = (".connect %s\nselect pid from osquery_info;\n.disconnect\nselect pid from osquery_info;\n"
              ".connect /nonexistent/x.em\n" % socket)
    result = run("--list", "--header=false", stdin=script)
    pids = result.stdout.split()
    assert pids[0] == str(daemon.proc.pid) and pids[1] != pids[0]     # the daemon's, then our own
    assert "Error: cannot connect to /nonexistent/x.em" in result.stderr and result.returncode == 1


def test_streamed_modes_print_rows_as_they_come_and_every_statement():
    # a query that fails at its 1000th row: streamed modes have printed the 999 before it
    failing = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000) "
               "SELECT i, CASE WHEN i = 1000 THEN json('not json') ELSE i END AS v FROM r")
    result = run("--csv", failing)
    assert result.returncode == 1 and "malformed JSON" in result.stderr
    assert result.stdout.splitlines()[:2] == ["i,v", "1,1"] and len(result.stdout.splitlines()) == 1000
    assert run("--list", failing).stdout.count("\n") == 1000
    assert run(failing).stdout == ""            # pretty needs every row first, as osqueryi's
    both = run("--csv", "SELECT 1 AS a; SELECT 2 AS b WHERE 0; SELECT 3 AS c")
    assert both.stdout == "a\n1\nb\nc\n3\n"
