"""Run the real pyosqueryd on a temporary directory and talk to it over its socket."""

import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.path.dirname(sys.executable)


class Daemon:
    """One pyosqueryd process with its own config, database, logs, pidfile and socket."""

    def __init__(self, root, config, extra_flags=(), hostname=None, passwd=None, stderr_file=False):
        self.root = str(root)
        # the socket sits in a short /tmp path: UNIX socket paths are limited to 107 bytes
        self.socket_dir = tempfile.mkdtemp(prefix="pyoq-")
        self.paths = {
            "config_path": os.path.join(self.root, "pyosquery.conf"),
            "database_path": os.path.join(self.root, "db", "pyosquery.db"),
            "logger_path": os.path.join(self.root, "log"),
            "pidfile": os.path.join(self.root, "pyosqueryd.pid"),
            "extensions_socket": os.path.join(self.socket_dir, "pyosquery.em"),
        }
        self.extra_flags = list(extra_flags)
        self.hostname = hostname
        self.passwd = passwd
        # a file rather than a pipe for what may be long (--verbose): a full pipe would stop the daemon
        self.stderr_path = os.path.join(self.root, "stderr") if stderr_file else None
        self.proc = None
        self.write_config(config)

    def write_config(self, config):
        text = config if isinstance(config, str) else json.dumps(config, indent=2)
        with open(self.paths["config_path"], "w", encoding="utf-8") as handle:
            handle.write(text)

    def command(self):
        args = [os.path.join(BIN, "pyosqueryd"), "--flagfile=/dev/null", "--logger_stderr=false"]
        args += ["--%s=%s" % item for item in self.paths.items()] + self.extra_flags
        if self.hostname:
            # a UTS namespace gives the daemon its own hostname (and so its own machine shard)
            args = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.hostname] + args
        if self.passwd:
            # a mount namespace shows the daemon another /etc/passwd (more users) and leaves the host's alone
            args = ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/passwd && exec "$@"', self.passwd] + args
        return args

    def start(self, wait_socket=True):
        if self.stderr_path:
            with open(self.stderr_path, "wb") as stderr:
                self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=stderr)
        else:
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if wait_socket:
            self.wait_for(lambda: os.path.exists(self.paths["extensions_socket"]), "the socket")
        return self

    def wait_for(self, predicate, what, timeout=60.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("pyosqueryd exited %s waiting for %s: %s" % (
                    self.proc.returncode, what, self.stderr()))
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s" % what)

    def stderr(self):
        """What the daemon wrote to stderr: all of it once it has exited, so far with stderr_file."""
        if self.stderr_path is None:
            return self.proc.stderr.read().decode()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def ask(self, sql):
        """The live daemon's ExtensionResponse to `sql`, through osquery's own Python SDK."""
        import osquery   # pylint: disable=import-outside-toplevel
        client = osquery.ExtensionClient(path=self.paths["extensions_socket"])
        client.open(timeout=30)   # generous: a nice-10 worker on a busy machine answers late
        try:
            return client.extension_manager_client().query(sql)
        finally:
            client.close()

    def query(self, sql):
        """Rows (dicts of strings) from the live daemon."""
        response = self.ask(sql)
        assert response.status.code == 0, response.status.message
        return response.response

    def signal(self, number):
        self.proc.send_signal(number)

    def stop(self, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def close(self):
        """Stop the daemon and remove its socket's directory (made outside the test's tmp_path)."""
        code = self.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        return code

    def log(self, name):
        path = os.path.join(self.paths["logger_path"], name)
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    def results(self):
        return [json.loads(line) for line in self.log("pyosqueryd.results.log").splitlines() if line]


@contextlib.contextmanager
def daemon_factory(root):
    """make(config, name="d", **kwargs) -> a Daemon under root/name; every one made is stopped on exit."""
    started = []

    def make(config, name="d", **kwargs):
        home = root / name
        home.mkdir(exist_ok=True)
        daemon = Daemon(home, config, **kwargs)
        started.append(daemon)
        return daemon

    try:
        yield make
    finally:
        for daemon in started:
            daemon.close()


def wait_until(predicate, what, timeout=60.0):
    """Poll `predicate` until it holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while not predicate():
        if time.time() >= deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


def alive(pid):
    """True while `pid` runs (a zombie left for a reaper counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def worker(daemon, previous=None):
    """osquery_info of the worker answering on the socket, waiting for one other than `previous`."""
    found = []

    def answered():
        try:
            info = daemon.query("SELECT pid, watcher FROM osquery_info")[0]
        except Exception:   # pylint: disable=broad-except  # no worker on the socket yet
            return False
        found[:] = [info]
        return int(info["pid"]) != previous

    daemon.wait_for(answered, "a worker other than %s" % previous, timeout=120)
    return int(found[0]["pid"]), int(found[0]["watcher"])


@contextlib.contextmanager
def favoured(pid):
    """While inside: every thread of `pid` at nice -20, and its autogroup too (root only).

    The watchdog runs its worker and extensions at nice 10: on a busy machine they get a sliver of
    a core and never use the CPU a limit test needs them to. With sched_autogroup, CPU is shared
    out between sessions first, so the session (this test run's) is favoured as well. Favoured, a
    busy query gets a core whatever else runs: crossing a limit is the query's doing, not the machine's.
    """
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            os.setpriority(os.PRIO_PROCESS, int(task), -20)   # Linux: nice is per thread; new ones inherit it
        except ProcessLookupError:
            pass        # a thread that ended meanwhile
    group = "/proc/%d/autogroup" % pid
    before = _autogroup_nice(group)
    if before is not None:
        _write(group, "-20")
    try:
        yield
    finally:
        if before is not None:
            _write(group, str(before))


def _autogroup_nice(path):
    """The nice value of an autogroup ("/autogroup-25 nice 0"), None without sched_autogroup."""
    try:
        with open(path, encoding="utf-8") as handle:
            return int(handle.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass        # the process (and its autogroup's file) went meanwhile


def status_log(daemon):
    """Every status line of the watcher and its workers (glog: one file per process)."""
    text = ""
    for path in sorted(glob.glob(os.path.join(daemon.paths["logger_path"], "pyosqueryd.INFO.*"))):
        with open(path, encoding="utf-8") as handle:
            text += handle.read()
    return text


def schedule(daemon):
    return {row["name"]: row for row in daemon.query("SELECT name, denylisted, executions FROM osquery_schedule")}
