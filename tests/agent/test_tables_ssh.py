"""authorized_keys, user_ssh_keys, known_hosts, ssh_configs, shell_history over real users'
files: a fake passwd whose homes are temporary directories, keys made by ssh-keygen."""

import os
import shutil
import subprocess

import pytest

from fakehost import ED_KEY
from pyosquery.tables import accounts, ssh
from pyosquery.tables.spec import load_tables

TABLES = load_tables()
PER_USER = ["authorized_keys", "user_ssh_keys", "known_hosts", "ssh_configs", "shell_history"]


def declared(table):
    return [c.name for c in TABLES[table].columns if not c.hidden]


def plan(query, sql):
    return " ".join(row["detail"] for row in query("EXPLAIN QUERY PLAN " + sql))


@pytest.fixture()
def homes(tmp_path, monkeypatch):
    """Two users with homes under tmp_path; returns {name: (uid, home)}."""
    users = {"alice": (1000, tmp_path / "alice"), "bob": (1001, tmp_path / "bob")}
    lines = ["root:x:0:0:root:%s:/bin/bash" % (tmp_path / "root")]
    for name, (uid, home) in users.items():
        (home / ".ssh").mkdir(parents=True)
        lines.append("%s:x:%d:%d::%s:/bin/sh" % (name, uid, uid, home))
    (tmp_path / "passwd").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(accounts, "PASSWD_PATH", str(tmp_path / "passwd"))
    monkeypatch.setattr(ssh, "SYSTEM_SSH_CONFIG", str(tmp_path / "ssh_config"))
    return users


@pytest.mark.parametrize("table", PER_USER)
def test_runs_with_declared_columns(query, fake_host, table):
    fake_host.make("authorized_keys")     # the user running the tests: keys, known hosts, ssh config, history
    for row in query("SELECT * FROM %s" % table):
        assert list(row) == declared(table)


