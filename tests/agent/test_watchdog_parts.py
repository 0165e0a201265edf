"""The watchdog's parts without a daemon, on real child processes: the limits the flags give, the
CPU and memory meter (a child that burns a measured amount of its own CPU or memory on request),
stopping children, the autoload list, and the watcher's restart rules with small shell workers.
test_watchdog.py checks the whole through a running pyosqueryd.

Nothing here depends on how busy the machine is: a child's CPU is counted in its own CPU time
(it burns until its process_time has grown), and every wait is for a condition."""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from pyosquery import flags
from pyosquery.watchdog import children, extensions, worker
from pyosquery.watchdog.limits import LEVELS, Limits, cpu_limit_ms, for_values, respawn_pause
from pyosquery.watchdog.meter import Meter, read_usage
from pyosquery.watchdog.signals import Signals
from pyosquery.watchdog.watcher import Watcher

# a child that, for each line "cpu N", "mem N" or "free 0", burns N ms of its own CPU, keeps N more MiB or
# lets go of what it kept, then says "done"
CHILD = r"""
import sys, time
kept = []
for line in sys.stdin:
    what, amount = line.split()
    if what == "free":
        del kept[:]
    elif what == "cpu":
        target = time.process_time() + int(amount) / 1000.0
        while time.process_time() < target:
            pass
    else:
        kept.append(bytearray(int(amount) * 1048576))
        for index in range(0, len(kept[-1]), 4096):
            kept[-1][index] = 1
    print("done", flush=True)
"""
# ignores SIGTERM and SIGUSR1: only SIGKILL ends it
STUBBORN = ("import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
            "print('ready', flush=True)\ntime.sleep(120)\n")


class Child:
    def __init__(self, script=CHILD):
        self.proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ask(self, what, amount):
        self.proc.stdin.write("%s %d\n" % (what, amount))
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "done\n"

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(name="child")
def fixture_child():
    made = Child()
    yield made
    made.close()


def parse(*args):
    return flags.parse(["--flagfile=/dev/null"] + list(args), "pyosqueryd")[0]


# limits

def test_levels_and_the_flags_that_override_them():
    assert for_values(parse()) == LEVELS[0] == Limits(200, 10, 4, 5, 12, 3)
    assert for_values(parse("--watchdog_level=1")) == LEVELS[1] == Limits(100, 5, 4, 5, 6, 3)
    assert for_values(parse("--watchdog_level=-1")) == LEVELS[-1] == Limits(10000, 100, 1000, 1, 1000, 3)
    assert for_values(parse("--watchdog_level=2")) == LEVELS[0]
    assert for_values(parse("--watchdog_level=1", "--watchdog_memory_limit=1", "--watchdog_utilization_limit=70",
                            "--watchdog_latency_limit=9")) == Limits(1, 70, 4, 5, 9, 3)


def test_cpu_limit_is_a_share_of_every_cpu_over_the_check_interval():
    assert cpu_limit_ms(LEVELS[0], 1) == 300 and cpu_limit_ms(LEVELS[0], 4) == 1200
    assert cpu_limit_ms(Limits(1, 7, 1, 1, 1, 3), 3) == 630
    assert cpu_limit_ms(Limits(1, 250, 1, 1, 1, 3), 2) == 6000     # never over 100 %
    assert cpu_limit_ms(Limits(1, 1, 1, 1, 1, 3), 3) == 90


def test_respawn_pause_doubles_up_to_the_maximum():
    assert [respawn_pause(LEVELS[0], n, 600) for n in range(5)] == [6, 7, 9, 13, 21]
    assert respawn_pause(LEVELS[0], 10, 600) == 600 and respawn_pause(LEVELS[0], 3, 13) == 13


# the meter

def tight(latency_s=6, memory_mb=1000):
    """Limits a 1 % share of one CPU crosses: 30 ms per 3 s check."""
    return Limits(memory_mb, 1, 4, 5, latency_s, 3)


