"""The watchdog with the real daemon and short limits: the watcher stops a worker that overruns CPU
or memory, the next worker denylists the query, and the status log says so in osquery's words.

Nothing here depends on how busy the machine is (`make test-load` runs this file beside busy
loops): a worker that must overrun a limit is favoured (nice -20, its autogroup too) so its query
gets a core, every wait is on a condition with a deadline far beyond need, and no wall-clock
duration is asserted (only a lower bound, which load can only make later).
"""

import os
import re
import signal
import stat
import time

import psutil
import pytest

from daemon_harness import alive, favoured, schedule, status_log, wait_until, worker


INTERVAL = 3        # the watcher's check interval (osquery's, fixed)
LATENCY = 3         # --watchdog_latency_limit in these tests: one check over the CPU limit stops the worker
CPUS = os.cpu_count() or 1
# a CPU limit one busy core always crosses, whatever the number of CPUs: well under half of one core
UTILIZATION = max(1, 100 // (2 * CPUS))
CPU_LIMIT_MS = UTILIZATION * INTERVAL * 1000 * CPUS // 100
# the talk's query; heavy only once the trigger file exists (a constant WHERE term is evaluated first)
CROSS_JOIN = "SELECT 1 FROM users, users, users, users, users, users"
# a string that grows by ~200 KB at a time for seconds, past any 50 MB limit
GROWING = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 60000000) "
           "SELECT length(group_concat(CASE WHEN i % 60000 = 0 THEN printf('%.*c', 200000, 'x') END)) AS n FROM r")
LIMIT_FLAGS = ["--watchdog_delay=1", "--watchdog_forced_shutdown_delay=1", "--watchdog_latency_limit=%d" % LATENCY]


