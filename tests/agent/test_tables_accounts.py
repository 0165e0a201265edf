"""users, groups, user_groups, shadow, logged_in_users, last, sudoers: checked against the
system's own databases and against fixture files in the real formats."""

import grp
import pwd
import struct
import subprocess

import pytest

from fakehost import BUILDERS
from pyosquery.tables import accounts
from pyosquery.tables.spec import load_tables

TABLES = load_tables()

FAKE_PASSWD = """root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000:Alice A,,,:/home/alice:/bin/zsh
bob:x:1001:100::/home/bob:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
big:x:4294967294:4294967294::/:/bin/false
broken line without colons
"""

FAKE_GROUP = """root:x:0:
users:x:100:alice
alice:x:1000:
wheel:x:10:alice,bob
dupe:x:10:bob
"""


def declared(table):
    return [c.name for c in TABLES[table].columns if not c.hidden]


def plan(query, sql):
    return " ".join(row["detail"] for row in query("EXPLAIN QUERY PLAN " + sql))


@pytest.fixture()
def fake_accounts(tmp_path, monkeypatch):
    (tmp_path / "passwd").write_text(FAKE_PASSWD)
    (tmp_path / "group").write_text(FAKE_GROUP)
    monkeypatch.setattr(accounts, "PASSWD_PATH", str(tmp_path / "passwd"))
    monkeypatch.setattr(accounts, "GROUP_PATH", str(tmp_path / "group"))
    return tmp_path


@pytest.mark.parametrize("table", ["users", "groups", "user_groups", "shadow", "logged_in_users",
                                   "last", "sudoers"])
def test_runs_with_declared_columns(query, fake_host, table):
    if table in BUILDERS:       # empty on a machine without logins or sudo
        fake_host.make(table)
    for row in query("SELECT * FROM %s" % table):
        assert list(row) == declared(table)


def test_users_match_passwd_database(query):
    rows = query("SELECT * FROM users")
    local = {}
    with open("/etc/passwd", encoding="utf-8") as handle:
        for line in handle:
            name = line.split(":", 1)[0]
            local.setdefault(name, pwd.getpwnam(name))
    assert {r["username"] for r in rows} == set(local)
    for row in rows:
        entry = local[row["username"]]
        assert (row["uid"], row["gid"], row["directory"], row["shell"], row["description"]) == (
            entry.pw_uid, entry.pw_gid, entry.pw_dir, entry.pw_shell, entry.pw_gecos)


def test_users_uid_constraint_is_pushed_down_and_narrows(query):
    assert "uid=" in plan(query, "SELECT * FROM users WHERE uid = 0")
    rows = query("SELECT uid, username FROM users WHERE uid = 0")
    assert rows == [{"uid": 0, "username": "root"}]


def test_users_username_is_filtered_by_the_generator(query, fake_accounts):
    # username is an `additional` column: SQLite does not re-check it, the generator must.
    assert [r["uid"] for r in query("SELECT uid FROM users WHERE username = 'alice'")] == [1000]
    assert [r["username"] for r in query("SELECT username FROM users WHERE username LIKE 'B%'")] == ["bob", "big"]
    assert query("SELECT uid FROM users WHERE username IN ('alice', 'bob') ORDER BY uid") == [
        {"uid": 1000}, {"uid": 1001}]


def test_users_include_remote_says_which_list_was_read(query, fake_accounts):
    # osquery fills the hidden include_remote with 0 for the local files, 1 when asked for NSS
    assert {r["include_remote"] for r in query("SELECT include_remote FROM users")} == {0}
    remote = query("SELECT include_remote FROM users WHERE include_remote = 1 AND uid = 0")
    assert remote == [{"include_remote": 1}]


def test_users_signed_ids_and_malformed_lines(query, fake_accounts):
    rows = {r["username"]: r for r in query("SELECT * FROM users")}
    assert set(rows) == {"root", "alice", "bob", "nobody", "big"}
    assert rows["big"]["uid"] == 4294967294 and rows["big"]["uid_signed"] == -2
    assert rows["alice"]["description"] == "Alice A,,,"


def test_groups_match_group_database(query):
    expected = {}
    for entry in grp.getgrall():
        expected.setdefault(entry.gr_gid, entry.gr_name)
    rows = query("SELECT gid, gid_signed, groupname FROM groups")
    assert {r["gid"]: r["groupname"] for r in rows} == expected
    assert len(rows) == len(expected)


def test_groups_gid_narrows_and_dedups(query, fake_accounts):
    assert "gid=" in plan(query, "SELECT * FROM groups WHERE gid = 10")
    assert query("SELECT gid, groupname FROM groups WHERE gid = 10") == [{"gid": 10, "groupname": "wheel"}]