def test_read_usage_of_a_process_with_spaces_and_parentheses_in_its_name(tmp_path):
    odd = tmp_path / "odd ) name"
    odd.symlink_to("/bin/sleep")
    proc = subprocess.Popen([str(odd), "30"])
    try:
        parent, cpu_ms, resident = read_usage(proc.pid)
        assert parent == os.getpid() and cpu_ms >= 0 and resident > 0
    finally:
        proc.kill()
        proc.wait()
    assert read_usage(proc.pid) is None


def test_a_new_meter_has_nothing_to_show():
    assert Meter(tight(), 1, os.getpid()).debug_line(42) == "pid: 42, cpu: 0ms/30ms, memory: 0.00MB/1000MB"


def test_cpu_over_the_limit_for_the_latency_stops_the_process(child):
    meter = Meter(tight(latency_s=6), 1, os.getpid())
    child.ask("cpu", 100)
    assert meter.check(child.proc.pid) is None             # one check over: 3 s of the 6 allowed
    child.ask("cpu", 100)
    assert meter.check(child.proc.pid) == "Maximum sustainable CPU utilization limit 30ms exceeded for 6 seconds"
    assert meter.debug_line(child.proc.pid).startswith("pid: %d, cpu: " % child.proc.pid)
    assert meter.debug_line(child.proc.pid).endswith("ms/30ms, memory: 0.00MB/1000MB")


def test_a_quiet_check_resets_the_cpu_count(child):
    meter = Meter(tight(latency_s=6), 1, os.getpid())
    child.ask("cpu", 100)
    assert meter.check(child.proc.pid) is None
    assert meter.check(child.proc.pid) is None             # no CPU since: the count starts again
    child.ask("cpu", 100)
    assert meter.check(child.proc.pid) is None
    child.ask("cpu", 100)
    assert meter.check(child.proc.pid).startswith("Maximum sustainable CPU utilization limit 30ms")


def test_one_check_over_is_enough_when_the_latency_is_the_interval(child):
    meter = Meter(tight(latency_s=3), 1, os.getpid())
    child.ask("cpu", 100)
    assert meter.check(child.proc.pid) == "Maximum sustainable CPU utilization limit 30ms exceeded for 3 seconds"


def test_cpu_under_the_limit_is_never_stopped(child):
    meter = Meter(Limits(1000, 100, 4, 5, 3, 3), 1, os.getpid())    # 3000 ms per check
    for _ in range(3):
        child.ask("cpu", 100)
        assert meter.check(child.proc.pid) is None


def test_memory_over_the_processs_own_baseline_stops_it(child):
    meter = Meter(Limits(20, 100, 4, 5, 3, 3), 1, os.getpid())
    child.ask("mem", 50)                                   # before the first check: part of the baseline
    assert meter.check(child.proc.pid) is None
    child.ask("mem", 10)
    assert meter.check(child.proc.pid) is None             # 10 MiB over the baseline, under 20
    child.ask("mem", 15)
    reason = meter.check(child.proc.pid)
    footprint = int(reason.split()[3])
    assert 25 * 1048576 <= footprint < 30 * 1048576
    assert reason == "Memory limits exceeded: %d bytes (limit is 20MB)" % footprint
    assert "memory: %.2fMB/20MB" % (footprint / 1048576.0) in meter.debug_line(child.proc.pid)


def test_memory_below_the_baseline_counts_as_none(child):
    meter = Meter(Limits(20, 100, 4, 5, 3, 3), 1, os.getpid())
    child.ask("mem", 50)
    assert meter.check(child.proc.pid) is None
    child.ask("free", 0)
    assert meter.check(child.proc.pid) is None
    assert meter.debug_line(child.proc.pid).endswith(", memory: 0.00MB/20MB")


