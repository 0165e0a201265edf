"""apt_sources: the binary (deb) repositories APT is configured with.

Sources come from /etc/apt/sources.list and sources.list.d, in both the one-line format
(*.list) and the deb822 format (*.sources) that Debian 12 and Ubuntu 24.04 install by default.
Each (URI, suite) gives a row named like osquery's ("host/path suite"); release, version,
maintainer, components and architectures come from the repository's Release file in APT's
lists directory, as in osquery.

Unlike osquery, a source whose Release file is not downloaded yet (before the first
`apt-get update`) is still reported, with those five columns NULL: a newly added repository
must not be invisible to an audit.
"""

import os

from pyosquery.tables import _os
from pyosquery.tables.accounts import namespace_requested

SOURCES_LIST = "/etc/apt/sources.list"
SOURCES_DIR = "/etc/apt/sources.list.d"
APT_LISTS = "/var/lib/apt/lists"
RELEASE_FIELDS = {"Codename": "release", "Version": "version", "Origin": "maintainer",
                  "Components": "components", "Architectures": "architectures"}


def one_line_sources(text):
    """(uri, suite) of each `deb` line of a sources.list file (deb-src is not a package source)."""
    for line in text.split("\n"):
        tokens = line.split("#", 1)[0].split()
        if not tokens or tokens[0] != "deb":
            continue
        tokens = tokens[1:]
        if tokens and tokens[0].startswith("["):
            # [arch=amd64 signed-by=...]: options end at the token that closes the bracket
            closing = next((i for i, token in enumerate(tokens) if token.endswith("]")), len(tokens))
            tokens = tokens[closing + 1:]
        if len(tokens) >= 2:
            yield tokens[0], tokens[1]


def deb822_stanzas(text):
    """Field dicts (lower-case keys) of a deb822 file; continuation lines extend a field."""
    stanza, key = {}, None
    for line in text.split("\n") + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
        elif line[0].isspace() and key:
            stanza[key] += "\n" + line.strip()
        else:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                stanza[key] = value.strip()


def deb822_sources(text):
    for stanza in deb822_stanzas(text):
        if "deb" not in stanza.get("types", "").split():
            continue
        if stanza.get("enabled", "yes").lower() in ("no", "false", "0"):
            continue
        for uri in stanza.get("uris", "").split():
            for suite in stanza.get("suites", "").split():
                yield uri, suite


def source_files():
    names = sorted(n for n in _os.list_dir(SOURCES_DIR) if n.endswith((".list", ".sources")))
    return [SOURCES_LIST] + [os.path.join(SOURCES_DIR, n) for n in names]


def release_prefix(host_path, suite):
    """APT's lists file name prefix for a source, as osquery derives it."""
    parts = [host_path]
    if "/" in suite.strip("/") or suite.endswith("/"):
        parts += [p for p in suite.split("/") if p not in ("", ".")]     # flat: "./" or "path/"
    else:
        parts += ["dists", suite]
    return "_".join(parts).replace("/", "_")


def release_fields(prefix):
    """Columns from the source's InRelease (or Release) file; {} when there is none yet."""
    for name in ("InRelease", "Release"):
        lines = _os.read_lines(os.path.join(APT_LISTS, prefix + "_" + name))
        if lines:
            break
    row = {}
    for line in lines:
        if line == "-----BEGIN PGP SIGNATURE-----":
            break
        if not line or line[0].isspace():
            continue                   # checksum lists
        key, sep, value = line.partition(":")
        if sep and key in RELEASE_FIELDS:
            row[RELEASE_FIELDS[key]] = value.strip()
    return row


def source_row(path, uri, suite):
    scheme = uri.find("://")
    if scheme < 0:
        return None                    # osquery needs scheme://host to name a source
    base_uri = uri.rstrip("/")
    host_path = base_uri[scheme + 3:]
    if not host_path:
        return None
    row = {"name": host_path + " " + suite, "source": path, "base_uri": base_uri, "pid_with_namespace": 0}
    row.update(release_fields(release_prefix(host_path, suite)))
    return row


def gen_apt_sources(context):
    if namespace_requested(context):
        return
    for path in source_files():
        text = _os.read_text(path)
        if text is None:
            continue
        parse = deb822_sources if path.endswith(".sources") else one_line_sources
        for uri, suite in parse(text):
            row = source_row(path, uri, suite)
            if row is not None:
                yield row
