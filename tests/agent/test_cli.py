"""osquery's command-line behaviours on the real commands: every flag, --help, --version, unknown flags,
--database_dump, --ephemeral, --force, and a real osquery flagfile in the daemon and the shell."""

import os
import signal
import subprocess
import sys
import time

import pytest

BIN = os.path.dirname(sys.executable)
COMMANDS = ("pyosqueryd", "pyosqueryi", "pyosqueryctl")

# audit, events, tls, aws and kafka flags, as a Linux fleet's osquery.flags has them
OSQUERY_FLAGFILE = """# fleet-wide osquery flags
--audit_allow_config=true
--audit_persist=true
--audit_allow_process_events=true
--disable_audit=false
--events_expiry=1
--events_max=500000
--disable_events=false
--tls_hostname=fleet.example.com:443
--tls_server_certs=/etc/osquery/fleet.pem
--enroll_tls_endpoint=/api/v1/osquery/enroll
--aws_region=eu-west-1
--aws_firehose_stream=osquery
--logger_kafka_brokers=kafka1:9092
--logger_kafka_topic=osquery_base
--host_identifier=hostname
"""
IGNORED = ("tls_hostname", "tls_server_certs", "enroll_tls_endpoint", "aws_region", "aws_firehose_stream",
           "logger_kafka_brokers", "logger_kafka_topic")


