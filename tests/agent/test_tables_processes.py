"""processes and the per-process tables, checked against /proc, ps and the test's own children."""

import ctypes
import mmap
import os
import shutil
import subprocess
import sys
import time

import pytest


@pytest.fixture()
def child():
    """A sleeping child with a known argv and environment."""
    env = dict(os.environ, PYOSQUERY_TEST_MARK="marked-value")
    proc = subprocess.Popen(["sleep", "300"], env=env)
    # on a busy machine the child may not have reached exec, let alone its sleep: wait for it
    deadline = time.monotonic() + 60
    while _state(proc.pid) != "S":
        assert time.monotonic() < deadline, "the child never went to sleep"
        time.sleep(0.01)
    yield proc
    proc.kill()
    proc.wait()


def _state(pid):
    """The state letter of /proc/<pid>/stat once `pid` runs sleep, else None."""
    with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
        stat = handle.read()
    name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat.rsplit(")", 1)[1].split()
    return fields[0] if name == "sleep" else None


def test_child_row_matches_proc(query, child):
    row = query("SELECT * FROM processes WHERE pid = %d" % child.pid)[0]
    assert row["name"] == "sleep"
    assert row["cmdline"] == "sleep 300"
    assert row["parent"] == os.getpid()
    assert row["path"] == os.path.realpath("/proc/%d/exe" % child.pid)
    assert row["on_disk"] == 1
    assert row["uid"] == os.getuid() and row["euid"] == os.geteuid()
    assert row["gid"] == os.getgid() and row["egid"] == os.getegid()
    assert row["cwd"] == os.getcwd()
    assert row["root"] == "/"
    assert row["threads"] == 1
    assert row["state"] == "S"
    assert abs(row["start_time"] - int(os.stat("/proc/%d" % child.pid).st_mtime)) <= 2


def _ps():
    ps = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,uid=,comm="], capture_output=True, text=True,
                        check=True).stdout
    listed = {}
    for line in ps.splitlines():
        pid, ppid, uid, comm = line.split(None, 3)
        listed[int(pid)] = (int(ppid), int(uid), comm)
    return listed


def test_all_processes_match_ps(query, child):
    before = _ps()
    rows = {r["pid"]: (r["parent"], r["uid"], r["name"]) for r in query("SELECT pid, parent, uid, name FROM processes")}
    after = _ps()
    # a busy machine starts and ends processes meanwhile: those ps saw both before and after lived
    # through our read, and every one of them must be there
    lasting = {pid for pid in set(before) & set(after) if before[pid][:2] == after[pid][:2]}
    assert child.pid in lasting and 1 in lasting
    assert lasting <= set(rows), sorted(lasting - set(rows))
    for pid in lasting:
        assert rows[pid][:2] == before[pid][:2], pid
        if before[pid][0] != 2 and before[pid][2] == after[pid][2]:
            # kernel workers (children of kthreadd) rename themselves as they work, and so may others
            assert rows[pid][2] == before[pid][2], pid


def test_resident_size_matches_ps(query, child):
    rss_kb = int(subprocess.run(["ps", "-o", "rss=", "-p", str(child.pid)], capture_output=True, text=True,
                                check=True).stdout)
    row = query("SELECT resident_size, total_size FROM processes WHERE pid = %d" % child.pid)[0]
    assert row["resident_size"] == rss_kb * 1024
    assert row["total_size"] > row["resident_size"]


def test_vanished_pid_gives_no_row(query):
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert query("SELECT * FROM processes WHERE pid = %d" % proc.pid) == []


def test_process_envs(query, child):
    rows = query("SELECT key, value FROM process_envs WHERE pid = %d" % child.pid)
    assert {"key": "PYOSQUERY_TEST_MARK", "value": "marked-value"} in rows


def test_process_open_files(query, tmp_path):
    path = tmp_path / "held-open"
    with open(path, "w") as handle:
        rows = query("SELECT fd, path FROM process_open_files WHERE pid = %d" % os.getpid())
        assert {"fd": handle.fileno(), "path": str(path)} in rows


