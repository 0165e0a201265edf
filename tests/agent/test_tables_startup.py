"""crontab, startup_items, systemd_units: fixture cron and autostart trees in the real formats;
systemd through canned systemctl output (this host has no systemd as PID 1)."""

import os
import subprocess

import pytest

from pyosquery.tables import accounts, startup
from pyosquery.tables.spec import load_tables

TABLES = load_tables()


def declared(table):
    return [c.name for c in TABLES[table].columns if not c.hidden]


@pytest.mark.parametrize("table", ["crontab", "startup_items", "systemd_units"])
def test_runs_with_declared_columns(query, fake_host, table):
    fake_host.make("systemd_units")       # systemd as PID 1, its units listed by a stand-in systemctl
    for row in query("SELECT * FROM %s" % table):
        assert list(row) == declared(table)


def test_crontab_matches_real_cron_files(query):
    rows = query("SELECT command, path FROM crontab")
    expected = []
    for path in startup.cron_files():
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                tokens = line.split()
                if not tokens or tokens[0].startswith("#"):
                    continue
                command = tokens[1:] if tokens[0].startswith("@") else tokens[5:]
                if command:
                    expected.append((" ".join(command), path))
    assert [(r["command"], r["path"]) for r in rows] == expected


@pytest.fixture()
def cron_tree(tmp_path, monkeypatch):
    (tmp_path / "crontab").write_text(
        "SHELL=/bin/sh\nPATH=/usr/bin:/bin\nMAILTO = root\n# m h dom mon dow user command\n"
        "17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\n"
        "  @reboot   root   /usr/local/bin/boot-task  --now\n")
    (tmp_path / "cron.d").mkdir()
    (tmp_path / "cron.d" / "backup").write_text("*/5 1-3 1,15 jan mon-fri root /usr/bin/backup\n")
    (tmp_path / "cron.d" / "subdir").mkdir()
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "alice").write_text("@daily /home/alice/bin/report\n0 0 1 1 *\n")
    monkeypatch.setattr(startup, "CRONTAB_PATH", str(tmp_path / "crontab"))
    monkeypatch.setattr(startup, "CRON_DIRS", (str(tmp_path / "cron.d") + "/", str(tmp_path / "spool") + "/",
                                               str(tmp_path / "missing") + "/"))
    return tmp_path


def test_crontab_fields(query, cron_tree):
    rows = query("SELECT * FROM crontab")
    fields = [(r["event"], r["minute"], r["hour"], r["day_of_month"], r["month"], r["day_of_week"], r["command"],
               os.path.relpath(r["path"], str(cron_tree))) for r in rows]
    assert fields == [
        (None, "17", "*", "*", "*", "*", "root cd / && run-parts --report /etc/cron.hourly", "crontab"),
        ("@reboot", None, None, None, None, None, "root /usr/local/bin/boot-task --now", "crontab"),
        (None, "*/5", "1-3", "1,15", "jan", "mon-fri", "root /usr/bin/backup", "cron.d/backup"),
        ("@daily", None, None, None, None, None, "/home/alice/bin/report", "spool/alice"),
    ]


def test_systemd_absent_gives_no_rows_and_spawns_nothing(query, monkeypatch, tmp_path):
    monkeypatch.setattr(startup, "SYSTEMD_RUN_DIR", str(tmp_path / "no-systemd"))

    def refuse(*_args, **_kwargs):
        raise AssertionError("a process was spawned")
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    assert query("SELECT * FROM systemd_units") == []
    assert not [r for r in query("SELECT * FROM startup_items") if r["type"] == "systemd unit"]


