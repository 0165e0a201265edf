"""A lab fleet for the fleet benchmarks (always taken down), and Ansible runs against it, timed.

The peer of every fleet measurement is `ansible -m ping` on the same hosts with the same
settings (forks, SSH multiplexing, pipelining), run right before and after the measured runs,
so load from other work on the machine hits both sides alike.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
LABHOSTS = os.path.join(ROOT, "tests", "lab", "labhosts.sh")
LOGS = os.path.join(ROOT, ".build", "bench")
COLLECTIONS = os.path.join(ROOT, ".build", "collections")


def _stop_on_signal(signum, _frame):
    """SIGTERM or SIGHUP end the run through the normal exit path, so the fleet goes down."""
    raise SystemExit("stopped by signal %d" % signum)


class Run:
    """One timed Ansible command: its wall time, log and (for playbooks) the task_times profile."""

    def __init__(self, label, seconds, log, times):
        self.label, self.seconds, self.log, self.times = label, seconds, log, times

    def changed_hosts(self):
        return sorted(h for h, totals in self.times["recap"].items() if totals["changed"])

    def slowest_tasks(self, count=8):
        """(seconds, changed hosts, task name) of the slowest tasks, for the profile printed after a run."""
        tasks = sorted(self.times["tasks"], key=lambda t: -(t["seconds"] or 0))[:count]
        return [(t["seconds"] or 0.0, t["results"].get("changed", 0), t["task"]) for t in tasks]


class LabFleet:
    """`labhosts.sh up N` on enter, `down` on exit (also on an error, Ctrl-C, SIGTERM or SIGHUP)."""

    def __init__(self, name, hosts, qh_id=14, state="/tmp/pq-bench", forks=50):
        self.hosts, self.forks = hosts, forks
        self.logs = os.path.join(LOGS, name)     # each run's output and profile, kept after the run
        self.lab_env = {"QH_ID": str(qh_id), "QH_STATE": state, "QH_INIT": "bash", "QH_NAME": "host"}
        self.inventory = os.path.join(state, "inventory.ini")
        self._saved = {}
        self._count = 0

    def __enter__(self):
        shutil.rmtree(self.logs, ignore_errors=True)
        os.makedirs(self.logs)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            self._saved[signum] = signal.signal(signum, _stop_on_signal)
        try:
            self._lab("up", str(self.hosts))
        except BaseException:
            self._lab("down")
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._lab("down")
        finally:
            for signum, handler in self._saved.items():
                signal.signal(signum, handler)

    def _lab(self, *args):
        subprocess.run([LABHOSTS] + list(args), env=dict(os.environ, **self.lab_env), check=True,
                       stdout=subprocess.DEVNULL)

    def env(self, times_file=None):
        """Ansible's environment: the lab's ansible.cfg, this checkout as pyosquery.fleet, our forks."""
        link = os.path.join(COLLECTIONS, "ansible_collections", "pyosquery", "fleet")
        if not os.path.islink(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(ROOT, link)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_FORKS=str(self.forks),
                   ANSIBLE_NOCOLOR="1", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        env.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "tests", "lab", "ansible.cfg"))
        if times_file:
            env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="task_times", BENCH_TASK_TIMES=times_file)
        return env

    def _timed(self, label, args, profile, ok_codes=(0,)):
        self._count += 1
        base = os.path.join(self.logs, "%02d-%s" % (self._count, label))
        times_file = base + ".json" if profile else None
        with open(base + ".log", "w", encoding="utf-8") as log:
            start = time.perf_counter()
            proc = subprocess.run(args, env=self.env(times_file), stdout=log, stderr=subprocess.STDOUT, check=False)
            seconds = time.perf_counter() - start
        print("  %s: %.1f s" % (label, seconds), flush=True)
        if proc.returncode not in ok_codes:
            with open(base + ".log", encoding="utf-8") as log:
                tail = log.read()[-3000:]
            raise RuntimeError("%s failed (exit %d), log %s:\n%s" % (label, proc.returncode, base + ".log", tail))
        times = None
        if times_file:
            with open(times_file, encoding="utf-8") as handle:
                times = json.load(handle)
        return Run(label, seconds, base + ".log", times)

    def ping(self):
        return self._timed("ping", [os.path.join(BIN, "ansible"), "fleet", "-i", self.inventory,
                                    "-m", "ansible.builtin.ping"], profile=False).seconds

    def adhoc(self, label, module, args=""):
        """An ad-hoc module on every host, as the ping is run."""
        cmd = [os.path.join(BIN, "ansible"), "fleet", "-i", self.inventory, "-m", module]
        return self._timed(label, cmd + (["-a", args] if args else []), profile=False)

    def playbook(self, label, playbook, *args, ok_codes=(0,)):
        """ansible-playbook with the task_times profile; `ok_codes`: exit codes that are no error (2: a host failed)."""
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, playbook] + list(args)
        return self._timed(label, cmd, profile=True, ok_codes=ok_codes)


def beside_pings(fleet, action, runs):
    """`action()` `runs` times, a ping before each and after the last: (runs, ping seconds)."""
    pings, results = [fleet.ping()], []
    for _ in range(runs):
        results.append(action())
        pings.append(fleet.ping())
    return results, pings


def ratio_row(what, seconds, pings, target):
    """A table row: the measurement against the median of the pings taken around it."""
    ping = statistics.median(pings)
    return (what, "%.1f" % seconds, "ansible -m ping (median of %d)" % len(pings), "%.1f" % ping,
            "%.2f" % (seconds / ping), target)


def print_profile(run, count=8):
    outside = run.seconds - sum(t["seconds"] or 0 for t in run.times["tasks"])
    print("%s: %.1f s (%.1f s outside tasks: start-up, inventory, parsing); slowest tasks (s, hosts changed, task):"
          % (run.label, run.seconds, outside))
    for seconds, changed, task in run.slowest_tasks(count):
        print("  %6.1f  %3d  %s" % (seconds, changed, task))
