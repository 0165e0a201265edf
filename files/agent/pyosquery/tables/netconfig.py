"""Network configuration files: dns_resolvers (resolv.conf), etc_hosts, etc_services, etc_protocols.

dns_resolvers and etc_hosts honour a `pid_with_namespace` constraint as osquery does: the files
are read as that process sees them (through /proc/PID/root, its mount namespace).
"""

import socket

from pyosquery.tables import _os
from pyosquery.tables.system import namespace_roots

MAXNS = 3            # glibc keeps at most 3 nameservers, 6 search domains, 10 sortlist pairs
MAXDNSRCH = 6
MAXRESOLVSORT = 10
# glibc's _res.options: RES_INIT | RES_DEFAULT (RES_RECURSE | RES_DEFNAMES | RES_DNSRCH)
RES_BASE = 0x1 | 0x40 | 0x80 | 0x200
RES_OPTION_BITS = {"debug": 0x2, "use-vc": 0x8, "rotate": 0x4000, "edns0": 0x100000,
                   "single-request": 0x200000, "single-request-reopen": 0x400000,
                   "no-tld-query": 0x1000000, "no_tld_query": 0x1000000, "no-reload": 0x2000000,
                   "trust-ad": 0x4000000, "no-aaaa": 0x8000000}


class _Resolver:   # pylint: disable=too-few-public-methods
    """What res_init() makes of a resolv.conf."""

    def __init__(self, lines):
        self.nameservers, self.search, self.sortlist, self.options = [], None, [], RES_BASE
        for line in lines:
            words = line.split()
            if not words or words[0][0] in "#;":
                continue
            self._line(words[0], words[1:])
        if self.search is None:
            # no search/domain line: the domain part of the host name
            domain = socket.gethostname().partition(".")[2]
            self.search = [domain] if domain else []

    def _line(self, keyword, args):
        if keyword == "nameserver" and args and len(self.nameservers) < MAXNS:
            address = _address(args[0])
            if address:
                self.nameservers.append(address)
        elif keyword in ("search", "domain"):
            # the last search or domain line wins; "domain" names one domain
            self.search = args[:1] if keyword == "domain" else args[:MAXDNSRCH]
        elif keyword == "sortlist":
            for pair in args[:MAXRESOLVSORT - len(self.sortlist)]:
                address, _, mask = pair.partition("/")
                if _address(address):
                    self.sortlist.append((address, _prefix(address, mask)))
        elif keyword == "options":
            for option in args:
                self.options |= RES_OPTION_BITS.get(option, 0)


def _address(text):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_ntop(family, socket.inet_pton(family, text.split("%")[0]))
        except OSError:
            continue
    return None


def _prefix(address, mask):
    """A sortlist mask as a prefix length (a dotted mask, or the address's classful default)."""
    if mask:
        try:
            return bin(int.from_bytes(socket.inet_aton(mask), "big")).count("1")
        except OSError:
            return None
    first = int(address.split(".")[0]) if address.split(".")[0].isdigit() else 0
    return 8 if first < 128 else 16 if first < 192 else 24


def gen_dns_resolvers(context):
    rows = []
    for pid, root in namespace_roots(context):
        resolver = _Resolver(_os.read_lines(root + "/etc/resolv.conf"))
        common = {"options": resolver.options, "pid_with_namespace": pid}
        for index, address in enumerate(resolver.nameservers):
            rows.append(dict(common, id=index, type="nameserver", address=address,
                             netmask="128" if ":" in address else "32"))
        for index, (address, prefix) in enumerate(resolver.sortlist):
            rows.append(dict(common, id=index, type="sortlist", address=address,
                             netmask=None if prefix is None else str(prefix)))
        for index, domain in enumerate(resolver.search):
            rows.append(dict(common, id=index, type="search", address=domain))
    return rows


def gen_etc_hosts(context):
    rows = []
    for pid, root in namespace_roots(context):
        for line in _os.read_lines(root + "/etc/hosts"):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            row = {"address": words[0], "pid_with_namespace": pid}
            if len(words) > 1:
                names = []
                for word in words[1:]:
                    if word.startswith("#"):
                        break
                    names.append(word)
                row["hostnames"] = " ".join(names)
            rows.append(row)
    return rows


def _split_comment(line):
    """(fields, comment) of a services/protocols line; comment parts re-joined with " # "."""
    parts = [part.strip() for part in line.split("#")]
    head = parts[0].split()
    comment = [part for part in parts[1:] if part]
    return head, (" # ".join(comment) if comment else None)


def gen_etc_services(_context):
    rows = []
    for line in _os.read_lines("/etc/services"):
        if not line or line.startswith("#"):
            continue
        fields, comment = _split_comment(line)
        port, sep, protocol = fields[1].partition("/") if len(fields) > 1 else ("", "", "")
        if not sep or not port.isdigit() or not protocol:
            continue
        rows.append({"name": fields[0], "port": int(port), "protocol": protocol,
                     "aliases": " ".join(fields[2:]), "comment": comment})
    return rows


def gen_etc_protocols(_context):
    rows = []
    for line in _os.read_lines("/etc/protocols"):
        if not line or line.startswith("#"):
            continue
        fields, comment = _split_comment(line)
        if len(fields) < 2 or not fields[1].isdigit():
            continue
        rows.append({"name": fields[0], "number": int(fields[1]),
                     "alias": fields[2] if len(fields) > 2 else None, "comment": comment})
    return rows