def test_a_process_that_is_not_our_child_is_not_judged(child):
    child.ask("cpu", 100)
    assert Meter(tight(latency_s=3), 1, os.getppid()).check(child.proc.pid) is None
    assert Meter(tight(latency_s=3), 1, os.getpid()).check(2 ** 22 + 1) is None


# stopping children

def test_exit_text():
    assert children.exit_text(None) == "" and children.exit_text(0) == "exited with code 0"
    assert children.exit_text(-9) == "killed by signal 9" and children.exit_text(3) == "exited with code 3"


def test_stop_ends_a_child_with_sigterm(child):
    assert children.stop(child.proc, 30, "child") and child.proc.returncode == -signal.SIGTERM
    assert children.stop(child.proc, 30, "child")          # already gone


def test_stop_kills_a_child_that_ignores_sigterm(caplog):
    stubborn = Child(STUBBORN)
    assert stubborn.proc.stdout.readline() == "ready\n"
    with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
        assert children.stop(stubborn.proc, 0.3, "osquery thing")
    assert stubborn.proc.returncode == -signal.SIGKILL
    assert "osquery thing (%d) could not be stopped. Sending kill signal." % stubborn.proc.pid in caplog.text


def test_wait_gone_gives_up_at_its_deadline(child):
    assert not children.wait_gone(child.proc, 0.1) and child.proc.poll() is None


def test_spawn_adds_to_the_environment_and_gives_no_stdin():
    check = "import os, sys; sys.exit(0 if os.environ['EXTRA'] == 'yes' and 'PATH' in os.environ and sys.stdin.read() == '' else 1)"
    assert children.spawn([sys.executable, "-c", check], {"EXTRA": "yes"}).wait() == 0


# autoloaded extensions

def extension(directory, name="x.ext", mode=0o755, text="#!/bin/sh\nexit 0\n"):
    path = directory / name
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_unsafe_extensions_are_named_with_the_reason(tmp_path):
    good = extension(tmp_path)
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    owned = extension(tmp_path, "owned.ext")
    os.chown(owned, 4321, 4321)
    (tmp_path / "dir.ext").mkdir()
    assert extensions.unsafe_reason(good) is None
    assert extensions.unsafe_reason(extension(tmp_path, "x.py")) == "the name must end in .ext"
    assert extensions.unsafe_reason(str(tmp_path / "missing.ext")) == "missing"
    assert extensions.unsafe_reason(str(tmp_path / "dir.ext")) == "a directory"
    assert extensions.unsafe_reason(extension(sticky)) == "in a sticky-bit directory"
    assert extensions.unsafe_reason(owned) == "owned by another user"
    assert extensions.unsafe_reason(extension(tmp_path, "plain.ext", 0o644)) == "not executable, or world-writable"
    assert extensions.unsafe_reason(extension(tmp_path, "open.ext", 0o757)) == "not executable, or world-writable"


def test_the_autoload_list_skips_comments_expands_directories_and_leaves_out_the_unsafe(tmp_path, caplog):
    folder = tmp_path / "folder"
    folder.mkdir()
    inside = [extension(folder, "b.ext"), extension(folder, "a.ext")]
    first, unsafe = extension(tmp_path, "first.ext"), extension(tmp_path, "unsafe.ext", 0o644)
    listing = tmp_path / "extensions.load"
    listing.write_text("\n# %s\n; %s\n  %s  \n%s\n%s\n" % (first, first, first, folder, unsafe))
    with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
        assert extensions.autoload_paths(str(listing)) == [first] + sorted(inside)
    assert "Will not autoload extension with unsafe directory permissions: %s (not executable" % unsafe in caplog.text
    assert extensions.autoload_paths(str(listing), allow_unsafe=True) == [first] + sorted(inside) + [unsafe]
    assert extensions.autoload_paths(str(tmp_path / "none.load")) == []


