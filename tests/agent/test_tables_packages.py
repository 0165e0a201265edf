"""deb_packages, python_packages, npm_packages, apt_sources: against dpkg-query,
importlib.metadata and the APT files of this host, and against fixture trees."""

import glob
import importlib.metadata
import json
import os
import shutil
import subprocess

import pytest

from pyosquery.tables import accounts, apt, packages
from pyosquery.tables.spec import load_tables

TABLES = load_tables()


def declared(table):
    return [c.name for c in TABLES[table].columns if not c.hidden]


def plan(query, sql):
    return " ".join(row["detail"] for row in query("EXPLAIN QUERY PLAN " + sql))


@pytest.mark.parametrize("table", ["deb_packages", "python_packages", "npm_packages", "apt_sources"])
def test_runs_with_declared_columns(query, table):
    for row in query("SELECT * FROM %s" % table):
        assert list(row) == declared(table)


# --- deb_packages ---------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_deb_packages_match_dpkg_query(query):
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"],
                         check=True, capture_output=True, text=True).stdout
    expected = {tuple(line.split("\t")[:3]) for line in out.splitlines() if line.split("\t")[3].strip() != "un"}
    rows = query("SELECT name, version, arch FROM deb_packages")
    assert {(r["name"], r["version"], r["arch"]) for r in rows} == expected
    assert len(rows) == len(expected)


STATUS = """\
Package: libfoo1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 123
Maintainer: Foo Team <foo@example.org>
Architecture: amd64
Multi-Arch: same
Source: foo (1:2.0-1)
Version: 1:2.0-1+b1
Depends: libc6 (>= 2.34)
Description: the foo library
 Long description line.
 .
 Package: not-a-field

Package: gone
Status: purge ok not-installed
Priority: optional
Section: misc
Architecture: all

Package: leftover
Status: deinstall ok config-files
Priority: extra
Section: misc
Architecture: all
Version: 0.9
Maintainer: X <x@example.org>
"""


def test_deb_packages_admindir_fixture(query, tmp_path):
    (tmp_path / "status").write_text(STATUS)
    assert "admindir=" in plan(query, "SELECT * FROM deb_packages WHERE admindir = '%s'" % tmp_path)
    rows = query("SELECT * FROM deb_packages WHERE admindir = '%s'" % tmp_path)
    assert [r["name"] for r in rows] == ["libfoo1", "leftover"]
    foo = rows[0]
    assert (foo["version"], foo["revision"], foo["source"], foo["size"], foo["arch"], foo["status"],
            foo["maintainer"], foo["section"], foo["priority"], foo["admindir"]) == (
        "1:2.0-1+b1", "1+b1", "foo (1:2.0-1)", 123, "amd64", "install ok installed",
        "Foo Team <foo@example.org>", "libs", "optional", str(tmp_path))
    assert (rows[1]["revision"], rows[1]["status"], rows[1]["size"]) == ("", "deinstall ok config-files", None)
    assert query("SELECT * FROM deb_packages WHERE admindir = '%s'" % (tmp_path / "nope")) == []


# --- python_packages ------------------------------------------------------------------------

def test_python_packages_match_importlib_metadata(query):
    sites = sorted({s for p in packages.PYTHON_SITES for s in glob.glob(p)})
    assert sites, "no system site directory"
    for site in sites:
        expected = {(d.metadata["Name"], d.version) for d in importlib.metadata.distributions(path=[site])}
        rows = query("SELECT name, version, uid FROM python_packages WHERE directory = '%s'" % site)
        if not expected:
            assert rows == []       # a site directory with nothing installed
            continue
        assert {(r["name"], r["version"]) for r in rows} == expected
        assert {r["uid"] for r in rows} <= {0}          # system packages are root's, as in osquery


def write_dist(site, name, version, extra=""):
    info = site / ("%s-%s.dist-info" % (name, version))
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: Does: many things\nHome-page: https://x.org\n"
        "Author: Ann Author\nLicense: MIT\n%s\nLicense: not a header\nName: body text\n" % (name, version, extra))
    return info


