"""Installed software: deb_packages, python_packages, npm_packages.

Each reads the package managers' own files (dpkg's status database, dist-info METADATA,
package.json) rather than running the tools, so a query is cheap and spawns nothing.
apt_sources lives in apt.py.
"""

import glob
import json
import os

from pyosquery.tables import _os
from pyosquery.tables.accounts import as_int, matches, namespace_requested, users_from_context, wanted_ints

DPKG_ADMIN_DIR = "/var/lib/dpkg"
DEB_FIELDS = {"Package": "name", "Version": "version", "Source": "source", "Installed-Size": "size",
              "Architecture": "arch", "Status": "status", "Maintainer": "maintainer",
              "Section": "section", "Priority": "priority"}

# System sites (osquery's kPythonPath on Linux): their packages belong to root, uid 0.
PYTHON_SITES = ("/usr/local/lib/python*/dist-packages", "/usr/local/lib/python*/site-packages",
                "/usr/local/lib64/python*/site-packages",
                "/usr/lib/python*/dist-packages", "/usr/lib/python*/site-packages")
# Sites below a home, owned by that user: pip --user, then the Pythons and environments of
# pyenv (osquery 5.16's user paths), asdf, mise, uv (its Pythons and tools), pipx, poetry,
# conda and virtualenvwrapper, at each tool's default location.
PYTHON_USER_SITES = (
    ".local/lib/python*/site-packages",
    ".pyenv/versions/*/lib/python*/site-packages",
    ".asdf/installs/python/*/lib/python*/site-packages",
    ".local/share/mise/installs/python/*/lib/python*/site-packages",
    ".local/share/uv/python/*/lib/python*/site-packages",
    ".local/share/uv/tools/*/lib/python*/site-packages",
    ".local/share/pipx/venvs/*/lib/python*/site-packages",
    ".local/pipx/venvs/*/lib/python*/site-packages",
    ".cache/pypoetry/virtualenvs/*/lib/python*/site-packages",
    "miniconda3/lib/python*/site-packages", "miniconda3/envs/*/lib/python*/site-packages",
    "anaconda3/lib/python*/site-packages", "anaconda3/envs/*/lib/python*/site-packages",
    ".conda/envs/*/lib/python*/site-packages",
    ".virtualenvs/*/lib/python*/site-packages",
)
PYTHON_FIELDS = {"Name": "name", "Version": "version", "Summary": "summary", "Author": "author",
                 "License": "license"}

NPM_DIRS = ("/usr/lib", "/usr/local/lib")
NPM_USER_DIRS = (".npm-global/lib", ".npm-packages/lib", ".local/lib", ".nvm/versions/node/*/lib")
NPM_DEFAULT_MAX_DEPTH = 100


# --- deb_packages ---------------------------------------------------------------------------

def dpkg_stanzas(path):
    """Field dicts of a dpkg status file; continuation lines (long fields) are skipped."""
    stanza = {}
    for line in _os.read_lines(path) + [""]:
        if not line.strip():
            if stanza:
                yield stanza
            stanza = {}
        elif not line[0].isspace():
            key, sep, value = line.partition(":")
            if sep:
                stanza[key] = value.strip()


def deb_row(stanza, admindir):
    row = {column: stanza.get(field, "") for field, column in DEB_FIELDS.items()}
    row["size"] = as_int(row["size"])
    upstream, sep, revision = row["version"].rpartition("-")
    row["revision"] = revision if sep and upstream else ""
    row.update(admindir=admindir, pid_with_namespace=0)
    return row


def gen_deb_packages(context):
    if namespace_requested(context):
        return
    wanted = context.equals("admindir")
    for admindir in sorted(wanted) if wanted is not None else [DPKG_ADMIN_DIR]:
        if not isinstance(admindir, str) or not matches(context, "admindir", admindir):
            continue
        for stanza in dpkg_stanzas(os.path.join(admindir, "status")):
            # dpkg keeps purged packages it still knows of as "not-installed": not packages
            if "Package" in stanza and not stanza.get("Status", "").endswith(" not-installed"):
                yield deb_row(stanza, admindir)


# --- python_packages ------------------------------------------------------------------------

def metadata_headers(path):
    """The RFC 822 header fields of a METADATA/PKG-INFO file (the body starts after a blank line)."""
    row = {}
    for line in _os.read_lines(path):
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        column = PYTHON_FIELDS.get(key)
        if sep and column and column not in row:
            row[column] = value.strip()
    return row