def test_process_memory_map_lists_the_interpreter(query):
    rows = query("SELECT start, end, permissions, path, pseudo FROM process_memory_map WHERE pid = %d" % os.getpid())
    paths = {r["path"] for r in rows}
    assert os.path.realpath(sys.executable) in paths
    assert any(r["path"] == "[stack]" for r in rows)
    assert all(r["start"].startswith("0x") and int(r["start"], 16) < int(r["end"], 16) for r in rows)


def test_process_namespaces_match_proc(query, child):
    row = query("SELECT * FROM process_namespaces WHERE pid = %d" % child.pid)[0]
    for kind in ("ipc", "mnt", "net", "pid", "user", "uts"):
        link = os.readlink("/proc/%d/ns/%s" % (child.pid, kind))
        assert row[kind + "_namespace"] == link.split("[")[1].rstrip("]")


def test_a_deleted_executable_has_its_path_without_the_suffix(query, tmp_path):
    # the kernel shows an unlinked executable as '<path> (deleted)'; osquery strips that
    # from processes.path (on_disk 0), and its memory map shows the bare path too
    program = tmp_path / "sleeper"
    program.write_bytes(open(shutil.which("sleep"), "rb").read())
    program.chmod(0o755)
    proc = subprocess.Popen([str(program), "300"])
    try:
        deadline = time.monotonic() + 60
        while str(program) not in open("/proc/%d/maps" % proc.pid).read():
            assert time.monotonic() < deadline, "the sleeper never ran"
            time.sleep(0.01)
        program.unlink()
        assert os.readlink("/proc/%d/exe" % proc.pid) == str(program) + " (deleted)"
        row = query("SELECT path, on_disk FROM processes WHERE pid = %d" % proc.pid)[0]
        assert (row["path"], row["on_disk"]) == (str(program), 0)
        mapped = {r["path"] for r in query("SELECT path FROM process_memory_map WHERE pid = %d" % proc.pid)}
        assert str(program) in mapped and not any(p.endswith(" (deleted)") for p in mapped)
    finally:
        proc.kill()
        proc.wait()


def test_memory_map_pseudo_is_a_named_mapping_without_inode(query):
    # a private anonymous mapping: no path, inode 0, and not pseudo in osquery
    anonymous = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    address = ctypes.addressof(ctypes.c_char.from_buffer(anonymous))
    rows = query("SELECT start, end, path, inode, pseudo FROM process_memory_map WHERE pid = %d" % os.getpid())
    mine = [r for r in rows if int(r["start"], 16) <= address < int(r["end"], 16)]
    assert [(r["path"], r["inode"], r["pseudo"]) for r in mine] == [("", 0, 0)]
    assert [r["pseudo"] for r in rows if r["path"] == "[stack]"] == [1]
    assert all(r["pseudo"] == (1 if r["inode"] == 0 and r["path"] else 0) for r in rows)


def test_process_open_files_lists_namespace_handles_not_pipes(query):
    namespace = os.open("/proc/self/ns/net", os.O_RDONLY)
    reader, writer = os.pipe()
    try:
        listed = query("SELECT fd, path FROM process_open_files WHERE pid = %d" % os.getpid())
        rows = {r["fd"]: r["path"] for r in listed}
        assert rows[namespace] == os.readlink("/proc/self/fd/%d" % namespace)
        assert rows[namespace].startswith("net:[")
        assert reader not in rows and writer not in rows
    finally:
        for fd in (namespace, reader, writer):
            os.close(fd)


@pytest.fixture()
def zombie():
    child = subprocess.Popen(["true"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)     # exited, left unreaped
    yield child.pid
    child.wait()


def test_a_zombie_has_no_memory_sizes(query, zombie):
    row = query("SELECT state, resident_size, total_size FROM processes WHERE pid = %d" % zombie)[0]
    assert (row["state"], row["resident_size"], row["total_size"]) == ("Z", None, None)
