"""Module benchmarks: how the modules reach the agent, and what a task costs next to an Ansible ping.

Run by `make bench`. Against one real daemon: a call through the modules' stdlib socket client
(connect, one query, close: what a module does) side by side with `pyosqueryi --connect --json`
(a process per call) and osquery's own Python SDK client; then `schedule_info` and `sql_info`
run by `ansible` on localhost side by side with `ansible -m ping`; then a `pack` change: from the
task's start until the query is in osquery_schedule. Results go into benchmarks/README.md
between the `modules` markers.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))
# pylint: disable=wrong-import-position,import-error
from procs import BIN, start_daemon  # noqa: E402
from report import publish  # noqa: E402
from timing import median_ms  # noqa: E402
from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import AgentClient  # noqa: E402

SCHEDULE = {"q%02d" % i: {"query": "SELECT count(*) FROM processes", "interval": 1 + i % 5} for i in range(10)}
SQL = "SELECT * FROM osquery_schedule"


def socket_call(path):
    with AgentClient(path) as client:
        return client.query(SQL)


def sdk_call(path):
    import osquery   # pylint: disable=import-outside-toplevel
    client = osquery.ExtensionClient(path=path)
    client.open(timeout=5)
    try:
        return client.extension_manager_client().query(SQL).response
    finally:
        client.close()


def shell_call(path):
    out = subprocess.run([os.path.join(BIN, "pyosqueryi"), "--connect", path, "--json", SQL],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def bench_clients(rows, path):
    ours = median_ms(lambda: socket_call(path), 200)
    sdk = median_ms(lambda: sdk_call(path), 200)
    shell = median_ms(lambda: shell_call(path), 20)
    rows.append(("one query, osquery_schedule of 10 queries (ms per call)", "%.2f" % ours,
                 "pyosqueryi --connect --json", "%.1f" % shell, "%.4f" % (ours / shell), "the cheaper"))
    rows.append(("one query, same (ms per call)", "%.2f" % ours, "osquery SDK client (thrift)", "%.2f" % sdk,
                 "%.2f" % (ours / sdk), "-"))


def ansible(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.pop("ANSIBLE_CONFIG", None)
    subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-i", "localhost,", "-c", "local"] + list(args),
                   capture_output=True, check=True, env=env)


def bench_tasks(rows, path):
    ping = median_ms(lambda: ansible("-m", "ping"), 7)
    schedule = median_ms(lambda: ansible("-m", "pyosquery.fleet.schedule_info", "-a", "socket=" + path), 7)
    info = json.dumps({"socket": path, "query": "SELECT * FROM osquery_info"})
    sql = median_ms(lambda: ansible("-m", "pyosquery.fleet.sql_info", "-a", info), 7)
    rows.append(("ansible localhost -m schedule_info (ms, 10 queries with their runs)", "%.0f" % schedule,
                 "ansible localhost -m ping", "%.0f" % ping, "%.2f" % (schedule / ping), "<= 3"))
    rows.append(("ansible localhost -m sql_info (ms)", "%.0f" % sql, "ansible localhost -m ping", "%.0f" % ping,
                 "%.2f" % (sql / ping), "<= 3"))


def bench_pack(rows, root, path):
    """A pack change through the module, from the task's start until the query is in osquery_schedule."""
    packs = os.path.join(root, "packs")
    flagfile = os.path.join(root, "flags")
    with open(flagfile, "w", encoding="utf-8") as handle:
        handle.write("--pidfile=%s\n" % os.path.join(root, "pid"))
    numbers = iter(range(100))

    def change():
        sql = "SELECT %d AS n" % next(numbers)       # new SQL each time: always a change
        ansible("-m", "pyosquery.fleet.pack", "-a", json.dumps(
            {"name": "bench", "query": "q", "sql": sql, "packs_dir": packs, "flagfile": flagfile,
             "pyosqueryctl": os.path.join(BIN, "pyosqueryctl"), "socket": path}))
        assert any(row["query"] == sql for row in socket_call(path))     # scheduled when the task returned
    changed = median_ms(change, 5)
    check_command = [os.path.join(BIN, "pyosqueryctl"), "--flagfile", flagfile, "pack-check", "--name", "bench",
                     os.path.join(packs, "bench.conf")]
    check = median_ms(lambda: subprocess.run(check_command, check=True), 5)
    rows.append(("pack change via ansible until the query is in osquery_schedule (ms)", "%.0f" % changed,
                 "of which pyosqueryctl pack-check", "%.0f" % check, "%.2f" % (check / changed), "-"))


def main():
    root = tempfile.mkdtemp(prefix="pyosquery-modules-")
    os.makedirs(os.path.join(root, "packs"), mode=0o700)
    daemon = start_daemon(root, SCHEDULE, packs={"*": os.path.join(root, "packs", "*.conf")})
    path = os.path.join(root, "em")
    rows = []
    try:
        while not os.path.exists(path):
            time.sleep(0.1)
        time.sleep(6)       # every query has run a few times
        bench_clients(rows, path)
        bench_tasks(rows, path)
        bench_pack(rows, root, path)
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(root)
    publish("modules", ("measurement", "ours", "peer", "peer", "ratio", "target"), rows)


if __name__ == "__main__":
    main()
