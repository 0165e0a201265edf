"""rpm_packages through the rpm command, portage_packages from Portage's database; none where absent."""

import os

from tablecheck import assert_contract, generate
from pyosquery.tables import portage, rpm

RPM_OUTPUT = ("bash\t5.1.8\t6.el9\tbash-5.1.8-6.el9.src.rpm\t7738634\tabc123\tx86_64\t(none)\t1700000000\t"
              "Rocky Enterprise Software Foundation\tUnspecified\n"
              "gpg-pubkey\t5a6340b3\t6229229e\t(none)\t0\t(none)\t(none)\t(none)\t1700000001\t(none)\tPublic Keys\n")


def test_rpm_packages_from_the_rpm_command(monkeypatch, tmp_path):
    fake = tmp_path / "rpm"
    # a stand-in `rpm` that records its arguments and prints what `rpm -qa --qf` prints
    fake.write_text("#!/bin/sh\necho \"$@\" > %s/args\nprintf '%%s' '%s'\n" % (tmp_path, RPM_OUTPUT))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (tmp_path, os.environ["PATH"]))
    rows = assert_contract("rpm_packages", generate("rpm_packages"))
    assert rows[0] == {"name": "bash", "version": "5.1.8", "release": "6.el9", "source": "bash-5.1.8-6.el9.src.rpm",
                       "size": 7738634, "sha1": "abc123", "arch": "x86_64", "epoch": 0, "install_time": 1700000000,
                       "vendor": "Rocky Enterprise Software Foundation", "package_group": "Unspecified"}
    assert (rows[1]["source"], rows[1]["arch"], rows[1]["vendor"]) == ("", "", "")
    assert (tmp_path / "args").read_text().split()[-1] == "-a"       # every package
    generate("rpm_packages", {"name": [("=", "bash")]})
    assert (tmp_path / "args").read_text().split()[-1] == "bash"       # a name constraint asks rpm for one package


def test_no_rpm_no_rows(monkeypatch, query):
    monkeypatch.setattr(rpm, "RPM", "no-such-rpm")
    assert query("SELECT * FROM rpm_packages") == []


def _ebuild(root, category, entry, **files):
    path = root / category / entry
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text + "\n")


def test_portage_packages_from_var_db_pkg(monkeypatch, tmp_path):
    db = tmp_path / "pkg"
    _ebuild(db, "app-shells", "bash-5.1_p16-r2", SLOT="0", BUILD_TIME="1690000000", repository="gentoo", EAPI="8",
            SIZE="6512345")
    _ebuild(db, "dev-lang", "python-3.11.4", SLOT="3.11", BUILD_TIME="1690000001", repository="gentoo", EAPI="7",
            SIZE="100")
    world = tmp_path / "world"
    world.write_text("app-shells/bash\n")
    monkeypatch.setattr(portage, "PKG_DB", str(db))
    monkeypatch.setattr(portage, "WORLD", str(world))
    rows = assert_contract("portage_packages", generate("portage_packages"))
    assert rows == [
        {"package": "app-shells/bash", "version": "5.1_p16-r2", "slot": "0", "build_time": 1690000000,
         "repository": "gentoo", "eapi": 8, "size": 6512345, "world": 1},
        {"package": "dev-lang/python", "version": "3.11.4", "slot": "3.11", "build_time": 1690000001,
         "repository": "gentoo", "eapi": 7, "size": 100, "world": 0}]


def test_no_portage_no_rows(query):
    if not os.path.isdir(portage.PKG_DB):
        assert query("SELECT * FROM portage_packages") == []
