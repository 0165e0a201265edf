"""dns_resolvers, etc_hosts, etc_services, etc_protocols."""

import ctypes
import os
import subprocess

import pytest

from tablecheck import assert_contract, generate, visible_columns
from pyosquery.tables import netconfig

TABLES = ["dns_resolvers", "etc_hosts", "etc_services", "etc_protocols"]


@pytest.mark.parametrize("name", TABLES)
def test_rows_keep_the_contract(query, name):
    assert_contract(name)
    assert list(query("SELECT * FROM %s" % name)[0]) == visible_columns(name)


def _getent(database):
    return subprocess.run(["getent", database], check=True, capture_output=True, text=True).stdout.splitlines()


def test_etc_services_is_getent_services(query):
    rows = query("SELECT name, port, protocol, aliases FROM etc_services")
    expected = []
    for line in _getent("services"):
        words = line.split()
        port, protocol = words[1].split("/")
        expected.append({"name": words[0], "port": int(port), "protocol": protocol, "aliases": " ".join(words[2:])})
    assert rows == expected


def test_etc_services_comment(monkeypatch):
    lines = ["http 80/tcp www # WorldWideWeb HTTP # second", "# only a comment", "bad", "x y/z"]
    monkeypatch.setattr(netconfig._os, "read_lines", lambda path: lines)
    assert generate("etc_services") == [{"name": "http", "port": 80, "protocol": "tcp", "aliases": "www",
                                         "comment": "WorldWideWeb HTTP # second"}]


def test_etc_protocols_is_getent_protocols(query):
    rows = query("SELECT name, number, alias FROM etc_protocols")
    expected = []
    for line in _getent("protocols"):
        words = line.split()
        expected.append({"name": words[0], "number": int(words[1]), "alias": words[2] if len(words) > 2 else None})
    assert rows == expected


def test_etc_hosts_is_the_file(query):
    with open("/etc/hosts", encoding="utf-8") as handle:
        lines = [line.split("#")[0].split() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    rows = query("SELECT address, hostnames FROM etc_hosts")
    assert [(r["address"], r["hostnames"] or "") for r in rows] == [(w[0], " ".join(w[1:])) for w in lines if w]


def test_etc_hosts_in_a_process_namespace(query):
    own = query("SELECT address, hostnames FROM etc_hosts")
    rows = query("SELECT address, hostnames, pid_with_namespace FROM etc_hosts WHERE pid_with_namespace = %d"
                 % os.getpid())
    assert [(r["address"], r["hostnames"]) for r in rows] == [(r["address"], r["hostnames"]) for r in own]
    assert {r["pid_with_namespace"] for r in rows} == {os.getpid()}


def _read_resolv():
    servers, search = [], []
    with open("/etc/resolv.conf", encoding="utf-8") as handle:
        for line in handle:
            words = line.split()
            if words and words[0] == "nameserver":
                servers.append(words[1])
            elif words and words[0] in ("search", "domain"):
                search = words[1:]
    return servers[:3], search


def test_dns_resolvers_are_resolv_conf(query):
    servers, search = _read_resolv()
    rows = query("SELECT * FROM dns_resolvers")
    assert [r["address"] for r in rows if r["type"] == "nameserver"] == servers
    assert [r["id"] for r in rows if r["type"] == "nameserver"] == list(range(len(servers)))
    if search:
        assert [r["address"] for r in rows if r["type"] == "search"] == search


def test_dns_resolvers_options_equal_glibc_res_state(query):
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.__res_state.restype = ctypes.POINTER(ctypes.c_ulong * 4)
        if libc.__res_init() != 0:
            pytest.skip("res_init failed")
        # struct __res_state { int retrans; int retry; unsigned long options; ... }
        options = libc.__res_state().contents[1]
    except (OSError, AttributeError):
        pytest.skip("glibc resolver state unavailable")
    rows = query("SELECT options FROM dns_resolvers")
    assert rows and {r["options"] for r in rows} == {options}


def test_resolver_parsing(monkeypatch):
    lines = ["# comment", "nameserver 10.0.0.1", "nameserver fe80::1", "nameserver 10.0.0.2",
             "nameserver 10.0.0.3", "domain old.example", "search a.example b.example",
             "sortlist 130.155.160.0/255.255.240.0 130.155.0.0", "options rotate edns0 ndots:2"]
    monkeypatch.setattr(netconfig._os, "read_lines", lambda path: lines)
    rows = assert_contract("dns_resolvers", generate("dns_resolvers"))
    assert [(r["type"], r["id"], r["address"], r.get("netmask")) for r in rows] == [
        ("nameserver", 0, "10.0.0.1", "32"), ("nameserver", 1, "fe80::1", "128"),
        ("nameserver", 2, "10.0.0.2", "32"), ("sortlist", 0, "130.155.160.0", "20"),
        ("sortlist", 1, "130.155.0.0", "16"), ("search", 0, "a.example", None), ("search", 1, "b.example", None)]
    assert rows[0]["options"] == 0x2c1 | 0x4000 | 0x100000
