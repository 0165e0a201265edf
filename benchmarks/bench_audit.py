"""Audit benchmark: the agent's audit publisher against Debian's auditd on the same audit stream.

A load generator launches /bin/true at a fixed rate (500 a second by default) for a turn; the
agent (its publisher in a process of its own, or with --daemon the real pyosqueryd with a
scheduled process_events query) and auditd (`auditd -n`, its default config, logging to
/var/log/audit/audit.log) take turns holding the kernel's audit socket, since only one process
may. Both turns use the same rules (execve, b64 and b32), backlog_limit and backlog_wait_time=0.
Reported: the consumer's CPU (all threads) and peak resident memory, the kernel's lost-record
count, and for the agent the rows it emitted against the launches.

Root only; installs auditd with apt when missing (Docker's policy-rc.d keeps apt from starting
it) and disables its unit. Every turn checks the socket is free afterwards, and the end restores
the rules, `enabled`, backlog settings and the receiver as they were. Not part of `make test`.

    .venv/bin/python benchmarks/bench_audit.py [--daemon] [--seconds 60] [--rate 500] [--turns 2] [--max-rate]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import process_cpu_seconds, start_daemon  # noqa: E402  pylint: disable=wrong-import-position
from report import publish  # noqa: E402  pylint: disable=wrong-import-position

from pyosquery.events.audit import netlink, rules  # noqa: E402  pylint: disable=wrong-import-position

BACKLOG_LIMIT = 4096
DRAIN = 1.0     # seconds after a turn for the consumer to read what is queued
INTERVAL = 10   # the daemon's scheduled process_events query
LAUNCHER = textwrap.dedent("""
    import os, sys, time
    rate, seconds = float(sys.argv[1]), float(sys.argv[2])
    start, launched, live = time.monotonic(), 0, 0
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while launched < due:
            try:
                os.posix_spawn("/bin/true", ["/bin/true", "audit-bench"], {})
            except BlockingIOError:  # out of pids or processes: reap one, then go on
                os.waitpid(-1, 0)
                live -= 1
                continue
            launched, live = launched + 1, live + 1
        while live and os.waitpid(-1, os.WNOHANG)[0]:
            live -= 1
        time.sleep(0.002)
    while live:
        os.waitpid(-1, 0)
        live -= 1
    print(launched)