def test_user_groups_match_id_command(query):
    out = subprocess.run(["id", "-G", "root"], check=True, capture_output=True, text=True).stdout
    rows = query("SELECT gid FROM user_groups WHERE uid = 0")
    assert sorted(r["gid"] for r in rows) == sorted(int(g) for g in out.split())


def test_user_groups_primary_then_supplementary(query, fake_accounts):
    assert "uid=" in plan(query, "SELECT * FROM user_groups WHERE uid = 1000")
    rows = query("SELECT uid, gid FROM user_groups WHERE uid = 1000")
    assert [r["gid"] for r in rows] == [1000, 100, 10]
    assert [r["gid"] for r in query("SELECT gid FROM user_groups WHERE uid = 1001")] == [100, 10]


FAKE_SHADOW = """root:$6$salt$hash:19000:0:99999:7:::
alice:$y$j9T$salt$hash:19001::::::
bob:!$6$salt$hash:19002:1:2:3:4:5:
carol::19003:0:99999:7:::
dave:!!:19004:0:99999:7:::
erin:*:19005:0:99999:7:::
"""


@pytest.fixture()
def fake_shadow(tmp_path, monkeypatch):
    (tmp_path / "shadow").write_text(FAKE_SHADOW)
    monkeypatch.setattr(accounts, "SHADOW_PATH", str(tmp_path / "shadow"))


def test_shadow_status_and_hash_algorithm(query, fake_shadow):
    rows = {r["username"]: r for r in query("SELECT * FROM shadow")}
    status = {name: (r["password_status"], r["hash_alg"]) for name, r in rows.items()}
    assert status == {"root": ("active", "6"), "alice": ("active", "y"), "bob": ("locked", None),
                      "carol": ("empty", None), "dave": ("not_set", None), "erin": ("locked", None)}
    assert rows["alice"]["min"] == -1 and rows["alice"]["expire"] == -1
    assert [rows["bob"][k] for k in ("last_change", "min", "max", "warning", "inactive", "expire")] == [
        19002, 1, 2, 3, 4, 5]


def test_shadow_username_narrows(query, fake_shadow):
    assert "username=" in plan(query, "SELECT * FROM shadow WHERE username = 'dave'")
    rows = query("SELECT username, password_status FROM shadow WHERE username = 'dave'")
    assert rows == [{"username": "dave", "password_status": "not_set"}]


def test_shadow_matches_real_file(query):
    with open("/etc/shadow", encoding="utf-8") as handle:
        names = [line.split(":", 1)[0] for line in handle if line.strip()]
    assert [r["username"] for r in query("SELECT username FROM shadow")] == names


def utmp_record(ut_type, pid, line, user, host, seconds):
    return accounts.UTMP.pack(ut_type, pid, line.encode(), b"ts/0", user.encode(), host.encode(),
                              0, 0, 0, seconds, 0, b"\0" * 16, b"\0" * 20)


def test_utmp_layout_is_glibcs():
    assert accounts.UTMP.size == 384


@pytest.fixture()
def utmp_files(tmp_path, monkeypatch):
    records = [utmp_record(2, 0, "~", "reboot", "6.1.0", 1700000000),        # boot
               utmp_record(1, 1, "~", "runlevel", "", 1700000001),            # init's, skipped
               utmp_record(6, 700, "tty1", "LOGIN", "", 1700000002),
               utmp_record(7, 4242, "pts/0", "alice", "192.0.2.7", 1700000100),
               utmp_record(8, 4242, "pts/0", "", "", 1700000200),
               utmp_record(7, 4343, "pts/1", "b" * 32, "h" * 256, 1700000300)]
    data = b"".join(records)
    (tmp_path / "utmp").write_bytes(data)
    (tmp_path / "wtmp").write_bytes(data + b"\0" * 100)                     # a torn tail
    monkeypatch.setattr(accounts, "UTMP_PATH", str(tmp_path / "utmp"))
    monkeypatch.setattr(accounts, "WTMP_PATH", str(tmp_path / "wtmp"))


def test_logged_in_users_from_utmp(query, utmp_files):
    rows = query("SELECT * FROM logged_in_users")
    assert [(r["type"], r["user"], r["tty"], r["pid"]) for r in rows] == [
        ("boot_time", "reboot", "~", 0), ("login", "LOGIN", "tty1", 700), ("user", "alice", "pts/0", 4242),
        ("dead", "", "pts/0", 4242), ("user", "b" * 32, "pts/1", 4343)]
    alice = rows[2]
    assert (alice["host"], alice["time"]) == ("192.0.2.7", 1700000100)
    assert rows[4]["host"] == "h" * 256          # full-width fields have no NUL


