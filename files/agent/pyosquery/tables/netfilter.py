"""iptables: the IPv4 netfilter rules, one row per rule, from `iptables-save -c`.

iptables-save reads the kernel's rules whichever backend holds them (legacy x_tables or
nf_tables), with each rule's packet and byte counters. A built-in chain without rules still
gets one row, so its policy can be queried. Hosts without iptables have no rows.
"""

import shlex
import shutil
import socket
import struct

from pyosquery.tables import _os

IPTABLES_SAVE = "iptables-save"
TIMEOUT = 30
ANY = "0.0.0.0"
ALL_PORTS = "0:65535"
PROTOCOLS = {"all": 0, "icmp": 1, "tcp": 6, "udp": 17, "sctp": 132}


def _mask(bits):
    return socket.inet_ntoa(struct.pack("!I", (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF))


def _address(text):
    """'10.0.0.0/8' -> ('10.0.0.0', '255.0.0.0'); iptables-save always writes the prefix length."""
    address, _, prefix = text.partition("/")
    if not prefix:
        return address, "255.255.255.255"
    return address, prefix if "." in prefix else _mask(int(prefix))


def _interface(name):
    """(name, mask): iptables matches the name plus its NUL unless it ends with the '+' wildcard."""
    if name.endswith("+"):
        return name, "X" * (len(name) - 1)
    return name, "X" * (len(name) + 1)


def _ports(text):
    return text if ":" in text else "%s:%s" % (text, text)


def _protocol(name):
    if name.isdigit():
        return int(name)
    try:
        return PROTOCOLS.get(name, socket.getprotobyname(name))
    except OSError:
        return 0


def _base(table, chain, policy):
    return {"filter_name": table, "chain": chain, "policy": policy, "target": "", "protocol": 0,
            "src_port": "", "dst_port": "", "src_ip": ANY, "src_mask": ANY, "iniface": "all", "iniface_mask": "",
            "dst_ip": ANY, "dst_mask": ANY, "outiface": "all", "outiface_mask": "", "match": "",
            "packets": 0, "bytes": 0}


_OPTIONS = {
    "-s": lambda row, v: row.update(zip(("src_ip", "src_mask"), _address(v))),
    "-d": lambda row, v: row.update(zip(("dst_ip", "dst_mask"), _address(v))),
    "-i": lambda row, v: row.update(zip(("iniface", "iniface_mask"), _interface(v))),
    "-o": lambda row, v: row.update(zip(("outiface", "outiface_mask"), _interface(v))),
    "-p": lambda row, v: row.update(protocol=_protocol(v)),
    "-j": lambda row, v: row.update(target=v),
    "-g": lambda row, v: row.update(target=v),
    "--sport": lambda row, v: row.update(src_port=_ports(v)),
    "--dport": lambda row, v: row.update(dst_port=_ports(v)),
    "--sports": lambda row, v: row.update(src_port=v),
    "--dports": lambda row, v: row.update(dst_port=v),
}


def parse_rule(row, words):
    """Fill `row` from the words of one `-A CHAIN ...` line (after the chain name)."""
    matches = []
    index = 0
    while index < len(words) - 1:
        option, value = words[index], words[index + 1]
        if option == "!":           # a negation applies to the next option; the table has no column for it
            index += 1
            continue
        if option == "-m":
            matches.append(value)
        elif option in _OPTIONS:
            _OPTIONS[option](row, value)
        index += 2 if option.startswith("-") else 1
    if row["protocol"] in (6, 17, 132):     # port matches of tcp/udp/sctp: any port unless given
        row["src_port"] = row["src_port"] or ALL_PORTS
        row["dst_port"] = row["dst_port"] or ALL_PORTS
    row["match"] = ",".join(matches)
    return row


def parse(text):
    """Rows from `iptables-save -c` output."""
    table, policies, ruled = "", {}, set()
    rows = []
    for line in text.splitlines():
        if line.startswith("*"):
            table, policies, ruled = line[1:].strip(), {}, set()
        elif line.startswith(":"):
            chain, policy = (line[1:].split() + ["-"])[:2]
            policies[chain] = "" if policy == "-" else policy
        elif line.startswith("[") or line.startswith("-A"):
            counters, _, rule = line.partition("] ") if line.startswith("[") else ("", "", line)
            words = shlex.split(rule)
            if len(words) < 2:
                continue
            chain = words[1]
            ruled.add(chain)
            row = parse_rule(_base(table, chain, policies.get(chain, "")), words[2:])
            packets, _, size = counters.lstrip("[").partition(":")
            row["packets"], row["bytes"] = int(packets or 0), int(size or 0)
            rows.append(row)
        elif line.strip() == "COMMIT":
            rows.extend(_base(table, chain, policy) for chain, policy in policies.items()
                        if policy and chain not in ruled)
    return rows


def gen_iptables(_context):
    program = shutil.which(IPTABLES_SAVE)
    return parse(_os.command_output([program, "-c"], TIMEOUT)) if program else []