@pytest.fixture()
def python_home(tmp_path, monkeypatch):
    home = tmp_path / "alice"
    site = home / ".local" / "lib" / "python3.11" / "site-packages"
    write_dist(site, "alpha", "1.0")
    (site / "beta-2.0.egg-info").mkdir()
    (site / "beta-2.0.egg-info" / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: beta\nVersion: 2.0\n")
    (site / "gamma-0.1.egg-info").write_text("Metadata-Version: 1.1\nName: gamma\nVersion: 0.1\n")
    (site / "not_a_package").mkdir()
    (tmp_path / "passwd").write_text("alice:x:1000:1000::%s:/bin/sh\n" % home)
    monkeypatch.setattr(accounts, "PASSWD_PATH", str(tmp_path / "passwd"))
    return site


def test_python_packages_user_site(query, python_home):
    assert "uid=" in plan(query, "SELECT * FROM python_packages WHERE uid = 1000")
    rows = query("SELECT * FROM python_packages WHERE uid = 1000")
    assert [(r["name"], r["version"], r["uid"], r["directory"]) for r in rows] == [
        ("alpha", "1.0", 1000, str(python_home)), ("beta", "2.0", 1000, str(python_home)),
        ("gamma", "0.1", 1000, str(python_home))]
    alpha = rows[0]
    assert (alpha["summary"], alpha["author"], alpha["license"]) == ("Does: many things", "Ann Author", "MIT")
    assert alpha["path"] == str(python_home / "alpha-1.0.dist-info")
    # osquery reads `directory = X` as a system site: uid 0, whoever's home it is in
    by_dir = query("SELECT name, uid FROM python_packages WHERE directory = '%s'" % python_home)
    assert [(r["name"], r["uid"]) for r in by_dir] == [("alpha", 0), ("beta", 0), ("gamma", 0)]


def test_python_packages_skip_metadata_when_unused(query, python_home, monkeypatch):
    def refuse(_path):
        raise AssertionError("metadata read for a query that does not use it")
    monkeypatch.setattr(packages, "metadata_headers", refuse)
    rows = query("SELECT path FROM python_packages WHERE uid = 1000")
    assert len(rows) == 3


USER_SITES = {      # tool -> a site below the home, at the tool's default location
    "pip --user": ".local/lib/python3.11/site-packages",
    "pyenv": ".pyenv/versions/3.12.1/lib/python3.12/site-packages",
    "asdf": ".asdf/installs/python/3.12.1/lib/python3.12/site-packages",
    "uv": ".local/share/uv/tools/ruff/lib/python3.12/site-packages",
    "pipx": ".local/share/pipx/venvs/black/lib/python3.12/site-packages",
    "poetry": ".cache/pypoetry/virtualenvs/app-x1-py3.12/lib/python3.12/site-packages",
    "conda": "miniconda3/envs/science/lib/python3.12/site-packages",
    "virtualenv": ".virtualenvs/tools/lib/python3.12/site-packages",
}


@pytest.fixture()
def python_users(tmp_path, monkeypatch):
    """A system site, the current user with a site per tool, another user with a pip --user site."""
    me = os.getuid()
    other = 4242 if me != 4242 else 4243
    system = tmp_path / "usr" / "lib" / "python3.11" / "site-packages"
    write_dist(system, "system-pkg", "1.0")
    monkeypatch.setattr(packages, "PYTHON_SITES", (str(tmp_path / "usr" / "lib" / "python*" / "site-packages"),))
    for tool, relative in USER_SITES.items():
        write_dist(tmp_path / "me" / relative, tool.replace(" ", "-"), "1.0")
    os.symlink("3.12.1", str(tmp_path / "me" / ".pyenv" / "versions" / "3.12"))   # pyenv's alias
    write_dist(tmp_path / "other" / USER_SITES["pip --user"], "others-pkg", "1.0")
    (tmp_path / "passwd").write_text("me:x:%d:%d::%s:/bin/sh\nother:x:%d:%d::%s:/bin/sh\n"
                                     % (me, me, tmp_path / "me", other, other, tmp_path / "other"))
    monkeypatch.setattr(accounts, "PASSWD_PATH", str(tmp_path / "passwd"))
    return me, other


def test_python_packages_system_uid_zero_and_the_current_users_tools(query, python_users):
    me, other = python_users
    rows = query("SELECT name, uid FROM python_packages")
    mine = {tool.replace(" ", "-") for tool in USER_SITES}
    assert sorted((r["name"], r["uid"]) for r in rows) == sorted([("system-pkg", 0)] + [(n, me) for n in mine])
    assert ("system-pkg", 0) in {(r["name"], r["uid"]) for r in query("SELECT name, uid FROM python_packages WHERE uid = 0")}
    assert [r["name"] for r in query("SELECT name FROM python_packages WHERE uid = %d" % other)] == ["others-pkg"]
    joined = {r["name"] for r in query("SELECT name FROM users CROSS JOIN python_packages USING (uid)")}
    assert {"others-pkg"} | mine <= joined


# --- npm_packages ---------------------------------------------------------------------------

def write_package(directory, doc):
    directory.mkdir(parents=True)
    (directory / "package.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))


def test_npm_packages_tree(query, tmp_path):
    modules = tmp_path / "lib" / "node_modules"
    write_package(modules / "left-pad", {"name": "left-pad", "version": "1.3.0", "description": "pad",
                                         "author": {"name": "azer", "email": "a@x"}, "license": "WTFPL",
                                         "homepage": "https://github.com/left-pad"})
    write_package(modules / "left-pad" / "node_modules" / "inner", {"name": "inner", "version": "0.0.1",
                                                                    "author": "Jo <jo@x>"})
    write_package(modules / "left-pad" / "node_modules" / "inner" / "node_modules" / "deep",
                  {"name": "deep", "version": "9", "license": {"type": "MIT", "url": "http://mit"}})
    write_package(modules / "@scope" / "tool", {"name": "@scope/tool", "version": "2.0.0"})
    write_package(modules / "broken", "{not json")
    (modules / ".bin").mkdir()
    directory = str(tmp_path / "lib")
    assert "directory=" in plan(query, "SELECT * FROM npm_packages WHERE directory = '%s'" % directory)
    rows = query("SELECT * FROM npm_packages WHERE directory = '%s'" % directory)
    assert [(r["name"], r["version"], r["depth"]) for r in rows] == [
        ("@scope/tool", "2.0.0", 0), ("left-pad", "1.3.0", 0), ("inner", "0.0.1", 1), ("deep", "9", 2)]
    pad, inner, deep = rows[1], rows[2], rows[3]
    assert (pad["author"], pad["license"], pad["homepage"], pad["description"]) == (
        "azer", "WTFPL", "https://github.com/left-pad", "pad")
    assert (inner["author"], deep["license"]) == ("Jo <jo@x>", "http://mit")
    assert pad["path"] == str(modules / "left-pad" / "package.json") and deep["directory"] == directory
    shallow = query("SELECT name, depth FROM npm_packages WHERE directory = '%s' AND max_depth = 0" % directory)
    assert [r["name"] for r in shallow] == ["@scope/tool", "left-pad"]


def test_npm_packages_global_dirs(query):
    found = sorted(glob.glob("/usr/lib/node_modules/*/package.json"))
    if not found:
        pytest.skip("no global node modules")
    rows = query("SELECT path FROM npm_packages WHERE directory = '/usr/lib' AND depth = 0")
    assert [r["path"] for r in rows] == found


# --- apt_sources ----------------------------------------------------------------------------

def test_apt_sources_match_this_hosts_files(query):
    rows = query("SELECT * FROM apt_sources")
    expected = []
    for path in apt.source_files():
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            parse = apt.deb822_sources if path.endswith(".sources") else apt.one_line_sources
            expected += [(path, uri.rstrip("/")) for uri, _suite in parse(text) if "://" in uri]
    assert [(r["source"], r["base_uri"]) for r in rows] == expected
    for row in rows:
        release = glob.glob(os.path.join(apt.APT_LISTS, "*_dists_%s_InRelease" % row["name"].split()[1]))
        if release:
            with open(release[0], encoding="utf-8") as handle:
                codename = [line.split(":", 1)[1].strip() for line in handle if line.startswith("Codename:")]
            assert row["release"] == codename[0]


@pytest.fixture()
def apt_tree(tmp_path, monkeypatch):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "lists").mkdir()
    (tmp_path / "sources.list").write_text(
        "# comment\n"
        "deb http://deb.example.org/debian/ bookworm main contrib # trailing\n"
        "deb-src http://deb.example.org/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://repo.example.com/apt stable main\n"
        "deb https://flat.example.net/repo ./\n"
        "#deb http://disabled.example.org/ bookworm main\n")
    (tmp_path / "sources.list.d" / "extra.sources").write_text(
        "Types: deb deb-src\nURIs: http://a.example.org/ubuntu http://b.example.org/ubuntu\n"
        "Suites: noble noble-updates\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n"
        " abc\n\nTypes: deb\nURIs: http://off.example.org/x\nSuites: s\nEnabled: no\n\n"
        "Types: deb-src\nURIs: http://src.example.org/x\nSuites: s\n")
    (tmp_path / "sources.list.d" / "ignored.list.save").write_text("deb http://save.example.org/ s main\n")
    (tmp_path / "lists" / "deb.example.org_debian_dists_bookworm_InRelease").write_text(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nLabel: Debian\nSuite: stable\n"
        "Version: 12.5\nCodename: bookworm\nDate: Sat, 10 Feb 2024 09:55:30 UTC\nArchitectures: all amd64\n"
        "Components: main contrib\nMD5Sum:\n 0123 456 main/Contents-all\n"
        "-----BEGIN PGP SIGNATURE-----\nCodename: not-this\n")
    (tmp_path / "lists" / "flat.example.net_repo_Release").write_text("Origin: Flat\nCodename: flat\n")
    monkeypatch.setattr(apt, "SOURCES_LIST", str(tmp_path / "sources.list"))
    monkeypatch.setattr(apt, "SOURCES_DIR", str(tmp_path / "sources.list.d"))
    monkeypatch.setattr(apt, "APT_LISTS", str(tmp_path / "lists"))
    return tmp_path


def test_apt_sources_fixture(query, apt_tree):
    rows = query("SELECT * FROM apt_sources")
    listed = str(apt_tree / "sources.list")
    deb822 = str(apt_tree / "sources.list.d" / "extra.sources")
    assert [(r["name"], r["source"], r["base_uri"]) for r in rows] == [
        ("deb.example.org/debian bookworm", listed, "http://deb.example.org/debian"),
        ("repo.example.com/apt stable", listed, "https://repo.example.com/apt"),
        ("flat.example.net/repo ./", listed, "https://flat.example.net/repo"),
        ("a.example.org/ubuntu noble", deb822, "http://a.example.org/ubuntu"),
        ("a.example.org/ubuntu noble-updates", deb822, "http://a.example.org/ubuntu"),
        ("b.example.org/ubuntu noble", deb822, "http://b.example.org/ubuntu"),
        ("b.example.org/ubuntu noble-updates", deb822, "http://b.example.org/ubuntu"),
    ]
    debian = rows[0]
    assert (debian["release"], debian["version"], debian["maintainer"], debian["components"],
            debian["architectures"]) == ("bookworm", "12.5", "Debian", "main contrib", "all amd64")
    assert (rows[2]["maintainer"], rows[2]["release"]) == ("Flat", "flat")
    assert rows[1]["release"] is None and rows[1]["components"] is None     # not downloaded yet
