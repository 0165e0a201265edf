"""kernel_info, kernel_modules, system_controls."""

import os
import subprocess

import pytest

from tablecheck import assert_contract, generate, visible_columns
from pyosquery.tables import kernel


@pytest.mark.parametrize("name", ["kernel_info", "kernel_modules", "system_controls"])
def test_rows_keep_the_contract(fake_host, name):
    if name == "kernel_modules":        # a container has no /proc/modules
        fake_host.make(name)
    assert_contract(name)


def test_kernel_info_is_uname_and_cmdline(query):
    rows = query("SELECT * FROM kernel_info")
    assert len(rows) == 1 and list(rows[0]) == visible_columns("kernel_info")
    assert rows[0]["version"] == os.uname().release
    with open("/proc/cmdline", encoding="utf-8") as handle:
        words = handle.read().split()
    rest = [w for w in words if not w.startswith(("BOOT_IMAGE=", "root="))]
    assert rows[0]["arguments"] == " ".join(rest)
    roots = [w[5:] for w in words if w.startswith("root=")]
    assert rows[0]["device"] == (roots[-1] if roots else None)


@pytest.mark.skipif(not os.path.exists("/proc/modules"), reason="kernel without loadable modules")
def test_kernel_modules_are_lsmod(query):
    rows = {r["name"]: r for r in query("SELECT * FROM kernel_modules")}
    lsmod = subprocess.run(["lsmod"], check=True, capture_output=True, text=True).stdout.splitlines()[1:]
    assert set(rows) == {line.split()[0] for line in lsmod}
    for line in lsmod:
        name, size = line.split()[:2]
        assert rows[name]["size"] == int(size)
        assert rows[name]["status"] in ("Live", "Loading", "Unloading")


def test_kernel_modules_parses_proc_modules(fake_host):
    fake_host.make("kernel_modules")
    with open(kernel.MODULES_PATH, "a", encoding="utf-8") as listing:
        listing.write("broken line\n")
    rows = assert_contract("kernel_modules", generate("kernel_modules"))
    assert rows == [{"name": "nf_tables", "size": 364544, "used_by": "-", "status": "Live",
                     "address": "0xffffffffc0a1b000"},
                    {"name": "libcrc32c", "size": 12288, "used_by": "nf_tables,xfs", "status": "Live",
                     "address": "0x0000000000000000"}]


def test_system_controls_current_value_is_sysctl(query):
    for name in ("kernel.hostname", "kernel.pid_max", "net.ipv4.ip_forward", "vm.swappiness"):
        expected = subprocess.run(["sysctl", "-n", name], check=True, capture_output=True, text=True).stdout
        rows = query("SELECT * FROM system_controls WHERE name = '%s'" % name)
        assert len(rows) == 1
        assert rows[0]["current_value"] == expected.strip()
        assert rows[0]["subsystem"] == name.split(".", maxsplit=1)[0] and rows[0]["type"] == "string"


def test_system_controls_name_reads_one_file(monkeypatch):
    walked = []
    monkeypatch.setattr(kernel, "_walk", lambda *args: walked.append(args) or iter(()))
    rows = generate("system_controls", {"name": [("=", "kernel.hostname")]})
    assert [r["name"] for r in rows] == ["kernel.hostname"]
    assert walked == []


def test_system_controls_in_list_and_missing_name(query):
    rows = query("SELECT name FROM system_controls WHERE name IN ('kernel.ostype', 'kernel.nope', 'vm.swappiness')")
    assert sorted(r["name"] for r in rows) == ["kernel.ostype", "vm.swappiness"]


def test_system_controls_full_scan_matches_sysctl_a(query):
    rows = {r["name"]: r["current_value"] for r in query("SELECT name, current_value FROM system_controls")}
    listing = subprocess.run(["sysctl", "-a"], capture_output=True, text=True, check=False).stdout.splitlines()
    names = {line.split(" = ")[0] for line in listing if " = " in line}
    assert len(names & set(rows)) > 0.9 * len(names)
    assert rows["kernel.ostype"] == "Linux"


def test_system_controls_subsystem_is_filtered_here(query):
    # subsystem is "additional": SQLite does not re-check it, so the generator must filter
    rows = query("SELECT DISTINCT subsystem FROM system_controls WHERE subsystem = 'vm'")
    assert rows == [{"subsystem": "vm"}]
    rows = query("SELECT name FROM system_controls WHERE name = 'kernel.ostype' AND subsystem = 'vm'")
    assert rows == []


def test_system_controls_oid_matches_nothing_on_linux(query):
    assert query("SELECT * FROM system_controls WHERE oid = '1.1'") == []


def test_system_controls_config_value(monkeypatch, tmp_path):
    conf = tmp_path / "sysctl.conf"
    conf.write_text("# comment\n; other\nkernel.ostype = Configured\n-vm/swappiness=7\n")
    monkeypatch.setattr(kernel, "SYSCTL_FILE", str(conf))
    monkeypatch.setattr(kernel, "SYSCTL_DIRS", ())
    rows = generate("system_controls", {"name": [("=", frozenset(("kernel.ostype", "vm.swappiness")))]})
    assert {r["name"]: r["config_value"] for r in rows} == {"kernel.ostype": "Configured", "vm.swappiness": "7"}


def test_sysctl_precedence_is_osquerys_later_files_win(query, monkeypatch, tmp_path):
    # osquery reads sysctl.conf, then /run, /etc, /usr/local/lib, /usr/lib, /lib sysctl.d in that
    # order, each assignment overriding the one before: /lib/sysctl.d has the last word, and a
    # file name in /etc does not hide the same name in /lib
    assert kernel.SYSCTL_DIRS == ("/run/sysctl.d", "/etc/sysctl.d", "/usr/local/lib/sysctl.d",
                                  "/usr/lib/sysctl.d", "/lib/sysctl.d")
    dirs = [tmp_path / name for name in ("run", "etc", "usr-local-lib", "usr-lib", "lib")]
    for directory in dirs:
        directory.mkdir()
    (tmp_path / "sysctl.conf").write_text("kernel.ostype = conf\nkernel.hostname = conf\n")
    (dirs[0] / "10-a.conf").write_text("kernel.ostype = run\n")
    (dirs[1] / "10-a.conf").write_text("kernel.ostype = etc\nkernel.hostname = etc\n")
    (dirs[4] / "10-a.conf").write_text("kernel.ostype = lib\n")
    monkeypatch.setattr(kernel, "SYSCTL_FILE", str(tmp_path / "sysctl.conf"))
    monkeypatch.setattr(kernel, "SYSCTL_DIRS", tuple(str(d) for d in dirs))
    rows = query("SELECT name, config_value FROM system_controls WHERE name IN ('kernel.ostype', 'kernel.hostname')")
    assert {r["name"]: r["config_value"] for r in rows} == {"kernel.ostype": "lib", "kernel.hostname": "etc"}
