"""Tables registered by an extension written with osquery's own Python SDK, served by the daemon."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
EXTENSION = '''
import json
import osquery

WORDS = {1: "one", 2: "two", 3: "three"}


@osquery.register_plugin
class Words(osquery.TablePlugin):
    def name(self):
        return "fleet_words"

    def columns(self):
        return [osquery.TableColumn(name="id", type=osquery.INTEGER),
                osquery.TableColumn(name="word", type=osquery.STRING),
                osquery.TableColumn(name="seen", type=osquery.STRING)]

    def generate(self, context):
        wanted = [int(c["expr"]) for constraint in context.get("constraints", []) if constraint["name"] == "id"
                  for c in constraint["list"] if c["op"] == 2]
        seen = json.dumps(context.get("constraints", []), sort_keys=True)
        return [{"id": i, "word": w, "seen": seen} for i, w in WORDS.items() if not wanted or i in wanted]


if __name__ == "__main__":
    osquery.start_extension(name="fleet_ext", version="1.0.0")
'''


@pytest.fixture()
def extension(tmp_path):
    script = tmp_path / "words.ext"
    script.write_text(EXTENSION)
    started = []

    def start(daemon):
        proc = subprocess.Popen([sys.executable, str(script), "--socket", daemon.paths["extensions_socket"],
                                 "--timeout", "10", "--interval", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(proc)
        try:
            daemon.wait_for(lambda: _registered(daemon), "the extension's table")
        except AssertionError:
            proc.kill()
            raise AssertionError("the extension did not register: %s" % proc.communicate()[1].decode()) from None
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _registered(daemon):
    return bool(daemon.query("SELECT name FROM osquery_registry WHERE registry = 'table' AND name = 'fleet_words'"))


def test_extension_table_in_queries_joins_the_shell_and_the_schedule(daemons, extension):
    daemon = daemons({"schedule": {"words": {"query": "SELECT id, word FROM fleet_words", "interval": 1}}},
                     extra_flags=["--disable_watchdog"]).start()
    proc = extension(daemon)
    rows = daemon.query("SELECT id, word, seen FROM fleet_words WHERE id IN (1, 3) ORDER BY id")
    assert [(r["id"], r["word"]) for r in rows] == [("1", "one"), ("3", "three")]
    # the constraint reached the extension as osquery sends it: EQUALS (2) per value, with the affinity
    assert json.loads(rows[0]["seen"]) == [{"affinity": "INTEGER", "list": [{"expr": "1", "op": 2},
                                                                            {"expr": "3", "op": 2}], "name": "id"}]
    joined = daemon.query("SELECT w.word, t.unix_time > 0 AS ok FROM fleet_words w JOIN time t WHERE w.id = 2")
    assert joined == [{"word": "two", "ok": "1"}]
    shell = subprocess.run([SHELL, "--connect", daemon.paths["extensions_socket"], "--json",
                            "SELECT word FROM fleet_words WHERE id = 2"], capture_output=True, text=True, timeout=60,
                           check=False)
    assert shell.returncode == 0 and shell.stdout == '[\n  {"word":"two"}\n]\n', shell.stderr
    daemon.wait_for(lambda: any(r["name"] == "words" for r in daemon.results()), "a scheduled result", timeout=30)
    logged = {r["columns"]["word"] for r in daemon.results() if r["name"] == "words"}
    assert logged == {"one", "two", "three"}
    # the extension goes: so does its table
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    daemon.wait_for(lambda: not _registered(daemon), "the table to go", timeout=20)
    assert daemon.ask("SELECT * FROM fleet_words").status.message == "no such table: fleet_words"


# osquery's SDK registers first and listens after: here half a second after
SLOW_LISTENER = EXTENSION.replace("import osquery\n", """import osquery
import time
from thrift.server import TServer

_serve = TServer.TSimpleServer.serve
TServer.TSimpleServer.serve = lambda server: (time.sleep(0.5), _serve(server))
""", 1)


def test_a_query_right_after_registration_waits_for_the_extension_to_listen(daemons, tmp_path):
    script = tmp_path / "slow.ext"
    script.write_text(SLOW_LISTENER)
    daemon = daemons({"schedule": {}}, extra_flags=["--disable_watchdog"]).start()
    proc = subprocess.Popen([sys.executable, str(script), "--socket", daemon.paths["extensions_socket"],
                             "--timeout", "10", "--interval", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        daemon.wait_for(lambda: _registered(daemon), "the extension's table")
        assert daemon.query("SELECT word FROM fleet_words WHERE id = 3") == [{"word": "three"}]
    finally:
        proc.kill()
        proc.wait()


def test_extension_cannot_replace_a_built_in_table(daemons, tmp_path):
    script = tmp_path / "time.ext"
    script.write_text(EXTENSION.replace('"fleet_words"', '"time"'))
    daemon = daemons({"schedule": {}}, extra_flags=["--disable_watchdog"]).start()
    proc = subprocess.Popen([sys.executable, str(script), "--socket", daemon.paths["extensions_socket"],
                             "--timeout", "10", "--interval", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        daemon.wait_for(lambda: daemon.query("SELECT name FROM osquery_extensions WHERE name = 'fleet_ext'"),
                        "the extension")
        assert "unix_time" in daemon.query("SELECT * FROM time")[0]
        daemon.wait_for(lambda: "cannot replace the built-in table time" in daemon.log("pyosqueryd.WARNING"),
                        "the warning")
    finally:
        proc.kill()
        proc.wait()


def test_extensions_require_holds_the_schedule_until_the_extension_answers(daemons, extension):
    daemon = daemons({"schedule": {"words": {"query": "SELECT id, word FROM fleet_words", "interval": 1}}},
                     extra_flags=["--disable_watchdog", "--extensions_require=fleet_ext",
                                  "--extensions_timeout=60"]).start()
    time.sleep(2.5)     # without the wait, the schedule would run (and fail) in these steps
    extension(daemon)
    daemon.wait_for(lambda: any(r["name"] == "words" for r in daemon.results()), "a scheduled result", timeout=30)
    assert "Error executing scheduled query words" not in daemon.log("pyosqueryd.ERROR")


def test_a_missing_required_extension_is_an_error_and_the_daemon_goes_on(daemons):
    daemon = daemons({"schedule": {"one": {"query": "SELECT 1 AS a", "interval": 1}}},
                     extra_flags=["--disable_watchdog", "--extensions_require=absent_ext",
                                  "--extensions_timeout=1"]).start()
    daemon.wait_for(daemon.results, "a scheduled result")
    assert ("Required extension not found or not loaded: absent_ext" in daemon.log("pyosqueryd.WARNING"))
    assert ("An error occurred during extension manager startup: Required extension not found or not loaded: "
            "absent_ext" in daemon.log("pyosqueryd.ERROR"))
