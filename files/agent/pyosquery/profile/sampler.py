"""Watch a child process with psutil as osquery's profile_cmd does, and say what it cost.

The child is sampled every `interval` seconds until it ends. CPU time, memory and descriptors come from the
last sample, taken while the shell sleeps its trailing profile delay, so they include the whole query.
"""

import subprocess
import tempfile
import time

import psutil

# keys of a measurement; all numbers, so rounds can be averaged key by key
KEYS = ("utilization", "cpu_time", "memory", "fds", "duration", "user_time", "system_time", "exit")
KILLED = -9     # the exit code subprocess reports for a child we killed on timeout


class _Sample:
    __slots__ = ("at", "user", "system", "rss", "fds")

    def __init__(self, process):
        with process.oneshot():
            times = process.cpu_times()
            self.rss = process.memory_info().rss
            self.fds = process.num_fds()
        self.at = time.monotonic()
        self.user, self.system = times.user, times.system

    def percent_since(self, earlier):
        """CPU % over the time between two samples, as psutil's cpu_percent (it can exceed 100)."""
        elapsed = self.at - earlier.at
        busy = (self.user + self.system) - (earlier.user + earlier.system)
        return 100.0 * busy / elapsed if elapsed > 0 else 0.0


def _watch(popen, interval, deadline):
    """(last sample or None, cpu % per interval, killed) once the child ends or passes `deadline`."""
    process = psutil.Process(popen.pid)
    last, percents = None, []
    while True:
        try:
            sample = _Sample(process)
        except psutil.Error:        # gone, a zombie, or not ours to read
            break
        if sample.rss == 0:         # a zombie reads as zero memory: it has ended
            break
        if last is not None:
            percents.append(sample.percent_since(last))
        last = sample
        if deadline and time.monotonic() >= deadline:
            popen.kill()
            return last, percents, True
        try:
            popen.wait(timeout=interval)    # like sleeping `interval`, but ends at once when the child does
            break
        except subprocess.TimeoutExpired:
            pass
    return last, percents, False


def _measurement(last, percents, wall, delay, code):
    busy = [p for p in percents if p > 0]   # idle samples (the delays) would dilute the query's load
    user = last.user if last else 0.0
    system = last.system if last else 0.0
    return {
        "utilization": round(sum(busy) / len(busy), 2) if busy else 0.0,
        "cpu_time": round(user + system, 3),
        "memory": last.rss if last else 0,
        "fds": last.fds if last else 0,
        "duration": round(max(0.0, wall - 2 * delay), 3),
        "user_time": round(user, 3),
        "system_time": round(system, 3),
        "exit": code,
    }


def profile_command(argv, delay=1.0, interval=0.5, timeout=0):
    """(measurement dict, stderr text) of running `argv`, a command that sleeps `delay` s before and after.

    With `timeout` > 0 the child is killed once it has run timeout + both delays; its exit is then -9.
    """
    with tempfile.TemporaryFile() as errors:   # a file, not a pipe: a chatty child cannot block on it
        start = time.monotonic()
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
        deadline = start + timeout + 2 * delay if timeout > 0 else None
        try:
            last, percents, killed = _watch(popen, interval, deadline)
        except BaseException:   # interrupted: leave no child running behind us
            popen.kill()
            popen.wait()
            raise
        code = popen.wait()
        wall = time.monotonic() - start
        errors.seek(0)
        text = errors.read().decode("utf-8", "replace")
    return _measurement(last, percents, wall, delay, KILLED if killed else code), text