def test_extensions_start_with_osquerys_command_line_and_dead_ones_restart(tmp_path, caplog):
    record = tmp_path / "started"
    script = extension(tmp_path, "rec.ext", text='#!/bin/sh\necho "$OSQUERY_EXTENSION $*" >> %s\n' % record)
    listing = tmp_path / "extensions.load"
    listing.write_text(script + "\n")
    values = parse("--extensions_autoload=%s" % listing, "--extensions_socket=/tmp/s.em", "--extensions_timeout=7",
                   "--extensions_interval=9", "--verbose")
    keeper = extensions.Extensions(values, for_values(values), 1)
    keeper.start()
    item = keeper.items[0]
    item.proc.wait()
    with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
        keeper.check(enforce=True)
    item.proc.wait()
    assert item.restarts == 1 and "Extension respawning too quickly: %s" % script in caplog.text
    # osquery's respawn limit: an extension that lived under 4 s came back too quickly, one older did not
    for lived, quick in ((3.2, True), (4.8, False)):
        item.proc.wait()
        item.started = time.monotonic() - lived
        caplog.clear()
        with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
            keeper.check(enforce=True)
        assert ("respawning too quickly" in caplog.text) == quick, lived
    item.proc.wait()
    assert record.read_text() == ("%d --verbose --socket /tmp/s.em --timeout 7 --interval 9\n" % os.getpid()) * 4
    keeper.stop(1)
    disabled = extensions.Extensions(parse("--extensions_autoload=%s" % listing, "--disable_extensions"), LEVELS[0], 1)
    disabled.start()
    assert disabled.items == []
    assert extensions.keep_in_thread(parse("--extensions_autoload=%s" % (tmp_path / "none")), threading.Event()) is None


def test_an_extension_over_its_limit_is_stopped_only_when_enforced(tmp_path, caplog):
    listing = tmp_path / "extensions.load"
    listing.write_text(extension(tmp_path, "busy.ext", text="#!/bin/sh\nexec %s -c '%s'\n" % (
        sys.executable, "import time\nwhile time.process_time() < 0.15: pass\ntime.sleep(120)")) + "\n")
    values = parse("--extensions_autoload=%s" % listing, "--watchdog_delay=0", "--watchdog_forced_shutdown_delay=5")
    keeper = extensions.Extensions(values, tight(latency_s=3), 1)
    keeper.start()
    item = keeper.items[0]
    try:
        wait_cpu(item.proc.pid, 100)
        with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
            keeper.check(enforce=False)
            assert item.proc.poll() is None
            item.meter = Meter(tight(latency_s=3), 1, os.getpid())
            keeper.check(enforce=True)
        assert item.proc.wait(30) == -signal.SIGTERM
        assert "osquery extension %s (%d) stopping: Maximum sustainable CPU" % (item.path, item.proc.pid) in caplog.text
    finally:
        keeper.stop(1)


def wait_cpu(pid, ms):
    """Until `pid` has used `ms` of CPU (a condition, not a time)."""
    while read_usage(pid)[1] < ms:
        threading.Event().wait(0.02)


# the worker's side

def test_the_worker_knows_its_watcher_and_state(monkeypatch):
    monkeypatch.delenv(worker.WORKER_ENV, raising=False)
    monkeypatch.delenv(worker.STATE_ENV, raising=False)
    assert not worker.is_worker() and worker.watcher_pid() == -1 and worker.state() == {}
    monkeypatch.setenv(worker.WORKER_ENV, "1234")
    monkeypatch.setenv(worker.STATE_ENV, '{"worker_restarts": 2}')
    assert worker.is_worker() and worker.watcher_pid() == 1234 and worker.state() == {"worker_restarts": 2}
    monkeypatch.setenv(worker.WORKER_ENV, "x")
    monkeypatch.setenv(worker.STATE_ENV, "{")
    assert worker.watcher_pid() == os.getppid() and worker.state() == {}


# the watcher, with small shell workers

