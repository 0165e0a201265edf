"""Issue 11, item 5: a config, pack or flagfile path that is /dev/zero or a FIFO fails at once with
the file named; `--config_check` never hangs, and a reload keeps the last good config."""

import json
import os
import resource
import signal
import subprocess
import sys

import pytest

from daemon_harness import schedule, status_log, worker

DAEMON = os.path.join(os.path.dirname(sys.executable), "pyosqueryd")
# before the fix /dev/zero was read whole: bound the child so a regression fails instead of eating the machine
MEMORY_CAP = 1 << 30


def capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run(*args):
    return subprocess.run([DAEMON] + list(args), capture_output=True, text=True, timeout=60, preexec_fn=capped,
                          check=False)


@pytest.fixture(name="fifo")
def fixture_fifo(tmp_path):
    path = tmp_path / "pack.fifo"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_config_check_refuses_a_pack_that_is_not_a_file(tmp_path, fifo, kind):
    pack = fifo if kind == "fifo" else kind
    config = tmp_path / "pyosquery.conf"
    config.write_text(json.dumps({"packs": {"hostile": pack}}))
    result = run("--flagfile=/dev/null", "--config_path=%s" % config, "--config_check")
    assert result.returncode == 1
    expected = "not a regular file (a FIFO)" if kind == "fifo" else "the file is larger than"
    assert "Error reading config: %s: " % pack in result.stderr and expected in result.stderr, result.stderr


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_flagfile_that_is_not_a_file_fails_with_its_name(fifo, kind):
    flagfile = fifo if kind == "fifo" else kind
    result = run("--flagfile=%s" % flagfile, "--config_check")
    assert result.returncode == 1 and result.stderr.startswith("pyosqueryd: flagfile %s: " % flagfile), result.stderr


def test_a_reload_onto_hostile_packs_keeps_the_running_config(daemons, fifo):
    daemon = daemons({"schedule": {"keep": {"query": "SELECT 1 AS a", "interval": 1}}}).start()
    first = worker(daemon)[0]
    daemon.wait_for(lambda: int(schedule(daemon)["keep"]["executions"]) >= 1, "a first run")
    daemon.write_config({"schedule": {"new": {"query": "SELECT 2 AS b", "interval": 1}},
                         "packs": {"zero": "/dev/zero", "fifo": fifo}})
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: "Error reading config" in status_log(daemon), "the reload's error")
    log = status_log(daemon)
    assert "/dev/zero: the file is larger than" in log and "%s: cannot read: not a regular file" % fifo in log
    ran = int(schedule(daemon)["keep"]["executions"])
    daemon.wait_for(lambda: int(schedule(daemon)["keep"]["executions"]) > ran, "the old schedule to go on")
    assert list(schedule(daemon)) == ["keep"] and worker(daemon)[0] == first