def run(command, *args, timeout=60):
    return subprocess.run([os.path.join(BIN, command)] + list(args), capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_prints_the_flags_and_exits_0(command):
    done = run(command, "--help", timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("%s " % command)
    assert "    --config_path VALUE " in done.stdout and "    --tls_hostname VALUE " in done.stdout
    assert ("    --json " in done.stdout) == (command == "pyosqueryi")


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_flag_is_an_error_naming_it(command, tmp_path):
    done = run(command, "--flagfile=/dev/null", "--audit_persist", "--no_such_flag=1", "status")
    assert done.returncode == 1
    assert "unknown flag --no_such_flag" in done.stderr
    flagfile = tmp_path / "bad.flags"
    flagfile.write_text("--events_max=10\n--nope\n")
    done = run(command, "--flagfile", str(flagfile), "status")
    assert done.returncode == 1 and "%s:2: unknown flag --nope" % flagfile in done.stderr


def test_shell_takes_an_osquery_flagfile_and_config_path(tmp_path):
    flagfile = tmp_path / "osquery.flags"
    flagfile.write_text(OSQUERY_FLAGFILE)
    config = tmp_path / "osquery.conf"
    config.write_text('{"options": {"events_max": 10}, "schedule": {}}')
    done = run("pyosqueryi", "--flagfile=%s" % flagfile, "--config_path=%s" % config, "--json", "select 1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == '[\n  {"1":"1"}\n]\n'
    warned = [line for line in done.stderr.splitlines() if "has no effect" in line]
    assert sorted(line.split("--")[1].split()[0] for line in warned) == sorted(IGNORED)
    assert all(line.startswith("W") for line in warned)     # glog warnings, as osqueryi shows them


def test_shell_flags_set_output_and_one_shot_modes():
    assert run("pyosqueryi", "--csv", "--separator", ";", "select 1 as a").stdout == "a\n1\n"
    assert run("pyosqueryi", "--list", "--noheader", "select 1, 2").stdout == "1|2\n"
    assert run("pyosqueryi", "--line", "--nullvalue=NULL", "select NULL as a").stdout == "    a = NULL\n"
    done = run("pyosqueryi", "-A", "time", "--json")
    assert done.returncode == 0 and '"unix_time"' in done.stdout
    assert "  => osquery_flags\n" in run("pyosqueryi", "-L").stdout


def test_shell_config_check_and_dump(tmp_path):
    config = tmp_path / "c.conf"
    config.write_text('{"schedule": {"q": {"query": "SELECT 1", "interval": 60}}}')
    done = run("pyosqueryi", "--config_check", "--config_path", str(config))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = run("pyosqueryi", "--config_dump", "--config_path=%s" % config)
    assert done.returncode == 0 and done.stdout.startswith('{"%s": {"schedule"' % config)
    config.write_text("{not json")
    done = run("pyosqueryi", "--config_check", "--config_path", str(config))
    assert done.returncode == 1 and done.stdout == "" and "Error reading config" in done.stderr


def test_database_dump_prints_the_store_and_exits_0(daemons):
    daemon = daemons({"schedule": {"t": {"query": "SELECT 7 AS seven", "interval": 1}}},
                     extra_flags=["--disable_watchdog"]).start()
    daemon.wait_for(daemon.results, "a first result")
    daemon.stop()
    done = run("pyosqueryd", "--flagfile=/dev/null", "--database_dump",
               "--database_path=%s" % daemon.paths["database_path"])
    assert done.returncode == 0, done.stderr
    # rows are stored typed, as osquery stores them (so logger_numerics can log numbers)
    assert 'queries[t]: {"counter":0,"epoch":0,"rows":"[{\\"seven\\":7}]"' in done.stdout
    assert "query_performance[t]: " in done.stdout
    empty = run("pyosqueryd", "--flagfile=/dev/null", "--database_dump", "--database_path=/nonexistent/x.db")
    assert (empty.returncode, empty.stdout) == (0, "")
    assert not os.path.exists("/nonexistent")


def test_daemon_with_an_osquery_flagfile_warns_once_per_ignored_flag(daemons, tmp_path):
    flagfile = tmp_path / "osquery.flags"
    flagfile.write_text(OSQUERY_FLAGFILE)
    daemon = daemons({"schedule": {}, "options": {"aws_debug": True}},
                     # the flagfile's --disable_audit=false would take the kernel's one audit socket,
                     # which only the test_audit_* tests may touch (one at a time, given back)
                     extra_flags=["--flagfile=%s" % flagfile, "--ephemeral", "--disable_audit=true"]).start()
    daemon.wait_for(lambda: "aws_debug" in daemon.log("pyosqueryd.WARNING"), "the config's warning")
    warnings = daemon.log("pyosqueryd.WARNING")
    for name in IGNORED + ("aws_debug",):
        assert warnings.count("Flag --%s is accepted" % name) == 1, name
    assert "flagfile" not in warnings.replace("--flagfile", "")
    assert not os.path.exists(daemon.paths["pidfile"])          # --ephemeral: no pidfile
    assert not os.path.exists(daemon.paths["database_path"])    # ... and no database


def test_force_replaces_the_running_daemon(daemons):
    first = daemons({"schedule": {}}, extra_flags=["--disable_watchdog"]).start()
    old = first.proc.pid
    second = daemons({"schedule": {}}, name="second", extra_flags=["--disable_watchdog", "--force"])
    second.paths.update({key: first.paths[key] for key in ("pidfile", "database_path")})
    second.start(wait_socket=False)
    second.wait_for(lambda: first.proc.poll() is not None, "the first daemon to stop", timeout=30)
    second.wait_for(lambda: _pid_in(first.paths["pidfile"]) == second.proc.pid, "the new pidfile", timeout=30)
    assert second.proc.poll() is None and old != second.proc.pid


def _pid_in(path):
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def test_ctl_passes_osquery_flags_anywhere(tmp_path, daemons):
    pidfile = tmp_path / "p.pid"
    done = run("pyosqueryctl", "--flagfile=/dev/null", "status", "--pidfile", str(pidfile), "--events_max=5")
    assert done.returncode == 3 and "not running" in done.stdout
    daemon = daemons({"schedule": {}}, extra_flags=["--disable_watchdog"]).start()
    done = run("pyosqueryctl", "--pidfile=%s" % daemon.paths["pidfile"], "--flagfile", "/dev/null", "status")
    assert done.returncode == 0 and "running (pid %d)" % daemon.proc.pid in done.stdout


def test_sigint_to_the_daemon_without_watchdog_exits_0(daemons):
    daemon = daemons({"schedule": {}}, extra_flags=["--disable_watchdog"]).start()
    daemon.signal(signal.SIGINT)
    deadline = time.time() + 20
    while daemon.proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert daemon.proc.returncode == 0