def test_systemd_units_from_systemctl(query, fake_host):
    fake_host.make("systemd_units")
    rows = {r["id"]: r for r in query("SELECT * FROM systemd_units")}
    assert list(rows) == ["dev-sda1.device", "ssh.service", "foo@bar-1.service", "missing.service"]
    ssh = rows["ssh.service"]
    assert (ssh["description"], ssh["load_state"], ssh["active_state"], ssh["sub_state"], ssh["unit_file_state"],
            ssh["fragment_path"]) == ("OpenBSD Secure Shell server", "loaded", "active", "running", "enabled",
                                      "/lib/systemd/system/ssh.service")
    assert (ssh["object_path"], ssh["job_id"], ssh["job_type"], ssh["job_path"]) == (
        "/org/freedesktop/systemd1/unit/ssh_2eservice", 0, "", "/")
    foo = rows["foo@bar-1.service"]
    assert (foo["object_path"], foo["job_id"], foo["job_type"], foo["job_path"], foo["user"]) == (
        "/org/freedesktop/systemd1/unit/foo_40bar_2d1_2eservice", 42, "start", "/org/freedesktop/systemd1/job/42",
        "foo")
    assert rows["dev-sda1.device"]["following"] == "sys-devices-pci-block-sda-sda1.device"
    assert rows["missing.service"]["load_state"] == "not-found"
    calls = (fake_host.root / "systemctl.calls").read_text().splitlines()
    show = [c.split() for c in calls if c.startswith("--no-pager show ")]
    assert len(show) == 1 and show[0][-4:] == list(rows)


def test_startup_items_include_systemd_units(query, fake_host):
    fake_host.make("systemd_units")
    items = {r["name"]: r for r in query("SELECT * FROM startup_items WHERE type = 'systemd unit'")}
    assert set(items) == {"dev-sda1.device", "ssh.service", "foo@bar-1.service", "missing.service"}
    assert (items["ssh.service"]["status"], items["ssh.service"]["path"]) == (
        "active", "/lib/systemd/system/ssh.service")
    assert items["foo@bar-1.service"]["username"] == "foo"


def test_startup_items_autostart_and_scripts(query, tmp_path, monkeypatch):
    home = tmp_path / "home" / "alice"
    (home / ".config" / "autostart").mkdir(parents=True)
    (home / ".config" / "autostart" / "sync.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Sync\nName[de]=Abgleich\nExec=/usr/bin/sync-tool --mode=fast\n")
    (home / ".config" / "autostart-scripts").mkdir()
    (home / ".config" / "autostart-scripts" / "hello.sh").write_text("#!/bin/sh\n")
    (tmp_path / "init.d").mkdir()
    (tmp_path / "init.d" / "svc").write_text("#!/bin/sh\n")
    (tmp_path / "xdg").mkdir()
    (tmp_path / "xdg" / "agent.desktop").write_text("[Desktop Entry]\nName=Agent\nExec=agent\n")
    (tmp_path / "passwd").write_text("alice:x:1000:1000::%s:/bin/sh\nbob:x:1001:1001::%s:/bin/sh\n"
                                     % (home, tmp_path / "nohome"))
    monkeypatch.setattr(accounts, "PASSWD_PATH", str(tmp_path / "passwd"))
    monkeypatch.setattr(startup, "INIT_SCRIPT_DIRS", (str(tmp_path / "init.d") + "/",))
    monkeypatch.setattr(startup, "XDG_AUTOSTART_DIRS", (str(tmp_path / "xdg") + "/",))
    monkeypatch.setattr(startup, "SYSTEMD_RUN_DIR", str(tmp_path / "no-systemd"))
    rows = [(r["name"], r["path"], r["type"], r["source"], r["status"], r["username"])
            for r in query("SELECT * FROM startup_items")]
    assert rows == [
        ("Sync", "/usr/bin/sync-tool --mode=fast", "Startup Item", "%s/.config/autostart/" % home, "enabled",
         "alice"),
        ("hello.sh", "%s/.config/autostart-scripts/hello.sh" % home, "Startup Item",
         "%s/.config/autostart-scripts/" % home, "enabled", "alice"),
        ("svc", "%s/init.d/svc" % tmp_path, "Startup Item", "%s/init.d/" % tmp_path, "enabled", None),
        ("Agent", "agent", "Startup Item", "%s/xdg/" % tmp_path, "enabled", None),
    ]


def test_bus_path_escaping():
    assert startup.bus_path("dbus.socket") == "/org/freedesktop/systemd1/unit/dbus_2esocket"
    assert startup.bus_path("-.mount") == "/org/freedesktop/systemd1/unit/_2d_2emount"
    assert startup.bus_path("") == "/org/freedesktop/systemd1/unit/_"