def test_last_keeps_logins_and_logouts(query, utmp_files):
    rows = query("SELECT * FROM last")
    assert [(r["username"], r["type"], r["type_name"], r["time"]) for r in rows] == [
        ("alice", 7, "user-process", 1700000100), ("", 8, "dead-process", 1700000200),
        ("b" * 32, 7, "user-process", 1700000300)]
    assert rows[0]["host"] == "192.0.2.7" and rows[0]["tty"] == "pts/0" and rows[0]["pid"] == 4242


def test_records_written_by_utmpdump(query, fake_host):
    fake_host.make("logged_in_users")       # util-linux's own writer: the layout is not ours to get wrong twice
    rows = query("SELECT type, user, tty, host, time, pid FROM logged_in_users")
    assert [tuple(r.values()) for r in rows] == [
        ("boot_time", "reboot", "~", "6.1.0-13-amd64", 1700000000, 0), ("login", "LOGIN", "tty1", "", 1700000002, 700),
        ("user", "alice", "pts/0", "192.0.2.7", 1700000100, 4242), ("dead", "", "pts/0", "", 1700000200, 4242)]
    assert [(r["username"], r["type"]) for r in query("SELECT username, type FROM last")] == [("alice", 7), ("", 8)]


def test_missing_utmp_is_empty(query, tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "UTMP_PATH", str(tmp_path / "none"))
    assert query("SELECT * FROM logged_in_users") == []


def test_sudoers_rules_includes_and_continuations(query, tmp_path, monkeypatch):
    (tmp_path / "sudoers.d").mkdir()
    (tmp_path / "sudoers").write_text(
        "# comment\n"
        "Defaults\tenv_reset\n"
        "Defaults  secure_path=\"/usr/sbin:/usr/bin\"\n"
        "root ALL=(ALL:ALL) ALL\n"
        "%admin ALL=(ALL) \\\n"
        "   NOPASSWD: ALL\n"
        "#include extra\n"
        "@includedir " + str(tmp_path / "sudoers.d") + "\n"
        "#includedir\n")
    (tmp_path / "extra").write_text("alice ALL=(ALL) /bin/ls\n")
    (tmp_path / "sudoers.d" / "b_rule").write_text("bob ALL=(ALL) ALL\n")
    (tmp_path / "sudoers.d" / "a_rule").write_text("carol ALL=(ALL) ALL\n")
    (tmp_path / "sudoers.d" / "skip.bak").write_text("mallory ALL=(ALL) ALL\n")
    (tmp_path / "sudoers.d" / "skip~").write_text("mallory ALL=(ALL) ALL\n")
    main = str(tmp_path / "sudoers")
    monkeypatch.setattr(accounts, "SUDOERS_PATH", main)
    rows = [(r["source"], r["header"], r["rule_details"]) for r in query("SELECT * FROM sudoers")]
    assert rows == [
        (main, "Defaults", "env_reset"),
        (main, "Defaults", 'secure_path="/usr/sbin:/usr/bin"'),
        (main, "root", "ALL=(ALL:ALL) ALL"),
        (main, "%admin", "ALL=(ALL) NOPASSWD: ALL"),
        (main, "#include", "extra"),
        (str(tmp_path / "extra"), "alice", "ALL=(ALL) /bin/ls"),
        (main, "@includedir", str(tmp_path / "sudoers.d")),
        (str(tmp_path / "sudoers.d" / "a_rule"), "carol", "ALL=(ALL) ALL"),
        (str(tmp_path / "sudoers.d" / "b_rule"), "bob", "ALL=(ALL) ALL"),
    ]


def test_sudoers_include_loop_stops(query, tmp_path, monkeypatch):
    (tmp_path / "sudoers").write_text("root ALL=(ALL) ALL\n#include sudoers\n")
    monkeypatch.setattr(accounts, "SUDOERS_PATH", str(tmp_path / "sudoers"))
    rows = query("SELECT header FROM sudoers")
    assert len(rows) == 2 * accounts.SUDOERS_MAX_NEST


def test_like_matcher_follows_sqlite_rules():
    regex = accounts._like_regex("a_c%")      # pylint: disable=protected-access
    assert regex.match("ABCdef") and regex.match("a.c") and not regex.match("ac")
    assert accounts._like_regex("50%").match("50% off")      # pylint: disable=protected-access
    assert not accounts._like_regex("a.c").match("abc")      # pylint: disable=protected-access
    assert struct.calcsize("<hxxi32s4s32s256shhiii16s20s") == 384
