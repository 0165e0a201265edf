"""Network tables: interface_addresses, interface_details, interface_ipv6, routes, arp_cache.

Links and counters come from /sys/class/net, the ARP cache from /proc/net/arp; addresses and
routes come from an rtnetlink dump (see _netlink) because /proc lacks address labels, peers
and the IPv4 local table that osquery reports.
"""

import ctypes
import fcntl
import os
import socket
import struct

from pyosquery.tables import _netlink, _os

SYS_NET = "/sys/class/net"
IFF_BROADCAST = 0x2
FAMILIES = {socket.AF_INET: 4, socket.AF_INET6: 16}


def links():
    """Interface names in ifindex order (the order a link dump, and so osquery, lists them)."""
    indexed = []
    for name in _os.list_dir(SYS_NET):
        index = (_os.read_text(os.path.join(SYS_NET, name, "ifindex")) or "").strip()
        if index.isdigit():
            indexed.append((int(index), name))
    return [name for _, name in sorted(indexed)]


def _sys(name, attr):
    value = _os.read_text(os.path.join(SYS_NET, name, attr))
    return None if value is None else value.strip()


def _sys_int(name, attr, base=10):
    try:
        return int(_sys(name, attr), base)
    except (TypeError, ValueError):
        return None


def _ntop(family, raw):
    try:
        return socket.inet_ntop(family, raw)
    except (ValueError, OSError):
        return ""


# --- interface_addresses -----------------------------------------------------------------

def _netmask(family, prefix):
    bits = FAMILIES[family] * 8
    value = ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1) if prefix else 0
    return _ntop(family, value.to_bytes(FAMILIES[family], "big"))


def _scoped(address, raw, name):
    """getnameinfo's form of link-local IPv6 addresses: "fe80::1%eth0"."""
    link_local = raw[0] == 0xfe and raw[1] & 0xc0 == 0x80
    multicast_link = raw[0] == 0xff and raw[1] & 0x0f == 0x2
    return "%s%%%s" % (address, name) if link_local or multicast_link else address


def _address_row(payload, names):
    family, prefix, index = struct.unpack_from("=BB2xI", payload)
    if family not in FAMILIES:
        return None
    attrs = _netlink.attributes(payload, 8)
    name = names.get(index) or _if_name(index)
    label = attrs.get(3)                                   # IFA_LABEL (IPv4 aliases: "eth0:1")
    if family == socket.AF_INET and label:
        name = label.split(b"\0", 1)[0].decode("utf-8", "replace")
    local, address, broadcast = attrs.get(2), attrs.get(1), attrs.get(4)
    # as glibc's getifaddrs: IFA_LOCAL is the address, then IFA_ADDRESS is the peer,
    # and an IFA_BROADCAST replaces the peer
    own = local or address
    other = broadcast or (address if local else None)
    if own is None:
        return None
    row = {"interface": name, "address": _ntop(family, own), "mask": _netmask(family, prefix),
           "type": "unknown"}
    if family == socket.AF_INET6:
        row["address"] = _scoped(row["address"], own, names.get(index) or name)
    if other is not None:
        flags = _sys_int(names.get(index) or name, "flags", 16) or 0
        row["broadcast" if flags & IFF_BROADCAST else "point_to_point"] = _ntop(family, other)
    return row


def _if_name(index):
    try:
        return socket.if_indextoname(index)
    except OSError:
        return ""


def gen_interface_addresses(_context):
    names = dict(socket.if_nameindex())
    rows = []
    for payload in _netlink.dump(_netlink.RTM_GETADDR, struct.pack("=BBBBI", 0, 0, 0, 0, 0)):
        row = _address_row(payload, names)
        if row is not None:
            rows.append(row)
    return rows


# --- interface_details ---------------------------------------------------------------------

COUNTERS = (("ipackets", "rx_packets"), ("opackets", "tx_packets"), ("ibytes", "rx_bytes"),
            ("obytes", "tx_bytes"), ("ierrors", "rx_errors"), ("oerrors", "tx_errors"),
            ("idrops", "rx_dropped"), ("odrops", "tx_dropped"), ("collisions", "collisions"))
IFLA_IFNAME = 3
_IFINFOMSG = struct.Struct("=BxHiII")      # family, type, index, flags, change


def link_flags():
    """{name: flags} from a link dump: the kernel's dev_get_flags(), as getifaddrs (osquery),
    SIOCGIFFLAGS and `ip link` report them.

    Not /sys/class/net/*/flags: that is dev->flags, where IFF_PROMISC and IFF_ALLMULTI also show
    what the kernel set for itself (a bridge puts its ports in promiscuous mode), and it lacks
    the RUNNING/LOWER_UP/DORMANT state bits.
    """
    found = {}
    for payload in _netlink.dump(_netlink.RTM_GETLINK, _IFINFOMSG.pack(0, 0, 0, 0, 0)):
        if len(payload) < _IFINFOMSG.size:
            continue
        name = _netlink.attributes(payload, _IFINFOMSG.size).get(IFLA_IFNAME, b"").split(b"\0", 1)[0]
        found[name.decode("utf-8", "replace")] = _IFINFOMSG.unpack_from(payload)[3]
    return found


def _mac(name):
    """First six bytes of the hardware address (SIOCGIFHWADDR's view), zeros when none."""
    octets = [part for part in (_sys(name, "address") or "").split(":") if part][:6]
    octets += ["00"] * (6 - len(octets))
    return ":".join(octet.lower().zfill(2) for octet in octets)


