"""Audit record text and sockaddr decoding, on records as the kernel writes them (no kernel needed)."""

import struct

from pyosquery.events.audit import assembler, records, rules, sockaddr


def datagram(kind, text):
    payload = text.encode()
    # the kernel's nlmsg_len for records leaves the header out: the parser must not rely on it
    return struct.pack("=IHHII", len(payload), kind, 0, 0, 0) + payload


def test_values_quoted_hex_and_null():
    assert records.text('"/bin/true"') == "/bin/true"
    assert records.text("74776F20776F726473") == "two words"
    assert records.text("(null)") == ""


def test_long_arguments_come_in_chunks_and_are_joined():
    execve = records.fields(datagram(records.EXECVE,
                                     'audit(1700000000.100:7): argc=3 a0="ls" a1_len=8 a1[0]="abcd" a1[1]="efgh" '
                                     'a2=2D6C2061'))
    assert records.arguments([execve]) == ["ls", "abcdefgh", "-l a"]


def test_an_event_is_parsed_from_its_records():
    event = assembler.Event([
        datagram(records.SYSCALL, 'audit(1700000000.100:7): arch=c000003e syscall=59 success=yes pid=5 ppid=1 '
                                  'exe="/usr/bin/true"'),
        datagram(records.CWD, 'audit(1700000000.100:7): cwd=2F746D702F6120622F'),
    ])
    assert event.time == 1700000000
    assert event.syscall["pid"] == "5"
    assert records.text(event.first(records.CWD)["cwd"]) == "/tmp/a b/"
    assert event.first(records.PATH) == {}
    assert records.stamp(datagram(records.EOE, "audit(1700000000.100:7): "))[0] == b"7"


def test_sockaddr_ipv4_ipv6_and_unix():
    assert sockaddr.decode("0200BEC77F0000010000000000000000") == \
        {"family": 2, "port": 48839, "address": "127.0.0.1", "socket": ""}
    ipv6 = "0A000050" + "00000000" + "00000000000000000000000000000001" + "00000000"
    assert sockaddr.decode(ipv6)["address"] == "::1"
    assert sockaddr.decode(ipv6)["port"] == 80
    assert sockaddr.decode("01002F72756E2F782E736F636B00")["socket"] == "/run/x.sock"
    assert sockaddr.decode("0100006162")["socket"] == "@ab"
    assert sockaddr.decode("1000") is None  # netlink: not a socket_events family


def test_rules_follow_the_flags_and_name_their_syscalls():
    class Flags:
        audit_allow_process_events, audit_allow_sockets = True, False
    made = rules.wanted_rules(Flags, machine="x86_64")
    assert [str(rule) for rule in made] == ["-a always,exit -F arch=b64 -S 59,322",
                                            "-a always,exit -F arch=b32 -S 11,358"]
    assert len(made[0].data) == rules.RULE.size == 1040
    assert rules.syscall_names("x86_64")[("c000003e", 42)] == "connect"