def test_authorized_keys_fields(query, homes):
    home = homes["alice"][1]
    (home / ".ssh" / "authorized_keys").write_text(
        "# a comment\n"
        "\n"
        "ssh-ed25519 %s alice@laptop\n"
        'command="echo hi there",no-pty ssh-ed25519 %s  backup key \n'
        "ecdsa-sha2-nistp256 AAAAE2VjZHNh\n"
        "ssh-rsa\n"
        "zos-key-ring-label=\"KeyRingOwner/SSHAuthKeysRing uniq-ssh-rsa\"\n" % (ED_KEY, ED_KEY))
    # osquery reads the five RSA, Ed25519 and ECDSA types only: DSA, FIDO and certificate lines are no rows
    (home / ".ssh" / "authorized_keys2").write_text(
        "ssh-dss AAAAB3NzaC1kc3M old\nsk-ssh-ed25519@openssh.com AAAAGnNr fido\n"
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNz cert\nssh-rsa AAAAB3NzaC1yc2E rsa\n")
    rows = query("SELECT * FROM authorized_keys WHERE uid = 1000")
    path = str(home / ".ssh" / "authorized_keys")
    assert [(r["uid"], r["algorithm"], r["key"], r["options"], r["comment"], r["key_file"]) for r in rows] == [
        (1000, "ssh-ed25519", ED_KEY, None, "alice@laptop", path),
        (1000, "ssh-ed25519", ED_KEY, 'command="echo hi there",no-pty', "backup key", path),
        (1000, "ecdsa-sha2-nistp256", "AAAAE2VjZHNh", None, None, path),
        (1000, None, None, 'zos-key-ring-label="KeyRingOwner/SSHAuthKeysRing uniq-ssh-rsa"', None, path),
        (1000, "ssh-rsa", "AAAAB3NzaC1yc2E", None, "rsa", path + "2"),
    ]


def test_authorized_keys_uid_is_filtered_here(query, homes):
    for name, (_uid, home) in homes.items():
        (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 %s %s\n" % (ED_KEY, name))
    # uid is `additional`: the generator alone applies it (= and LIKE both)
    assert "uid=" in plan(query, "SELECT * FROM authorized_keys WHERE uid = 1001")
    assert [r["comment"] for r in query("SELECT comment FROM authorized_keys WHERE uid = 1001")] == ["bob"]


def test_known_hosts(query, homes):
    home = homes["bob"][1]
    (home / ".ssh" / "known_hosts").write_text(
        "|1|abc=|def= ssh-ed25519 %s\n#comment\n\n  github.com ssh-rsa AAAA  \n" % ED_KEY)
    rows = query("SELECT * FROM known_hosts WHERE uid = 1001")
    assert [r["key"] for r in rows] == ["|1|abc=|def= ssh-ed25519 " + ED_KEY, "github.com ssh-rsa AAAA"]
    assert {r["key_file"] for r in rows} == {str(home / ".ssh" / "known_hosts")}
    assert "uid=" in plan(query, "SELECT * FROM known_hosts WHERE uid = 1001")
    assert query("SELECT * FROM known_hosts WHERE uid = 1000") == []


def test_ssh_configs_blocks_and_system_file(query, homes, tmp_path):
    (homes["alice"][1] / ".ssh" / "config").write_text(
        "# global\nForwardAgent no\n\nHost Work *.corp\n  User Alice\n  IdentityFile ~/.ssh/Id_Work\n"
        "Match host foo exec \"true\"\n\tPort 2222\nHostName ignored-after-match\n")
    (tmp_path / "ssh_config").write_text("Host *\n    SendEnv LANG LC_*\n")
    rows = [(r["uid"], r["block"], r["option"]) for r in query("SELECT * FROM ssh_configs WHERE uid IN (0, 1000)")]
    assert rows == [
        (1000, "", "forwardagent no"),
        (1000, "host work *.corp", "user alice"),
        (1000, "host work *.corp", "identityfile ~/.ssh/id_work"),
        (1000, 'match host foo exec "true"', "port 2222"),
        (1000, 'match host foo exec "true"', "hostname ignored-after-match"),
        (0, "host *", "sendenv lang lc_*"),
    ]
    only_alice = query("SELECT uid FROM ssh_configs WHERE uid = 1000")
    assert only_alice and {r["uid"] for r in only_alice} == {1000}
    assert {r["uid"] for r in query("SELECT uid FROM ssh_configs WHERE uid = 0")} == {0}


def test_shell_history_formats(query, homes):
    home = homes["alice"][1]
    (home / ".bash_history").write_text("ls -la\n#1700000000\nmake test\n#1700000001\n#1700000002\n\nlast")
    (home / ".zsh_history").write_text(": 1700000100:0;git status\n:  1700000200:12;echo a;b\nplain zsh\n")
    (home / ".bash_sessions").mkdir()
    (home / ".bash_sessions" / "A1.history").write_text("from session\n")
    rows = [(r["time"], r["command"], os.path.basename(r["history_file"]))
            for r in query("SELECT * FROM shell_history WHERE uid = 1000")]
    assert rows == [
        (0, "ls -la", ".bash_history"),
        (1700000000, "make test", ".bash_history"),
        (1700000001, "#1700000002", ".bash_history"),     # a pending time takes the next line
        (0, "", ".bash_history"),
        (0, "last", ".bash_history"),
        (1700000100, "git status", ".zsh_history"),
        (1700000200, "echo a;b", ".zsh_history"),
        (0, "plain zsh", ".zsh_history"),
        (0, "from session", "A1.history"),
    ]
    assert query("SELECT * FROM shell_history WHERE uid = 1001") == []


def keygen(path, key_type, *args):
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-f", str(path)] + list(args),
                   check=True, stdin=subprocess.DEVNULL)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_user_ssh_keys_from_ssh_keygen(query, homes):
    keys = homes["alice"][1] / ".ssh"
    keygen(keys / "id_ed25519", "ed25519", "-N", "")
    keygen(keys / "id_rsa", "rsa", "-b", "3072", "-N", "")
    keygen(keys / "id_ecdsa_enc", "ecdsa", "-b", "384", "-N", "secret1")
    keygen(keys / "pem_rsa", "rsa", "-b", "2048", "-m", "PEM", "-N", "")
    keygen(keys / "pem_rsa_enc", "rsa", "-b", "2048", "-m", "PEM", "-N", "secret1")
    keygen(keys / "p8_ec", "ecdsa", "-b", "256", "-m", "PKCS8", "-N", "")
    (keys / "config").write_text("Host *\n")
    rows = {os.path.basename(r["path"]): r for r in query("SELECT * FROM user_ssh_keys WHERE uid = 1000")}
    assert set(rows) == {"id_ed25519", "id_rsa", "id_ecdsa_enc", "pem_rsa", "pem_rsa_enc", "p8_ec"}
    summary = {name: (r["uid"], r["encrypted"], r["key_type"], r["key_group_name"], r["key_length"],
                      r["key_security_bits"]) for name, r in rows.items()}
    assert summary == {
        "id_ed25519": (1000, 0, "ed25519", "", 256, 128),
        "id_rsa": (1000, 0, "rsa", "", 3072, 128),
        "id_ecdsa_enc": (1000, 1, "ecdsa-p384", "", 384, 192),
        "pem_rsa": (1000, 0, "rsa", "", 2048, 112),
        "pem_rsa_enc": (1000, 1, "", "", -1, -1),
        "p8_ec": (1000, 0, "ec", "prime256v1", 256, 128),
    }


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_user_ssh_keys_path_and_uid_narrow(query, homes):
    for name, (_uid, home) in homes.items():
        keygen(home / ".ssh" / "id_ed25519", "ed25519", "-N", "", "-C", name)
    path = str(homes["bob"][1] / ".ssh" / "id_ed25519")
    assert "path=" in plan(query, "SELECT * FROM user_ssh_keys WHERE path = '%s'" % path)
    rows = query("SELECT * FROM user_ssh_keys WHERE path = '%s' AND uid IN (1000, 1001)" % path)
    assert [(r["uid"], r["path"]) for r in rows] == [(1001, path)]
    assert [r["uid"] for r in query("SELECT uid FROM user_ssh_keys WHERE uid = 1000")] == [1000]


@pytest.fixture()
def me_and_other(tmp_path, monkeypatch):
    """The user running the tests and another one, each with SSH files and a shell history."""
    me = os.getuid()
    other = 4242 if me != 4242 else 4243
    lines = []
    for name, uid in (("me", me), ("other", other)):
        home = tmp_path / name
        (home / ".ssh").mkdir(parents=True)
        (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 %s %s\n" % (ED_KEY, name))
        (home / ".ssh" / "known_hosts").write_text("host-%s ssh-ed25519 %s\n" % (name, ED_KEY))
        (home / ".ssh" / "config").write_text("User %s\n" % name)
        (home / ".bash_history").write_text("echo %s\n" % name)
        lines.append("%s:x:%d:%d::%s:/bin/sh" % (name, uid, uid, home))
    (tmp_path / "passwd").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(accounts, "PASSWD_PATH", str(tmp_path / "passwd"))
    monkeypatch.setattr(ssh, "SYSTEM_SSH_CONFIG", str(tmp_path / "no_ssh_config"))
    return me, other


@pytest.mark.parametrize("table", ["authorized_keys", "known_hosts", "ssh_configs", "shell_history"])
def test_without_a_uid_only_the_current_user_is_read(query, me_and_other, table):
    # osquery's usersFromContext: no uid constraint reads the user running the query; a join
    # with users (or uid = N) names the others
    me, other = me_and_other
    assert {r["uid"] for r in query("SELECT uid FROM %s" % table)} == {me}
    assert {r["uid"] for r in query("SELECT uid FROM %s WHERE uid LIKE '%%'" % table)} == {me}
    assert {r["uid"] for r in query("SELECT uid FROM %s WHERE uid = %d" % (table, other))} == {other}
    joined = query("SELECT u.uid FROM users u CROSS JOIN %s t USING (uid)" % table)
    assert sorted(r["uid"] for r in joined) == sorted([me, other])
