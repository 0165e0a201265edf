"""osquery's version collations, so `ORDER BY version` sorts 1.10 after 1.9."""

import re

_CHUNK = re.compile(r"(\d+|[^\d]+)")


def _cmp(a, b):
    return (a > b) - (a < b)


def compare_version(left, right):
    """Compare dotted versions chunk by chunk: digits as numbers, the rest as text."""
    for a, b in zip(_CHUNK.findall(left), _CHUNK.findall(right)):
        if a.isdigit() and b.isdigit():
            result = _cmp(int(a), int(b))
        else:
            result = _cmp(a, b)
        if result:
            return result
    return _cmp(len(_CHUNK.findall(left)), len(_CHUNK.findall(right)))


def _dpkg_order(char):
    # dpkg: '~' sorts before everything, even the end of the string; letters before others
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _dpkg_part(left, right):
    """dpkg's verrevcmp: alternate non-digit runs (by _dpkg_order) and digit runs (numbers)."""
    i = j = 0
    while i < len(left) or j < len(right):
        while (i < len(left) and not left[i].isdigit()) or (j < len(right) and not right[j].isdigit()):
            a = _dpkg_order(left[i]) if i < len(left) and not left[i].isdigit() else 0
            b = _dpkg_order(right[j]) if j < len(right) and not right[j].isdigit() else 0
            if a != b:
                return _cmp(a, b)
            i += 1
            j += 1
        start_i, start_j = i, j
        while i < len(left) and left[i].isdigit():
            i += 1
        while j < len(right) and right[j].isdigit():
            j += 1
        result = _cmp(int(left[start_i:i] or 0), int(right[start_j:j] or 0))
        if result:
            return result
    return 0


def _dpkg_split(version):
    epoch, _, rest = version.rpartition(":") if ":" in version else ("0", "", version)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch) if epoch.isdigit() else 0, upstream, revision


def compare_dpkg(left, right):
    """Compare Debian versions: epoch, then upstream, then revision, dpkg's way."""
    l_epoch, l_up, l_rev = _dpkg_split(left)
    r_epoch, r_up, r_rev = _dpkg_split(right)
    return _cmp(l_epoch, r_epoch) or _dpkg_part(l_up, r_up) or _dpkg_part(l_rev, r_rev)


COLLATIONS = {
    "version": compare_version,
    "version_dpkg": compare_dpkg,
    "version_rhel": compare_version,
}
