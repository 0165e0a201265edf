"""The SOCKADDR record's saddr (a hex struct sockaddr) as family, address, port and unix path."""

import binascii
import ipaddress
import struct

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


def decode(saddr):
    """{"family", "address", "port", "socket"} or None for a family socket_events does not show."""
    try:
        raw = binascii.unhexlify(saddr)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 2:
        return None
    family = struct.unpack_from("=H", raw)[0]
    if family == AF_INET and len(raw) >= 8:
        return {"family": family, "port": struct.unpack_from("!H", raw, 2)[0],
                "address": str(ipaddress.IPv4Address(raw[4:8])), "socket": ""}
    if family == AF_INET6 and len(raw) >= 24:
        return {"family": family, "port": struct.unpack_from("!H", raw, 2)[0],
                "address": str(ipaddress.IPv6Address(raw[8:24])), "socket": ""}
    if family == AF_UNIX:
        path = raw[2:]
        # an abstract socket starts with a NUL byte: shown with a leading "@" as ss and lsof do
        shown = "@" + path[1:].split(b"\0")[0].decode("utf-8", "replace") if path[:1] == b"\0" \
            else path.split(b"\0")[0].decode("utf-8", "replace")
        return {"family": family, "port": 0, "address": "", "socket": shown}
    return None
