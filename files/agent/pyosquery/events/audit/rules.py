"""The syscall rules the publisher installs: `-a always,exit -F arch=<abi> -S <syscall>...`.

A rule is the kernel's struct audit_rule_data: flags (the filter list), action, field_count,
mask[64] (one bit per syscall number), fields[64], values[64], fieldflags[64], buflen, buf.
"""

import platform
import struct

AUDIT_FILTER_EXIT = 4
AUDIT_ALWAYS = 2
AUDIT_ARCH_FIELD = 11
AUDIT_EQUAL = 0x40000000
BITMASK_WORDS = 64
MAX_FIELDS = 64
RULE = struct.Struct("=3I%dI%dI%dI%dII" % (BITMASK_WORDS, MAX_FIELDS, MAX_FIELDS, MAX_FIELDS))

# per machine: (abi name, AUDIT_ARCH_* value, {syscall name: number}); the 32-bit ABI too where
# the kernel runs 32-bit programs (they would escape a 64-bit-only rule)
ABIS = {
    "x86_64": (
        ("b64", 0xC000003E, {"execve": 59, "execveat": 322, "connect": 42, "accept": 43,
                             "bind": 49, "accept4": 288}),
        ("b32", 0x40000003, {"execve": 11, "execveat": 358, "bind": 361, "connect": 362,
                             "accept4": 364}),
    ),
    "aarch64": (
        ("b64", 0xC00000B7, {"execve": 221, "execveat": 281, "bind": 200, "connect": 203,
                             "accept": 202, "accept4": 242}),
    ),
}
PROCESS_SYSCALLS = ("execve", "execveat")
SOCKET_SYSCALLS = ("connect", "bind", "accept", "accept4")


class Rule:
    """One exit rule for one ABI and a set of syscalls, as bytes for AUDIT_ADD_RULE/AUDIT_DEL_RULE."""

    def __init__(self, abi, arch, numbers):
        self.abi, self.arch, self.numbers = abi, arch, tuple(sorted(numbers))
        mask = [0] * BITMASK_WORDS
        for number in self.numbers:
            mask[number // 32] |= 1 << (number % 32)
        fields, values, flags = [0] * MAX_FIELDS, [0] * MAX_FIELDS, [0] * MAX_FIELDS
        fields[0], values[0], flags[0] = AUDIT_ARCH_FIELD, arch, AUDIT_EQUAL
        self.data = RULE.pack(AUDIT_FILTER_EXIT, AUDIT_ALWAYS, 1, *mask, *fields, *values, *flags, 0)

    def __str__(self):
        return "-a always,exit -F arch=%s -S %s" % (self.abi, ",".join(map(str, self.numbers)))


def machine_abis(machine=None):
    machine = machine or platform.machine()
    if machine not in ABIS:
        raise ValueError("audit rules: unsupported machine %r (known: %s)" % (machine, ", ".join(ABIS)))
    return ABIS[machine]


def wanted_rules(values, machine=None):
    """The rules the flags ask for: execve for process events, connect/bind/accept for sockets."""
    names = []
    if values.audit_allow_process_events:
        names += PROCESS_SYSCALLS
    if values.audit_allow_sockets:
        names += SOCKET_SYSCALLS
    rules = []
    for abi, arch, table in machine_abis(machine):
        numbers = [table[name] for name in names if name in table]
        if numbers:
            rules.append(Rule(abi, arch, numbers))
    return rules


def syscall_names(machine=None):
    """{(arch, number): name} to name the syscall of a SYSCALL record (arch as audit prints it)."""
    return {("%x" % arch, number): name
            for _abi, arch, table in machine_abis(machine) for name, number in table.items()}
