"""system_info, os_version, uptime, memory_info, cpu_time, load_average, time, ulimit_info."""

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time

import pytest

from tablecheck import assert_contract, generate, visible_columns


def _os_release():
    values = {}
    with open("/etc/os-release", encoding="utf-8") as handle:
        for line in handle:
            key, _, value = line.strip().partition("=")
            values[key] = value.strip('"')
    return values


@pytest.mark.parametrize("name", ["system_info", "os_version", "uptime", "memory_info", "cpu_time",
                                  "load_average", "time", "ulimit_info"])
def test_rows_keep_the_contract(query, name):
    assert_contract(name)
    rows = query("SELECT * FROM %s" % name)
    assert rows
    assert list(rows[0]) == visible_columns(name)


def test_system_info_describes_this_host(query):
    row = query("SELECT * FROM system_info")[0]
    assert row["computer_name"] == socket.gethostname()
    assert row["hostname"].split(".")[0] == socket.gethostname().split(".")[0]
    assert row["cpu_logical_cores"] == os.cpu_count()
    assert 1 <= row["cpu_physical_cores"] <= os.cpu_count()
    assert row["physical_memory"] == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert row["cpu_type"] == platform.machine()
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        brands = {line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")}
    if brands:
        assert row["cpu_brand"] in brands
    assert len(row["uuid"]) == 36 and row["uuid"].count("-") == 4


def test_system_info_uuid_is_dmi_or_machine_id(query):
    uuid = query("SELECT uuid FROM system_info")[0]["uuid"]
    if os.path.exists("/sys/class/dmi/id/product_uuid"):
        with open("/sys/class/dmi/id/product_uuid", encoding="utf-8") as handle:
            assert uuid == handle.read().strip()
    else:
        with open("/etc/machine-id", encoding="utf-8") as handle:
            assert uuid.replace("-", "") == handle.read().strip()


def test_os_version_matches_os_release(query):
    release = _os_release()
    row = query("SELECT * FROM os_version")[0]
    assert row["name"] == release["NAME"]
    assert row["version"] == release.get("VERSION")
    assert row["platform"] == release["ID"]
    assert row["codename"] == release.get("VERSION_CODENAME")
    assert row["major"] == int(release["VERSION_ID"].split(".")[0])
    assert row["arch"] == os.uname().machine


@pytest.fixture(name="namespaced")
def fixture_namespaced(tmp_path):
    """A process in a mount namespace of its own that sees another /etc/os-release."""
    release = tmp_path / "os-release"
    release.write_text('NAME="Namespaced Linux"\nID=nsl\nVERSION_ID="4.2"\n')
    # unshare and sh exec in place: the pid stays the sleeper's
    proc = subprocess.Popen(["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/os-release && exec sleep 600',
                             str(release)])
    try:
        deadline = time.time() + 60
        while "Namespaced" not in _read("/proc/%d/root/etc/os-release" % proc.pid):
            assert proc.poll() is None and time.time() < deadline, "the namespace did not come up"
            time.sleep(0.05)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def test_os_version_reads_a_process_mount_namespace(query, namespaced):
    rows = query("SELECT name, platform, pid_with_namespace FROM os_version WHERE pid_with_namespace = %d"
                 % namespaced)
    assert rows == [{"name": "Namespaced Linux", "platform": "nsl", "pid_with_namespace": namespaced}]
    # without it: this machine's own file
    assert query("SELECT name FROM os_version")[0]["name"] == _os_release()["NAME"]


def test_uptime_is_proc_uptime(query):
    row = query("SELECT * FROM uptime")[0]
    with open("/proc/uptime", encoding="utf-8") as handle:
        seconds = float(handle.read().split()[0])
    assert abs(row["total_seconds"] - seconds) < 5
    assert row["days"] * 86400 + row["hours"] * 3600 + row["minutes"] * 60 + row["seconds"] == row["total_seconds"]
    assert 0 <= row["hours"] < 24 and 0 <= row["minutes"] < 60 and 0 <= row["seconds"] < 60


def test_memory_info_is_free_in_bytes(query):
    row = query("SELECT * FROM memory_info")[0]
    free = subprocess.run(["free", "-b"], check=True, capture_output=True, text=True).stdout.splitlines()
    mem = free[1].split()
    swap = free[2].split()
    assert row["memory_total"] == int(mem[1])
    assert row["swap_total"] == int(swap[1])
    for column in ("memory_free", "memory_available", "cached", "active", "inactive", "buffers"):
        assert row[column] >= 0 and row[column] % 1024 == 0
    assert row["memory_free"] <= row["memory_total"]


def test_cpu_time_has_one_row_per_core_in_ticks(query):
    rows = query("SELECT * FROM cpu_time ORDER BY core")
    assert [r["core"] for r in rows] == list(range(os.cpu_count()))
    with open("/proc/stat", encoding="utf-8") as handle:
        first = [line.split() for line in handle if line.startswith("cpu0 ")][0]
    # USER_HZ ticks, not ms: the idle counter only grows between the two reads
    assert int(first[4]) <= rows[0]["idle"] < int(first[4]) + 100 * 60
    assert rows[0]["user"] >= int(first[1])


def test_load_average_is_getloadavg(query):
    rows = query("SELECT * FROM load_average")
    assert [r["period"] for r in rows] == ["1m", "5m", "15m"]
    for row, load in zip(rows, os.getloadavg()):
        assert abs(float(row["average"]) - load) < 1.0
        assert len(row["average"].split(".")[1]) == 6


def test_time_is_now_in_utc(query):
    before = int(time.time())
    row = query("SELECT * FROM time")[0]
    after = int(time.time())
    assert before <= row["unix_time"] <= after
    utc = time.gmtime(row["unix_time"])
    assert (row["year"], row["month"], row["day"]) == (utc.tm_year, utc.tm_mon, utc.tm_mday)
    assert (row["hour"], row["minutes"], row["seconds"]) == (utc.tm_hour, utc.tm_min, utc.tm_sec)
    assert row["weekday"] == time.strftime("%A", utc)
    assert row["timezone"] == "UTC"
    assert row["iso_8601"] == row["datetime"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", utc)
    assert row["timestamp"] == time.asctime(utc) + " UTC"
    assert row["local_timezone"] == (time.strftime("%Z", time.localtime(row["unix_time"])) or "UTC")


def test_time_alias_column(query):
    row = query("SELECT datetime, date_time FROM time")[0]
    assert row["date_time"] == row["datetime"]


def test_ulimit_info_is_getrlimit(query):
    rows = {r["type"]: r for r in query("SELECT * FROM ulimit_info")}
    assert {"nofile", "stack", "core", "nproc", "as"} <= set(rows)
    for name, row in rows.items():
        soft, hard = resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper(), 10 if name == "locks" else None))
        expect = ["unlimited" if v == resource.RLIM_INFINITY else str(v) for v in (soft, hard)]
        assert [row["soft_limit"], row["hard_limit"]] == expect