@pytest.fixture(name="signals_restored")
def fixture_signals_restored():
    """The watcher installs its signal handlers in this process: put pytest's back afterwards."""
    watched = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)
    saved = {number: signal.getsignal(number) for number in watched}
    yield
    signal.set_wakeup_fd(-1)
    for number, handler in saved.items():
        signal.signal(number, handler)


def shell_worker(tmp_path, body):
    """A worker that appends what the watcher passed it to `tmp_path/state` and runs `body`."""
    record = 'echo "$%s $%s" >> %s' % (worker.WORKER_ENV, worker.STATE_ENV, tmp_path / "state")
    return ["/bin/sh", "-c", record + "; " + body]


def states(tmp_path):
    lines = (tmp_path / "state").read_text().splitlines()
    return [(int(line.split(" ", 1)[0]), json.loads(line.split(" ", 1)[1])) for line in lines]


def test_a_worker_that_keeps_dying_ends_the_watcher(tmp_path, signals_restored, caplog):
    values = parse("--watchdog_max_delay=0")
    with caplog.at_level(logging.INFO, "pyosquery.watchdog"):
        assert Watcher(values, shell_worker(tmp_path, "exit 3")).run() == 1
    seen = states(tmp_path)
    assert [pid for pid, _ in seen] == [os.getpid()] * 5
    assert [(s["worker_restarts"], s["quick_restarts"]) for _, s in seen] == [(n, n) for n in range(5)]
    assert [s["last_exit"] for _, s in seen] == [""] + ["exited with code 3"] * 4
    for count in range(1, 5):
        assert "osqueryd worker respawning too quickly: %d times" % count in caplog.text
    assert "Too many worker restarts" in caplog.text and "respawning too quickly: 5 times" not in caplog.text


def test_a_catastrophic_worker_exit_ends_the_watcher_with_its_code(tmp_path, signals_restored, caplog):
    with caplog.at_level(logging.INFO, "pyosquery.watchdog"):
        assert Watcher(parse(), shell_worker(tmp_path, "exit 78")).run() == 78
    assert "Worker returned exit status" in caplog.text and len(states(tmp_path)) == 1


def test_sigterm_to_the_watcher_stops_it_and_its_worker(tmp_path, signals_restored, caplog):
    # the worker itself sends the SIGTERM, to the watcher it was told of
    watcher = Watcher(parse(), shell_worker(tmp_path, 'kill -TERM "$%s"; exec sleep 60' % worker.WORKER_ENV))
    with caplog.at_level(logging.INFO, "pyosquery.watchdog"):
        assert watcher.run() == 0
    assert watcher.worker.returncode == -signal.SIGTERM and len(states(tmp_path)) == 1
    assert "cannot stop" not in caplog.text


def test_the_watcher_checks_its_worker_every_interval_and_replaces_one_it_stopped(tmp_path, signals_restored, caplog):
    # the first worker burns CPU until stopped; the next one ends the watcher (exit 78) so the test ends
    burn = "%s -c 'while True: pass'" % sys.executable
    command = shell_worker(tmp_path, 'if [ -e %s ]; then exit 78; fi; touch %s; exec %s' % (
        tmp_path / "ran", tmp_path / "ran", burn))
    values = parse("--watchdog_utilization_limit=1", "--watchdog_latency_limit=3", "--watchdog_delay=0",
                   "--watchdog_forced_shutdown_delay=5", "--watchdog_max_delay=0")
    before = os.times()
    with caplog.at_level(logging.INFO, "pyosquery.watchdog"):
        assert Watcher(values, command).run() == 78
    after = os.times()
    (first, _), (_, second) = states(tmp_path)
    assert "osqueryd worker (" in caplog.text and ") stopping: Maximum sustainable CPU utilization limit" in caplog.text
    assert second["last_stop_reason"].startswith("Maximum sustainable CPU") and second["worker_restarts"] == 1
    assert second["last_exit"] == "killed by signal %d" % signal.SIGUSR1 and first == os.getpid()   # no handler here
    # between checks the watcher sleeps: its own CPU (not its children's) stays small however long it waited
    assert after.user + after.system - before.user - before.system < 0.2