""")
PUBLISHER = textwrap.dedent("""
    import signal, sys, threading
    from pyosquery.flags.values import Values
    from pyosquery.events.audit.publisher import AuditPublisher
    values = Values()
    for name, value in (("disable_audit", False), ("audit_allow_config", True),
                        ("audit_backlog_limit", %d)):
        values.set(name, value)
    seen = [0]
    def emit(table, rows):
        seen[0] += sum(1 for row in rows if row["cmdline"] == "/bin/true audit-bench")
    publisher = AuditPublisher(values, emit, state_path=sys.argv[1])
    publisher.start()
    print("started", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    publisher.stop()
    print(seen[0], publisher.counts()["lost"], flush=True)
""" % BACKLOG_LIMIT)


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def holder(sock):
    pid = sock.status()["pid"]
    return pid if pid and os.path.exists("/proc/%d" % pid) else 0


def wait_holder(sock, pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while sock.status()["pid"] != pid:
        if time.monotonic() > deadline:
            raise SystemExit("pid %d did not take the audit socket within %d s" % (pid, timeout))
        time.sleep(0.05)


def measure(sock, pids, rate, seconds, drain):
    """Run the launcher while pids[0] holds the socket: (launched, CPU %, peak MB, kernel lost); CPU
    and memory of all `pids` (the daemon's worker and watcher), over the turn and `drain` seconds after."""
    lost, cpu = sock.status()["lost"], sum(map(process_cpu_seconds, pids))
    launcher = subprocess.run([sys.executable, "-c", LAUNCHER, str(rate), str(seconds)],
                              stdout=subprocess.PIPE, text=True, check=True)
    time.sleep(drain)  # the consumer drains what is queued (the daemon: its scheduled query runs once more)
    cpu = sum(map(process_cpu_seconds, pids)) - cpu
    if sock.status()["pid"] != pids[0]:
        raise SystemExit("the consumer lost the audit socket during the turn (killed by its watchdog?)")
    return (int(launcher.stdout), cpu / seconds * 100.0, sum(map(peak_rss_mb, pids)),
            sock.status()["lost"] - lost)


def stop(proc, sock):
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=30)[0]
    if holder(sock):
        raise SystemExit("the audit socket is still held by pid %d after a turn" % holder(sock))
    return out


def agent_turn(sock, rate, seconds, state):
    proc = subprocess.Popen([sys.executable, "-c", PUBLISHER, state], stdout=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "started":
            raise SystemExit("the agent's publisher did not start")
        wait_holder(sock, proc.pid)
        result = measure(sock, [proc.pid], rate, seconds, DRAIN)
    finally:
        out = stop(proc, sock)
    return result + (int(out.split()[0]),)


def daemon_turn(sock, rate, seconds):
    """The real pyosqueryd (watchdog on) with a scheduled process_events query every 10 s."""
    root = tempfile.mkdtemp(prefix="bench-audit-daemon-")
    query = "SELECT pid, parent, path, cmdline, uid FROM process_events"
    proc = start_daemon(root, {"execs": {"query": query, "interval": INTERVAL}},
                        ["--disable_events=false", "--disable_audit=false", "--audit_allow_config=true",
                         "--audit_backlog_limit=%d" % BACKLOG_LIMIT, "--schedule_splay_percent=0"])
    try:
        worker = wait_worker(sock, proc.pid)
        result = measure(sock, [worker, proc.pid], rate, seconds, INTERVAL + DRAIN)
    finally:
        stop(proc, sock)
    seen = 0
    with open(os.path.join(root, "log", "pyosqueryd.results.log"), encoding="utf-8") as handle:
        seen = sum(1 for line in handle if '"cmdline":"/bin/true audit-bench"' in line)
    shutil.rmtree(root)
    return result + (seen,)


def wait_worker(sock, watcher, timeout=30.0):
    """The daemon's worker, once it holds the audit socket."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = holder(sock)
        if pid:
            with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
                if int(handle.read().rsplit(")", 1)[1].split()[1]) == watcher:
                    return pid
        time.sleep(0.1)
    raise SystemExit("the daemon's worker did not take the audit socket within %d s" % timeout)


def auditd_turn(sock, rate, seconds):
    """auditd with its default config; the rules and settings the agent would set, set by us."""
    added = configure(sock)
    try:
        proc = subprocess.Popen(["auditd", "-n"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            wait_holder(sock, proc.pid)
            result = measure(sock, [proc.pid], rate, seconds, DRAIN)
        finally:
            stop(proc, sock)
    finally:
        for rule in added:
            sock.delete_rule(rule.data, str(rule))
    return result + (None,)


def configure(sock):
    class Flags:  # the agent's defaults: process events only
        audit_allow_process_events, audit_allow_sockets = True, False
    sock.set_status(enabled=1, backlog_limit=BACKLOG_LIMIT, backlog_wait_time=0)
    added = []
    for rule in rules.wanted_rules(Flags):
        sock.add_rule(rule.data, str(rule))
        added.append(rule)
    return added


def ensure_auditd():
    if shutil.which("auditd"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "auditd"], check=True, env=env)
    if not os.path.exists("/usr/sbin/policy-rc.d"):
        print("note: no policy-rc.d: apt may have started auditd; stop it before running this again")
    if shutil.which("systemctl"):
        # the package enables its unit: a systemd booting this filesystem (the lab's systemd-nspawn
        # hosts boot an overlay of /) would start it; only this benchmark runs it, by hand
        subprocess.run(["systemctl", "--root=/", "disable", "auditd.service"], check=False)


def restore(sock, before, rules_before):
    """Put the kernel's audit state back as it was before the benchmark."""
    for rule in sock.list_rules():
        if rule not in rules_before:
            sock.delete_rule(rule, "left by the benchmark")
    sock.set_status(enabled=before["enabled"], backlog_limit=before["backlog_limit"],
                    backlog_wait_time=before["backlog_wait_time"])
    if sock.status()["pid"] == os.getpid():
        sock.set_status(pid=0)


def row(side, rate, seconds, result):
    launched, cpu, peak, lost, seen = result
    return (side, "%d/s (%d/s reached)" % (rate, launched / seconds), str(launched), "%.1f" % cpu, "%.1f" % peak,
            str(lost), "-" if seen is None else str(seen))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--daemon", action="store_true", help="the agent's turn is the real pyosqueryd")
    parser.add_argument("--max-rate", action="store_true", help="then raise the rate until the agent loses events")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench_audit: needs root (the audit socket)")
    ensure_auditd()
    sock = netlink.AuditSocket()
    if holder(sock):
        raise SystemExit("bench_audit: pid %d holds the audit socket; stop it first" % holder(sock))
    before, rules_before = sock.status(), sock.list_rules()
    state = os.path.join(tempfile.mkdtemp(prefix="bench-audit-"), "state.json")
    ours = "pyosqueryd" if args.daemon else "agent publisher"

    def agent(rate, seconds):
        return daemon_turn(sock, rate, seconds) if args.daemon else agent_turn(sock, rate, seconds, state)

    results, cpu = [], {ours: [], "auditd": []}
    try:
        for _ in range(args.turns):
            for side in (ours, "auditd"):
                result = agent(args.rate, args.seconds) if side == ours else auditd_turn(sock, args.rate, args.seconds)
                cpu[side].append(result[1])
                results.append(row(side, args.rate, args.seconds, result))
                print(results[-1], flush=True)
        rate, seconds = args.rate, min(args.seconds, 20)
        while args.max_rate and rate < 8000:
            rate *= 2
            result = agent(rate, seconds)
            results.append(row(ours, rate, seconds, result))
            print(results[-1], flush=True)
            if result[3] or result[4] < result[0] or result[0] < 0.9 * rate * seconds:
                break  # lost events, or the launcher could not keep the rate on this machine
    finally:
        restore(sock, before, rules_before)
        left = holder(sock)
        sock.close()
    ratios = [a / b for a, b in zip(cpu[ours], cpu["auditd"]) if b]
    results.append(("CPU ratio %s/auditd" % ours, "", "", "%.2f-%.2f" % (min(ratios), max(ratios)) if ratios else "-",
                    "", "", "target <= 1.5"))
    publish("audit-daemon" if args.daemon else "audit",
            ("consumer", "rate", "launched", "CPU % of a core", "peak RSS MB", "kernel lost records", "rows"),
            results)
    if left:
        raise SystemExit("bench_audit: the audit socket is still held by pid %d" % left)


if __name__ == "__main__":
    main()