def test_ulimit_info_has_file_locks():
    # a shell whose RLIMIT_LOCKS (Python's resource module has no name for it: 10 on Linux) is
    # 123/456
    shell = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "pyosqueryi"), "--json",
         "SELECT soft_limit, hard_limit FROM ulimit_info WHERE type = 'locks'"],
        stdout=subprocess.PIPE, preexec_fn=lambda: resource.setrlimit(10, (123, 456)))
    output, _ = shell.communicate(timeout=60)
    assert json.loads(output) == [{"soft_limit": "123", "hard_limit": "456"}]


def test_os_version_parses_quoted_and_dotted_versions(tmp_path, monkeypatch):
    from pyosquery.tables import system
    release = tmp_path / "etc" / "os-release"
    release.parent.mkdir()
    release.write_text('NAME="Ubuntu"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n'
                       'VERSION_ID="22.04.3"\nUBUNTU_CODENAME=jammy\n')
    monkeypatch.setattr(system, "namespace_roots", lambda context: [(0, str(tmp_path))])
    row = generate("os_version")[0]
    assert (row["name"], row["major"], row["minor"], row["patch"]) == ("Ubuntu", 22, 4, 3)
    assert (row["platform"], row["platform_like"], row["codename"]) == ("ubuntu", "debian", "jammy")