def python_sites(context):
    """(site directory, uid) to read, as osquery does.

    `directory = X` reads exactly those sites, as root's (uid 0). Otherwise the system sites
    (uid 0), then the user sites of the users the query names by uid, or of the user running
    it. A site reached twice through symlinks (pyenv's `3.11` -> `3.11.7`) is read once.
    """
    wanted = context.equals("directory")
    if wanted is not None:               # directory is indexed: read only the sites asked for
        return [(site, 0) for site in sorted(w for w in wanted if isinstance(w, str))]
    uids = wanted_ints(context, "uid")
    sites = []
    if uids is None or 0 in uids:
        sites += [(site, 0) for pattern in PYTHON_SITES for site in sorted(glob.glob(pattern))]
    for uid, _gid, _name, home in users_from_context(context):
        if home:
            sites += [(site, uid) for pattern in PYTHON_USER_SITES
                      for site in sorted(glob.glob(os.path.join(glob.escape(home), pattern)))]
    seen = set()
    unique = []
    for site, uid in sites:
        real = os.path.realpath(site)
        if real not in seen:
            seen.add(real)
            unique.append((site, uid))
    return unique


def gen_python_packages(context):
    if namespace_requested(context):
        return
    read = any(context.uses(column) for column in PYTHON_FIELDS.values())
    for site, uid in python_sites(context):
        for entry in sorted(_os.list_dir(site)):
            path = os.path.join(site, entry)
            if entry.endswith(".dist-info") and os.path.isdir(path):
                info = os.path.join(path, "METADATA")
            elif entry.endswith(".egg-info"):
                # an egg-info is a directory holding PKG-INFO, or (distutils) the file itself
                info = os.path.join(path, "PKG-INFO") if os.path.isdir(path) else path
            else:
                continue
            row = metadata_headers(info) if read else {}
            row.update(path=path, directory=site, uid=uid, pid_with_namespace=0)
            yield row


# --- npm_packages ---------------------------------------------------------------------------

def _text(value):
    return value if isinstance(value, str) else ""


def npm_row(manifest):
    """Columns from a package.json: author may be a string or {name}, license a string or
    the deprecated {type, url} (osquery shows its url)."""
    try:
        doc = json.loads(_os.read_text(manifest) or "")
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    row = {key: _text(doc.get(key)) for key in ("name", "version", "description", "homepage") if key in doc}
    author = doc.get("author")
    if author is not None:
        row["author"] = _text(author.get("name")) if isinstance(author, dict) else _text(author)
    licence = doc.get("license")
    if isinstance(licence, dict):
        row["license"] = _text(licence.get("url"))
    elif licence is not None:
        row["license"] = _text(licence)
    return row


def package_dirs(node_modules):
    """Package directories in a node_modules dir, scoped (@scope/name) ones included."""
    for name in sorted(_os.list_dir(node_modules)):
        if name.startswith("."):
            continue                    # .bin, .package-lock.json, .cache
        path = os.path.join(node_modules, name)
        if name.startswith("@"):
            for scoped in sorted(_os.list_dir(path)):
                yield os.path.join(path, scoped)
        else:
            yield path


def npm_tree(node_modules, depth, max_depth, seen):
    """(package.json path, depth) of each package below node_modules, nested ones too."""
    for package in package_dirs(node_modules):
        manifest = os.path.join(package, "package.json")
        real = os.path.realpath(package)
        if real in seen or not os.path.isfile(manifest):
            continue                    # a symlink loop, or not a package
        seen.add(real)
        yield manifest, depth
        if max_depth < 0 or depth < max_depth:
            yield from npm_tree(os.path.join(package, "node_modules"), depth + 1, max_depth, seen)


def npm_dirs(context):
    wanted = context.equals("directory")
    if wanted is not None:
        return sorted(w for w in wanted if isinstance(w, str))
    dirs = list(NPM_DIRS)
    # npm_packages has no uid to join on: every user's directories are read
    for _uid, _gid, _name, home in users_from_context(context, all_users=True):
        for pattern in NPM_USER_DIRS:
            dirs += sorted(glob.glob(os.path.join(glob.escape(home), pattern)))
    return dirs


def gen_npm_packages(context):
    if namespace_requested(context):
        return
    limits = wanted_ints(context, "max_depth")
    max_depth = min(limits) if limits else NPM_DEFAULT_MAX_DEPTH
    for directory in npm_dirs(context):
        for manifest, depth in npm_tree(os.path.join(directory, "node_modules"), 0, max_depth, set()):
            row = npm_row(manifest)
            if row is not None:
                row.update(path=manifest, directory=directory, depth=depth, pid_with_namespace=0)
                if limits:
                    row["max_depth"] = max_depth
                yield row
