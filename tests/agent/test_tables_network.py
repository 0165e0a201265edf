"""interface_addresses, interface_details, interface_ipv6, routes, arp_cache."""

import fcntl
import ipaddress
import json
import os
import socket
import struct
import subprocess

import pytest

from tablecheck import assert_contract, generate, visible_columns

TABLES = ["interface_addresses", "interface_details", "interface_ipv6", "routes", "arp_cache"]


def _ip_json(*args):
    return json.loads(subprocess.run(["ip", "-j"] + list(args), check=True, capture_output=True,
                                     text=True).stdout or "[]")


@pytest.mark.parametrize("name", TABLES)
def test_rows_keep_the_contract(query, name):
    assert_contract(name)
    assert list(query("SELECT * FROM %s" % name)[0]) == visible_columns(name)


def _ip_addresses():
    expected = set()
    for link in _ip_json("addr"):
        for info in link.get("addr_info", []):
            family = 4 if info["family"] == "inet" else 6
            zero = "0.0.0.0" if family == 4 else "::"
            mask = str(ipaddress.ip_network("%s/%d" % (zero, info["prefixlen"])).netmask)
            expected.add((info.get("label", link["ifname"]), info["local"], mask))
    return expected


def test_interface_addresses_are_ip_addr(query):
    # read ip before and after: addresses that come or go meanwhile may be in either
    before = _ip_addresses()
    rows = query("SELECT * FROM interface_addresses")
    after = _ip_addresses()
    got = {(r["interface"], r["address"].split("%")[0], r["mask"]) for r in rows}
    assert before & after <= got <= before | after
    assert ("lo", "127.0.0.1", "255.0.0.0") in got


def test_interface_addresses_broadcast_and_scope(query):
    listed = query("SELECT * FROM interface_addresses")
    for link in _ip_json("addr"):
        for info in link.get("addr_info", []):
            rows = [r for r in listed if r["address"].split("%")[0] == info["local"]]
            if link["ifname"] not in ("lo", "eth0"):
                continue                  # only links that do not come and go during the test
            assert len(rows) == 1
            if info.get("broadcast"):
                assert rows[0]["broadcast"] == info["broadcast"]
            if info["family"] == "inet6" and info.get("scope") == "link":
                assert rows[0]["address"] == "%s%%%s" % (info["local"], link["ifname"])
    lo = query("SELECT * FROM interface_addresses WHERE address = '127.0.0.1'")
    assert lo[0]["point_to_point"] == "127.0.0.1" and lo[0]["broadcast"] is None


def _ifreq(name, request):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return fcntl.ioctl(sock.fileno(), request, struct.pack("16s24x", name.encode()))


def test_interface_details_are_links_with_counters(query):
    links = _ip_json("-s", "link")      # first: our counters can only be higher
    rows = {r["interface"]: r for r in query("SELECT * FROM interface_details")}
    after = {link["ifname"] for link in _ip_json("link")}
    before = {link["ifname"] for link in links}
    assert before & after <= set(rows) <= before | after and "lo" in rows
    for link in links:
        row = rows.get(link["ifname"])
        if row is None:
            continue                     # removed meanwhile
        assert row["mtu"] == link["mtu"]
        if link.get("address") and len(link["address"]) == 17:
            assert row["mac"] == link["address"]
        stats = link["stats64"]
        assert stats["rx"]["bytes"] <= row["ibytes"] < stats["rx"]["bytes"] + 10 ** 8
        assert stats["tx"]["packets"] <= row["opackets"]
        flags = struct.unpack_from("H", _ifreq(link["ifname"], 0x8913), 16)[0]    # SIOCGIFFLAGS
        # the kernel's dev_get_flags(), as getifaddrs gives osquery: a bridge port the kernel made
        # promiscuous for itself (a lab fleet's veths) is not IFF_PROMISC here, as in /sys's flags
        assert row["flags"] & 0xffff == flags
        assert bool(row["flags"] & 0x10000) == ("LOWER_UP" in link["flags"])      # IFF_LOWER_UP
        hw_type = struct.unpack_from("H", _ifreq(link["ifname"], 0x8927), 16)[0]  # SIOCGIFHWADDR
        assert row["type"] == hw_type
        assert row["last_change"] == -1 and row["metric"] == 0


def test_interface_details_loopback(query):
    row = query("SELECT * FROM interface_details WHERE interface = 'lo'")[0]
    assert row["mac"] == "00:00:00:00:00:00" and row["type"] == 772
    assert row["flags"] & 0x8 and row["flags"] & 0x1


def test_interface_ipv6_reads_proc_sys(query):
    for row in query("SELECT * FROM interface_ipv6"):
        base = "/proc/sys/net/ipv6/conf/%s/" % row["interface"]
        if not os.path.isdir(base):
            assert row["hop_limit"] == -1
            continue
        with open(base + "hop_limit", encoding="utf-8") as handle:
            assert row["hop_limit"] == int(handle.read())
        with open(base + "forwarding", encoding="utf-8") as handle:
            assert row["forwarding_enabled"] == int(handle.read())


def _route_key(destination, prefix):
    return destination, 0 if prefix in (32, 128) else prefix


def _ip_routes():
    keys = set()
    for args, default in ((["-4", "route", "show", "table", "all"], "0.0.0.0"),
                          (["-6", "route", "show", "table", "all"], "::")):
        for route in _ip_json(*args):
            dst = route["dst"]
            if dst == "default":
                destination, prefix = default, 0
            else:
                destination, _, length = dst.partition("/")
                prefix = int(length) if length else (32 if default == "0.0.0.0" else 128)
            keys.add(_route_key(destination, prefix) + (route.get("gateway"), route.get("dev")))
    return keys


def test_routes_are_ip_route(query):
    before = _ip_routes()
    rows = query("SELECT * FROM routes")
    after = _ip_routes()
    got = {(r["destination"], r["netmask"], r["gateway"], r["interface"]) for r in rows}
    assert before & after <= got
    assert ("127.0.0.1", 0, None, "lo") in got


def test_routes_types_and_default(query):
    rows = query("SELECT * FROM routes")
    assert {r["type"] for r in rows} <= {"gateway", "local", "broadcast", "anycast", "other"}
    local = [r for r in rows if r["destination"] == "127.0.0.1"]
    assert local and local[0]["type"] == "local" and local[0]["interface"] == "lo"
    for route in _ip_json("route", "show", "default"):
        assert any(r["destination"] == "0.0.0.0" and r["gateway"] == route["gateway"] for r in rows)


def test_routes_type_constraint_is_applied(query):
    # type is "additional": SQLite does not re-check it, the generator must
    rows = query("SELECT type FROM routes WHERE type = 'local'")
    assert rows and {r["type"] for r in rows} == {"local"}
    assert all(r["type"] == "broadcast" for r in generate("routes", {"type": [("=", "broadcast")]}))


def test_arp_cache_is_proc_net_arp(query):
    with open("/proc/net/arp", encoding="utf-8") as handle:
        lines = [line.split() for line in handle.read().splitlines()[1:]]
    rows = query("SELECT * FROM arp_cache")
    assert [(r["address"], r["mac"], r["interface"]) for r in rows] == [(f[0], f[3], f[5]) for f in lines]
    assert all(r["permanent"] in ("0", "1") for r in rows)
