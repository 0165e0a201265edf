"""Audit record text and sockaddr decoding, on records as the kernel writes them (no kernel needed)."""

import struct

from pyosquery.events.audit import assembler, publisher, records, rows, rules, sockaddr
from pyosquery.flags.values import Values


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


def socket_event(syscall, outcome, saddr="0200BEC77F0000010000000000000000"):
    return assembler.Event([
        datagram(records.SYSCALL, 'audit(1700000000.100:9): arch=c000003e syscall=%d %s a0=1a pid=7 auid=1000 '
                                  'exe="/usr/bin/curl"' % (syscall, outcome)),
        datagram(records.SOCKADDR, "audit(1700000000.100:9): saddr=%s" % saddr),
    ])


def flag_values(**changed):
    values = Values()
    for name, value in changed.items():
        values.set(name, value)
    return values


def test_socket_rows_follow_the_socket_flags():
    connect, accept = 42, 43
    row = rows.socket_row(socket_event(connect, "success=yes exit=0"), "connect", 0, flag_values())
    assert (row["action"], row["fd"], row["remote_port"], row["status"]) == ("connect", "26", 48839, "succeeded")
    failed = socket_event(connect, "success=no exit=-111")
    assert rows.socket_row(failed, "connect", 0, flag_values()) is None
    assert rows.socket_row(failed, "connect", 0, flag_values(audit_allow_failed_socket_events=True))["status"] == "failed"
    pending = socket_event(connect, "success=no exit=-115")
    assert rows.socket_row(pending, "connect", 0, flag_values())["status"] == "in_progress"
    nobody = socket_event(accept, "success=no exit=-11")
    assert rows.socket_row(nobody, "accept", 0, flag_values()) is None
    assert rows.socket_row(nobody, "accept", 0, flag_values(audit_allow_null_accept_socket_events=True))["status"] \
        == "no_client"
    assert rows.socket_row(socket_event(accept, "success=yes exit=5"), "accept", 0,
                           flag_values(audit_allow_accept_socket_events=False)) is None
    unix = socket_event(connect, "success=yes exit=0", saddr="01002F72756E2F782E736F636B00")
    assert rows.socket_row(unix, "connect", 0, flag_values()) is None
    assert rows.socket_row(unix, "connect", 0, flag_values(audit_allow_unix=True))["socket"] == "/run/x.sock"


def test_an_unreadable_event_is_skipped_and_counted_not_fatal():
    made = publisher.AuditPublisher(flag_values(disable_audit=False, audit_allow_sockets=True), None)
    made.syscalls = rules.syscall_names("x86_64")
    batch = {"process_events": [], "socket_events": []}
    garbage = [datagram(records.SYSCALL, "audit(1700000000.100:9): arch=c000003e syscall=42 success=yes a0=zz pid=7")]
    assert made._rows(garbage, batch) == 0  # pylint: disable=protected-access
    assert made.malformed == 1 and batch["socket_events"] == []
