"""Audit record text: `audit(<sec>.<msec>:<serial>): key=value ...`, and its value encodings.

The kernel quotes a string value ("...") when it is plain printable text and hex-encodes it
otherwise (spaces, quotes, control bytes); "(null)" stands for a missing string.
"""

import binascii

SYSCALL, PATH, SOCKADDR, CWD, EXECVE, EOE = 1300, 1302, 1306, 1307, 1309, 1320
# the record types an event is assembled from; the reader keeps nothing else
KEPT = frozenset((SYSCALL, PATH, SOCKADDR, CWD, EXECVE))
HEADER_SIZE = 16  # struct nlmsghdr; the kernel's nlmsg_len for records leaves it out, so it is not used


def stamp(data):
    """(serial, text after the preamble) of a record datagram; (None, None) when malformed."""
    colon = data.find(b":", HEADER_SIZE)
    close = data.find(b"): ", colon)
    if colon < 0 or close < 0:
        return None, None
    return data[colon + 1:close], data[HEADER_SIZE:close]


def event_time(preamble):
    """Unix seconds of `audit(1700000000.123:42` (the preamble stamp() returns)."""
    start = preamble.find(b"(") + 1
    return int(preamble[start:preamble.find(b".", start)])


def fields(data):
    """{key: raw value} of one record datagram (values still quoted or hex)."""
    body = data[data.find(b"): ", HEADER_SIZE) + 3:].rstrip(b"\0\n").decode("utf-8", "replace")
    result = {}
    for token in body.split(" "):
        key, sep, value = token.partition("=")
        if sep:
            result[key] = value
    return result


def text(value):
    """The string a quoted, hex-encoded or (null) value stands for."""
    if not value or value == "(null)":
        return ""
    if value[0] == '"':
        return value[1:-1] if value.endswith('"') else value[1:]
    try:
        return binascii.unhexlify(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return value


def number(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def arguments(records):
    """argv from the EXECVE record(s): a0.. or, for long ones, a1_len and chunks a1[0], a1[1]..."""
    merged = {}
    for record in records:
        merged.update(record)
    argc = number(merged.get("argc"))
    argv = []
    for index in range(argc):
        key = "a%d" % index
        if key in merged:
            argv.append(text(merged[key]))
            continue
        chunks, part = [], 0
        while "%s[%d]" % (key, part) in merged:
            chunks.append(text(merged["%s[%d]" % (key, part)]))
            part += 1
        argv.append("".join(chunks))
    return argv
