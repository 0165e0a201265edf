"""rpm_packages through the rpm command, portage_packages from Portage's database; none where absent."""

import os

from tablecheck import assert_contract, generate
from fakehost import ebuild
from pyosquery.tables import portage, rpm


def test_rpm_packages_from_the_rpm_command(fake_host):
    fake_host.make("rpm_packages")      # a stand-in `rpm` printing RPM_OUTPUT, its arguments in rpm.args
    rows = assert_contract("rpm_packages", generate("rpm_packages"))
    assert rows[0] == {"name": "bash", "version": "5.1.8", "release": "6.el9", "source": "bash-5.1.8-6.el9.src.rpm",
                       "size": 7738634, "sha1": "abc123", "arch": "x86_64", "epoch": 0, "install_time": 1700000000,
                       "vendor": "Rocky Enterprise Software Foundation", "package_group": "Unspecified"}
    assert (rows[1]["source"], rows[1]["arch"], rows[1]["vendor"]) == ("", "", "")
    assert (fake_host.root / "rpm.args").read_text().split()[-1] == "-a"       # every package
    generate("rpm_packages", {"name": [("=", "bash")]})
    assert (fake_host.root / "rpm.args").read_text().split()[-1] == "bash"       # a name constraint asks rpm for one package


def test_no_rpm_no_rows(monkeypatch, query):
    monkeypatch.setattr(rpm, "RPM", "no-such-rpm")
    assert query("SELECT * FROM rpm_packages") == []


def test_portage_packages_from_var_db_pkg(fake_host):
    fake_host.make("portage_packages")      # app-shells/bash, in the world file
    ebuild(fake_host.root / "var/db/pkg", "dev-lang", "python-3.11.4", SLOT="3.11", BUILD_TIME="1690000001",
           repository="gentoo", EAPI="7", SIZE="100")
    rows = assert_contract("portage_packages", generate("portage_packages"))
    assert rows == [
        {"package": "app-shells/bash", "version": "5.1_p16-r2", "slot": "0", "build_time": 1690000000,
         "repository": "gentoo", "eapi": 8, "size": 6512345, "world": 1},
        {"package": "dev-lang/python", "version": "3.11.4", "slot": "3.11", "build_time": 1690000001,
         "repository": "gentoo", "eapi": 7, "size": 100, "world": 0}]


def test_no_portage_no_rows(query):
    if not os.path.isdir(portage.PKG_DB):
        assert query("SELECT * FROM portage_packages") == []