def test_the_watcher_stops_a_worker_over_its_limit_after_the_delay(child, caplog):
    values = parse("--watchdog_utilization_limit=1", "--watchdog_latency_limit=3", "--watchdog_delay=0",
                   "--watchdog_forced_shutdown_delay=5")
    watcher = Watcher(values, [])
    watcher.worker, watcher.meter = child.proc, Meter(watcher.limits, 1, os.getpid())
    watcher.spawned = 0.0
    child.ask("cpu", 100)
    with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
        assert watcher.check_worker() is None
    assert child.proc.returncode == -signal.SIGUSR1        # the worker's SIGUSR1 handler keeps the marker
    reason = "Maximum sustainable CPU utilization limit 30ms exceeded for 3 seconds"
    assert "osqueryd worker (%d) stopping: %s" % (child.proc.pid, reason) in caplog.text
    assert watcher.state()["last_stop_reason"] == reason and watcher.state()["last_stop_time"] > 0


def test_watchdog_delay_spares_a_young_worker(child):
    values = parse("--watchdog_utilization_limit=1", "--watchdog_latency_limit=3", "--watchdog_delay=3600")
    watcher = Watcher(values, [])
    watcher.worker, watcher.meter = child.proc, Meter(watcher.limits, 1, os.getpid())
    watcher.spawned = time.monotonic()
    child.ask("cpu", 100)
    assert watcher.check_worker() is None and child.proc.poll() is None and watcher.state()["last_stop_reason"] == ""


def test_a_worker_deaf_to_sigterm_is_killed(caplog):
    stubborn = Child(STUBBORN)
    assert stubborn.proc.stdout.readline() == "ready\n"
    watcher = Watcher(parse("--watchdog_forced_shutdown_delay=0"), [])
    watcher.worker = stubborn.proc
    with caplog.at_level(logging.WARNING, "pyosquery.watchdog"):
        assert watcher.stop_worker("test") is None          # SIGKILL ends it
    assert stubborn.proc.returncode == -signal.SIGKILL
    assert "osqueryd worker (%d) could not be stopped. Sending kill signal." % stubborn.proc.pid in caplog.text


def test_the_watcher_holds_itself_to_the_memory_limit(caplog):
    watcher = Watcher(parse("--watchdog_memory_limit=20"), [])
    assert watcher.check_self() is None
    block = bytearray(40 * 1048576)
    for index in range(0, len(block), 4096):
        block[index] = 1
    with caplog.at_level(logging.ERROR, "pyosquery.watchdog"):
        assert watcher.check_self() == 78
    assert "Watcher has become unhealthy: Memory limits exceeded: " in caplog.text
    assert "bytes (limit is 20MB)" in caplog.text


def test_a_pause_lasts_its_length_unless_told_to_wake_for_a_child(signals_restored):
    watcher = Watcher(parse(), [])
    watcher.signals = Signals()
    os.kill(os.getpid(), signal.SIGCHLD)        # a child died: the respawn pause must not end early for it
    began = time.monotonic()
    watcher.pause(0.3)
    assert time.monotonic() - began >= 0.3 and not watcher.stopping
    os.kill(os.getpid(), signal.SIGCHLD)
    watcher.pause(3600, wake_on_child=True)     # the main loop's pause ends for it
    os.kill(os.getpid(), signal.SIGTERM)
    watcher.pause(3600)
    assert watcher.stopping


def test_signals_wake_the_wait_and_are_forgotten_once_returned(signals_restored):
    signals = Signals()
    assert signals.wait(0) == set()
    os.kill(os.getpid(), signal.SIGHUP)
    os.kill(os.getpid(), signal.SIGCHLD)
    assert signals.wait(60) == {signal.SIGHUP, signal.SIGCHLD}
    assert signals.wait(0) == set()