class _DrvInfo(ctypes.Structure):   # pylint: disable=too-few-public-methods
    """struct ethtool_drvinfo."""
    _fields_ = [("cmd", ctypes.c_uint32), ("driver", ctypes.c_char * 32), ("version", ctypes.c_char * 32),
                ("fw_version", ctypes.c_char * 32), ("bus_info", ctypes.c_char * 32),
                ("erom_version", ctypes.c_char * 32), ("reserved2", ctypes.c_char * 12),
                ("counts", ctypes.c_uint32 * 5)]


SIOCETHTOOL = 0x8946
ETHTOOL_GDRVINFO = 3


def pci_slot(sock, name):
    """The driver's bus address (ETHTOOL_GDRVINFO), "-1" when the device has none to give."""
    info = _DrvInfo(cmd=ETHTOOL_GDRVINFO)
    request = struct.pack("16sP", name.encode()[:15], ctypes.addressof(info)).ljust(40, b"\0")
    try:
        fcntl.ioctl(sock.fileno(), SIOCETHTOOL, request)
    except OSError:
        return "-1"
    return info.bus_info.decode("utf-8", "replace")


def _details_row(name, context, sock, flags):
    row = {"interface": name, "mac": _mac(name), "type": _sys_int(name, "type") or 0,
           "mtu": _sys_int(name, "mtu") or 0, "metric": 0, "flags": flags.get(name),
           "last_change": -1}
    for column, counter in COUNTERS:
        row[column] = _sys_int(name, "statistics/" + counter)
    speed = _sys_int(name, "speed") if context.uses("link_speed") else None
    row["link_speed"] = speed if speed is not None and speed >= 0 else 0
    if sock is not None:
        row["pci_slot"] = pci_slot(sock, name)
    return row


def gen_interface_details(context):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if context.uses("pci_slot") else None
    try:
        flags = link_flags() if context.uses("flags") else {}
        return [_details_row(name, context, sock, flags) for name in links()]
    finally:
        if sock is not None:
            sock.close()


# --- interface_ipv6 ----------------------------------------------------------------------

def _ipv6_conf(name, key):
    value = (_os.read_text("/proc/sys/net/ipv6/conf/%s/%s" % (name, key)) or "").strip()
    try:
        return int(value)
    except ValueError:
        return -1


def gen_interface_ipv6(_context):
    rows = []
    for name in links():
        forwarding = _ipv6_conf(name, "forwarding")
        redirects = (_ipv6_conf("all", "accept_redirects"), _ipv6_conf(name, "accept_redirects"))
        accept_ra = _ipv6_conf(name, "accept_ra")
        # The kernel combines global and per-interface settings (ip-sysctl.txt): redirects are
        # AND-ed when forwarding, OR-ed otherwise; accept_ra=2 accepts even when forwarding.
        redirect = all(redirects) if forwarding else any(redirects)
        rows.append({"interface": name, "hop_limit": _ipv6_conf(name, "hop_limit"),
                     "forwarding_enabled": forwarding, "redirect_accept": int(redirect),
                     "rtadv_accept": 1 if accept_ra == 2 else int(bool(accept_ra) and not forwarding)})
    return rows


# --- routes --------------------------------------------------------------------------------

ROUTE_TYPES = {1: "gateway", 2: "local", 3: "broadcast", 4: "anycast"}   # RTN_* -> osquery
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_METRICS = 1, 4, 5, 6, 7, 8
RTAX_MTU, RTAX_HOPLIMIT = 2, 10


def _route_row(payload, names):
    # struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    family, dst_len, kind, flags = struct.unpack_from("=BB5xBI", payload)
    if family not in FAMILIES:
        return None
    attrs = _netlink.attributes(payload, 12)
    row = {"type": ROUTE_TYPES.get(kind, "other"), "flags": flags, "metric": 0, "mtu": 0, "hopcount": 0,
           "netmask": dst_len}
    if RTA_DST in attrs:
        row["destination"] = _ntop(family, attrs[RTA_DST])
        # osquery leaves host routes (/32, /128) with netmask 0
        row["netmask"] = 0 if dst_len in (32, 128) else dst_len
    else:
        row["destination"] = "0.0.0.0" if family == socket.AF_INET else "::"
    if RTA_OIF in attrs:
        index = struct.unpack("=I", attrs[RTA_OIF][:4])[0]
        row["interface"] = names.get(index) or _if_name(index)
    for column, key in (("gateway", RTA_GATEWAY), ("source", RTA_PREFSRC)):
        if key in attrs:
            row[column] = _ntop(family, attrs[key])
    if RTA_PRIORITY in attrs:
        row["metric"] = struct.unpack("=i", attrs[RTA_PRIORITY][:4])[0]
    metrics = _netlink.attributes(attrs.get(RTA_METRICS, b""))
    for column, key in (("mtu", RTAX_MTU), ("hopcount", RTAX_HOPLIMIT)):
        if key in metrics:
            row[column] = struct.unpack("=i", metrics[key][:4])[0]
    return row


def gen_routes(context):
    wanted = context.equals("type")     # "additional": SQLite does not re-check it, so filter here
    names = dict(socket.if_nameindex())
    rows = []
    for payload in _netlink.dump(_netlink.RTM_GETROUTE, bytes(12)):
        row = _route_row(payload, names)
        if row is not None and (wanted is None or row["type"] in wanted):
            rows.append(row)
    return rows


# --- arp_cache -----------------------------------------------------------------------------

def gen_arp_cache(_context):
    rows = []
    # IP address, HW type, Flags, HW address, Mask, Device
    for line in _os.read_lines("/proc/net/arp")[1:]:
        fields = line.split()
        if len(fields) != 6:
            continue
        rows.append({"address": fields[0], "mac": fields[3], "interface": fields[5],
                     # ATF_COM | ATF_PERM: a static entry
                     "permanent": "1" if fields[2] == "0x6" else "0"})
    return rows
