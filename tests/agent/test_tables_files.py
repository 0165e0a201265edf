"""file and hash, checked against stat and sha256sum, with osquery's % and %% patterns."""

import hashlib
import os
import subprocess

import pytest


@pytest.fixture()
def tree(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / "top.conf").write_text("top\n")
    (tmp_path / "other.txt").write_text("other\n")
    (tmp_path / "a" / "one.conf").write_text("one\n")
    (tmp_path / "a" / "deep" / "two.conf").write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    os.symlink(str(tmp_path / "top.conf"), str(tmp_path / "link.conf"))
    return tmp_path


def test_file_matches_stat(query, tree):
    path = str(tree / "top.conf")
    info = os.stat(path)
    row = query("SELECT * FROM file WHERE path = '%s'" % path)[0]
    assert row["directory"] == str(tree) and row["filename"] == "top.conf"
    assert (row["inode"], row["uid"], row["gid"], row["size"]) == (info.st_ino, info.st_uid, info.st_gid, 4)
    assert row["mode"] == "%04o" % (info.st_mode & 0o7777)
    assert row["mtime"] == int(info.st_mtime) and row["hard_links"] == 1
    assert row["type"] == "regular" and row["symlink"] == 0


def test_symlink_reports_its_target(query, tree):
    row = query("SELECT * FROM file WHERE path = '%s'" % (tree / "link.conf"))[0]
    assert row["symlink"] == 1
    assert row["symlink_target_path"] == str(tree / "top.conf")
    assert row["size"] == 4 and row["type"] == "regular"


def test_percent_matches_one_level(query, tree):
    rows = query("SELECT path FROM file WHERE path LIKE '%s/%%.conf'" % tree)
    assert sorted(r["path"] for r in rows) == [str(tree / "link.conf"), str(tree / "top.conf")]


def test_double_percent_recurses(query, tree):
    rows = query("SELECT path FROM file WHERE path LIKE '%s/%%%%'" % tree)
    found = {os.path.relpath(r["path"], str(tree)) for r in rows}
    assert found == {"a", "a/deep", "a/one.conf", "a/deep/two.conf", "top.conf", "other.txt", "link.conf"}


def test_directory_lists_entries(query, tree):
    rows = query("SELECT filename FROM file WHERE directory = '%s'" % (tree / "a"))
    assert sorted(r["filename"] for r in rows) == ["deep", "one.conf"]


def test_missing_path_gives_no_row(query, tree):
    assert query("SELECT * FROM file WHERE path = '%s'" % (tree / "nope")) == []


def test_hash_matches_sha256sum(query, tree):
    path = str(tree / "a" / "deep" / "two.conf")
    expected = subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0]
    row = query("SELECT md5, sha1, sha256 FROM hash WHERE path = '%s'" % path)[0]
    content = open(path, "rb").read()
    assert row == {"md5": hashlib.md5(content).hexdigest(), "sha1": hashlib.sha1(content).hexdigest(),
                   "sha256": expected}


def test_hash_of_a_directory_listing_skips_directories(query, tree):
    rows = query("SELECT path, sha256 FROM hash WHERE directory = '%s'" % tree)
    assert sorted(os.path.basename(r["path"]) for r in rows) == ["link.conf", "other.txt", "top.conf"]


def test_hash_skips_a_fifo_instead_of_blocking(query, tree):
    fifo = str(tree / "fifo")
    os.mkfifo(fifo)
    assert query("SELECT sha256 FROM hash WHERE path = '%s'" % fifo) == []


def test_suid_bin_lists_setuid_programs(query):
    rows = {r["path"]: r for r in query("SELECT * FROM suid_bin")}
    expected = [p for p in ("/usr/bin/passwd", "/usr/bin/su") if os.path.exists(p) and os.stat(p).st_mode & 0o4000]
    assert expected
    for path in expected:
        assert rows[path]["username"] == "root" and "S" in rows[path]["permissions"]