@pytest.fixture(scope="module")
def many_users(tmp_path_factory):
    """/etc/passwd plus 40 users, for the daemon's mount namespace: 46^6 rows take hours to join."""
    path = tmp_path_factory.mktemp("passwd") / "passwd"
    with open("/etc/passwd", encoding="utf-8") as handle:
        text = handle.read()
    text += "".join("wd%02d:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (i, 30000 + i, 30000 + i) for i in range(40))
    path.write_text(text)
    return str(path)


def when_exists(sql, trigger):
    return "%s WHERE EXISTS (SELECT 1 FROM file WHERE path = '%s')" % (sql, trigger)


def stop_after_trigger(daemon, trigger, pid):
    """Create the trigger, wait for the stop line (the worker favoured) and for the worker to go."""
    with favoured(pid):
        trigger.write_text("")
        daemon.wait_for(lambda: "osqueryd worker (%d) stopping: " % pid in status_log(daemon), "the stop line", 120)
    daemon.wait_for(lambda: not alive(pid), "the worker to go", 60)


def test_cross_join_is_stopped_denylisted_and_logged(daemons, tmp_path, many_users):
    trigger = tmp_path / "go"
    config = {"schedule": {"cross_join": {"query": when_exists(CROSS_JOIN, trigger), "interval": 1},
                           "tick": {"query": "SELECT 1 AS one", "interval": 1}}}
    flags = LIMIT_FLAGS + ["--watchdog_utilization_limit=%d" % UTILIZATION]
    daemon = daemons(config, extra_flags=flags, passwd=many_users).start()
    first, watcher = worker(daemon)
    assert watcher == daemon.proc.pid
    daemon.wait_for(lambda: int(schedule(daemon)["cross_join"]["executions"]) >= 1, "a cheap run")
    stop_after_trigger(daemon, trigger, first)
    second = worker(daemon, previous=first)[0]
    rows = schedule(daemon)
    assert rows["cross_join"]["denylisted"] == "1" and rows["tick"]["denylisted"] == "0"
    log = status_log(daemon)
    assert ("osqueryd worker (%d) stopping: Maximum sustainable CPU utilization limit %dms exceeded for %d seconds"
            % (first, CPU_LIMIT_MS, LATENCY)) in log
    assert "osqueryd watcher (%d) executing worker (%d)" % (watcher, second) in log
    assert "Scheduled query may have failed: cross_join" in log
    state = daemon.query("SELECT * FROM osquery_watchdog")[0]
    assert state["watcher_pid"] == str(watcher) and state["worker_pid"] == str(second)
    assert state["worker_restarts"] == "1" and state["last_denylisted_query"] == "cross_join"
    assert state["last_stop_reason"].startswith("Maximum sustainable CPU utilization limit")
    assert state["cpu_limit_ms"] == str(CPU_LIMIT_MS) and state["latency_limit_s"] == str(LATENCY)
    # denylisted, it does not run: the worker stays up and the other query keeps running
    ran, ticks = int(rows["cross_join"]["executions"]), int(rows["tick"]["executions"])
    daemon.wait_for(lambda: int(schedule(daemon)["tick"]["executions"]) >= ticks + 3, "three more ticks")
    assert int(schedule(daemon)["cross_join"]["executions"]) == ran
    assert alive(second)


def test_memory_hog_is_stopped_and_denylisted(daemons, tmp_path):
    trigger = tmp_path / "go"
    config = {"schedule": {"grow": {"query": when_exists(GROWING, trigger), "interval": 1}}}
    flags = LIMIT_FLAGS + ["--watchdog_memory_limit=50", "--watchdog_utilization_limit=100"]
    daemon = daemons(config, extra_flags=flags).start()
    first = worker(daemon)[0]
    daemon.wait_for(lambda: int(schedule(daemon)["grow"]["executions"]) >= 1, "a cheap run")
    stop_after_trigger(daemon, trigger, first)
    worker(daemon, previous=first)
    assert schedule(daemon)["grow"]["denylisted"] == "1"
    log = status_log(daemon)
    found = re.search(r"osqueryd worker \(%d\) stopping: Memory limits exceeded: (\d+) bytes \(limit is 50MB\)"
                      % first, log)
    assert found and int(found.group(1)) > 50 * 1024 * 1024
    assert "Scheduled query may have failed: grow" in log


def logged_at(log, text):
    """Seconds since midnight of the first status line holding `text` (glog: "W1130 11:15:16.529385 ...")."""
    line = next(line for line in log.splitlines() if text in line)
    hours, minutes, seconds = line.split()[1].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_watchdog_delay_spares_a_young_worker(daemons, many_users):
    delay = 15
    # heavy from the first run: without the delay the first check (3 s) would stop the worker
    config = {"schedule": {"cross_join": {"query": CROSS_JOIN, "interval": 1}}}
    flags = ["--watchdog_delay=%d" % delay, "--watchdog_forced_shutdown_delay=1",
             "--watchdog_latency_limit=%d" % LATENCY, "--watchdog_utilization_limit=%d" % UTILIZATION]
    daemon = daemons(config, extra_flags=flags, passwd=many_users).start()
    first, watcher = worker(daemon)
    with favoured(first):
        daemon.wait_for(lambda: "osqueryd worker (%d) stopping: " % first in status_log(daemon), "the stop line", 120)
    log = status_log(daemon)
    # a lower bound on time: a busy machine can only make the stop later
    began = logged_at(log, "osqueryd watcher (%d) executing worker (%d)" % (watcher, first))
    stopped = logged_at(log, "osqueryd worker (%d) stopping: Maximum sustainable CPU" % first)
    assert stopped - began >= delay


def test_denylist_false_keeps_the_query_scheduled(daemons, tmp_path, many_users):
    trigger = tmp_path / "go"
    config = {"schedule": {"cross_join": {"query": when_exists(CROSS_JOIN, trigger), "interval": 1,
                                          "denylist": False}}}
    flags = LIMIT_FLAGS + ["--watchdog_utilization_limit=%d" % UTILIZATION]
    daemon = daemons(config, extra_flags=flags, passwd=many_users).start()
    first = worker(daemon)[0]
    daemon.wait_for(lambda: int(schedule(daemon)["cross_join"]["executions"]) >= 1, "a cheap run")
    stop_after_trigger(daemon, trigger, first)
    trigger.unlink()        # cheap again: the next worker can answer while it runs the query
    worker(daemon, previous=first)
    assert "Scheduled query may have failed: cross_join" in status_log(daemon)
    ran = int(schedule(daemon)["cross_join"]["executions"])
    assert schedule(daemon)["cross_join"]["denylisted"] == "0"
    daemon.wait_for(lambda: int(schedule(daemon)["cross_join"]["executions"]) > ran, "the query to run again")


def test_a_denylisted_query_runs_again_once_the_denylist_expires(daemons, tmp_path, many_users):
    trigger = tmp_path / "go"
    config = {"schedule": {"cross_join": {"query": when_exists(CROSS_JOIN, trigger), "interval": 1}}}
    daemon = daemons(config, extra_flags=["--denylist_duration=5"], passwd=many_users).start()
    default = daemon.query("SELECT default_value FROM osquery_flags WHERE name = 'denylist_duration'")
    assert default == [{"default_value": "86400"}]      # osquery's 24 h
    first = worker(daemon)[0]
    daemon.wait_for(lambda: int(schedule(daemon)["cross_join"]["executions"]) >= 1, "a cheap run")
    # killed in the middle of the query (half a second of CPU since the trigger): the next worker
    # finds the marker and denylists the query, here for 5 s
    spent = sum(psutil.Process(first).cpu_times()[:2])
    with favoured(first):
        trigger.write_text("")
        daemon.wait_for(lambda: sum(psutil.Process(first).cpu_times()[:2]) > spent + 0.5, "the query to run", 120)
    os.kill(first, signal.SIGKILL)
    worker(daemon, previous=first)
    trigger.unlink()
    assert "Scheduled query may have failed: cross_join" in status_log(daemon)
    daemon.wait_for(lambda: "Scheduled denylisted query has expired: cross_join" in status_log(daemon), "the expiry")
    ran = int(schedule(daemon)["cross_join"]["executions"])
    daemon.wait_for(lambda: int(schedule(daemon)["cross_join"]["executions"]) > ran, "the query to run again")
    assert schedule(daemon)["cross_join"]["denylisted"] == "0"


def test_a_killed_worker_is_replaced_by_a_lower_priority_one(daemons):
    daemon = daemons({"schedule": {"tick": {"query": "SELECT 1 AS one", "interval": 1}}}).start()
    first, watcher = worker(daemon)
    # the watcher stays small: no SQL engine in its memory
    with open("/proc/%d/maps" % watcher, encoding="utf-8") as handle:
        assert "apsw" not in handle.read()
    with open("/proc/%d/maps" % first, encoding="utf-8") as handle:
        assert "apsw" in handle.read()
    assert os.getpriority(os.PRIO_PROCESS, first) == 10
    assert os.getpriority(os.PRIO_PROCESS, watcher) == 10
    # a worker that dies younger than 4 s (osquery's respawn limit) is restarted after a back-off
    wait_until(lambda: time.time() - psutil.Process(first).create_time() > 5, "the worker to be 5 s old")
    os.kill(first, signal.SIGKILL)
    second, same_watcher = worker(daemon, previous=first)
    assert same_watcher == watcher and alive(watcher)
    state = daemon.query("SELECT * FROM osquery_watchdog")[0]
    assert state["worker_restarts"] == "1" and state["quick_restarts"] == "0"
    assert state["last_exit"] == "killed by signal 9" and state["last_stop_reason"] == ""
    assert "osqueryd watcher (%d) executing worker (%d)" % (watcher, second) in status_log(daemon)


def test_sigint_to_the_worker_is_a_lost_worker_the_watcher_replaces(daemons):
    # osquery's test_daemon_lost_worker: SIGINT to the worker, the watcher stays and starts another
    daemon = daemons({"schedule": {}}).start()
    first, watcher = worker(daemon)
    time.sleep(4)           # older than the quick-restart limit: replaced at once
    os.kill(first, signal.SIGINT)
    second, same_watcher = worker(daemon, previous=first)
    assert same_watcher == watcher and second != first and alive(watcher) and not alive(first)


def test_a_killed_watcher_takes_its_worker_along(daemons):
    daemon = daemons({"schedule": {}}).start()
    pid, watcher = worker(daemon)
    os.kill(watcher, signal.SIGKILL)
    daemon.proc.wait()
    wait_until(lambda: not alive(pid), "the orphaned worker to leave")
    assert "osqueryd worker (%d) detected killed watcher (%d)" % (pid, watcher) in status_log(daemon)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_stops_both_and_removes_the_pidfile(daemons, number):
    daemon = daemons({"schedule": {}}).start()
    pid = worker(daemon)[0]
    daemon.signal(number)
    assert daemon.proc.wait(60) == 0
    assert not os.path.exists(daemon.paths["pidfile"])
    assert not alive(pid)


def test_a_worker_that_keeps_dying_makes_the_watcher_give_up(daemons):
    daemon = daemons({"schedule": {}}, extra_flags=["--watchdog_max_delay=1"])
    daemon.start(wait_socket=False)
    watcher = psutil.Process(daemon.proc.pid)
    deadline = time.monotonic() + 180
    # each worker dies as soon as it is seen: well inside the 4 s that make a restart quick
    while daemon.proc.poll() is None and time.monotonic() < deadline:
        try:
            for child in watcher.children():
                child.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    assert daemon.proc.wait(1) == 1
    log = status_log(daemon)
    assert "osqueryd worker respawning too quickly: 4 times" in log
    assert "Too many worker restarts" in log


def test_autoloaded_extensions_are_restarted_and_limited(daemons, tmp_path):
    seen = tmp_path / "seen"
    sleeper, burner = tmp_path / "sleeper.ext", tmp_path / "burner.ext"
    sleeper.write_text('#!/bin/sh\necho "$$ $*" >> %s\nexec sleep 600\n' % seen)
    burner.write_text("#!/bin/sh\nwhile :; do :; done\n")
    for path in (sleeper, burner):
        path.chmod(stat.S_IRWXU)
    (tmp_path / "extensions.load").write_text("# managed\n%s\n\n%s\n" % (sleeper, burner))
    flags = LIMIT_FLAGS + ["--watchdog_utilization_limit=%d" % UTILIZATION, "--enable_extensions_watchdog",
                           "--extensions_autoload=%s" % (tmp_path / "extensions.load")]
    daemon = daemons({"schedule": {}}, extra_flags=flags).start()
    daemon.wait_for(lambda: seen.exists() and seen.read_text(), "the sleeper")
    first_pid, args = seen.read_text().split(" ", 1)
    assert args.split() == ["--socket", daemon.paths["extensions_socket"], "--timeout", "3", "--interval", "3"]
    os.kill(int(first_pid), signal.SIGKILL)
    daemon.wait_for(lambda: len(seen.read_text().splitlines()) == 2, "the sleeper to restart")
    with favoured(extension(daemon, burner)):
        daemon.wait_for(lambda: re.search(r"osquery extension %s \(\d+\) stopping: Maximum sustainable CPU" % burner,
                                          status_log(daemon)), "the burner to be stopped", timeout=120)
    second_pid = int(seen.read_text().splitlines()[1].split()[0])
    assert daemon.stop() == 0
    assert not alive(second_pid)


def extension(daemon, path):
    """The pid of the autoloaded extension `path` (a shell script: its path is the shell's argument)."""
    found = []

    def running():
        for child in psutil.Process(daemon.proc.pid).children():
            try:
                if str(path) in child.cmdline():
                    found.append(child.pid)
            except psutil.NoSuchProcess:
                pass
        return found

    daemon.wait_for(running, "the extension %s" % path)
    return found[0]


# holds a blob as large as the file `hold` for as long as the file keeps that size: a footprint the
# test sets and that stays the same check after check (a growing one can jump a 20% window between
# checks). The file is looked at every 100k steps (`r.i` makes SQLite look again: an uncorrelated
# EXISTS runs once); a run that began before the file did ends at the first look.
HOLDER = ("SELECT length(held.b) + (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i % 100000 <> 0 "
          "OR EXISTS (SELECT 1 FROM file WHERE path = '{0}' AND size = length(held.b) AND r.i)) SELECT max(i) FROM r) "
          "AS n FROM (SELECT max(randomblob(coalesce((SELECT size FROM file WHERE path = '{0}'), 1))) AS b) AS held")


def footprints(daemon, pid):
    """The footprint (MB) the watcher measured for worker `pid` at each check (--enable_watchdog_debug)."""
    return [float(mb) for mb in re.findall(r"pid: %d, cpu: \d+ms/\d+ms, memory: ([\d.]+)MB/" % pid, daemon.stderr())]


def steady_footprint(daemon, pid, accept):
    """The footprint once two checks in a row measure the same, and `accept` takes it."""
    seen = len(footprints(daemon, pid))

    def steady():
        found = footprints(daemon, pid)[seen:]
        return len(found) >= 2 and abs(found[-1] - found[-2]) < 0.5 and accept(found[-1])
    daemon.wait_for(steady, "a steady footprint", 120)
    return footprints(daemon, pid)[-1]


def hold(path, megabytes):
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.truncate(int(megabytes * 1048576))


def test_the_memory_limit_is_the_flags_to_the_megabyte(daemons, tmp_path):
    limit, held = 40, tmp_path / "hold"
    flags = ["--watchdog_delay=1", "--watchdog_forced_shutdown_delay=1", "--watchdog_latency_limit=1000",
             "--watchdog_utilization_limit=100", "--watchdog_memory_limit=%d" % limit, "--enable_watchdog_debug",
             "--verbose", "--logger_stderr=true"]
    config = {"schedule": {"hold": {"query": HOLDER.format(held), "interval": 1}}}
    daemon = daemons(config, extra_flags=flags, stderr_file=True).start()
    first = worker(daemon)[0]
    # the worker's own measure of what a held megabyte costs it (SQLite keeps copies of the value)
    idle = steady_footprint(daemon, first, lambda mb: True)
    hold(held, 4)
    holding = steady_footprint(daemon, first, lambda mb: mb > idle + 4)
    per_mb = (holding - idle) / 4
    held.unlink()
    idle = steady_footprint(daemon, first, lambda mb: mb < holding - 4)
    # now 10% over the limit: the first check must stop the worker; a limit 20% too high would not
    checked = len(footprints(daemon, first))
    hold(held, (limit * 1.1 - idle) / per_mb)
    stop = "osqueryd worker (%d) stopping: Memory limits exceeded: " % first

    def over():
        return [mb for mb in footprints(daemon, first)[checked:] if mb > limit]
    daemon.wait_for(lambda: stop in daemon.stderr() or len(over()) > 1, "a check over the limit", 120)
    assert len(over()) == 1 and stop in daemon.stderr(), "checks over %d MB that did not stop the worker: %s" % (
        limit, over())
    assert over()[0] < limit * 1.2, "the footprint overshot the 20%% window: %s" % over()
    assert "(limit is %dMB)" % limit in daemon.stderr().split(stop, 1)[1].splitlines()[0]
