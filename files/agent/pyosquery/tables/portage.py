"""portage_packages: Gentoo's installed-package database, /var/db/pkg/<category>/<package>-<version>/.

Each package directory holds one file per field (SLOT, BUILD_TIME, repository, EAPI, SIZE);
/var/lib/portage/world lists what the user asked for. Hosts without Portage have no rows.
"""

import os
import re

from pyosquery.tables import _os

PKG_DB = "/var/db/pkg"
WORLD = "/var/lib/portage/world"
# <name>-<version>: the version starts at the last '-' followed by a digit
_SPLIT = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*(?:-r\d+)?)$")


def _field(directory, name):
    return (_os.read_text(os.path.join(directory, name)) or "").strip()


def _number(text):
    return int(text) if text.isdigit() else 0


def gen_portage_packages(_context):
    world = set(_os.config_lines(WORLD))
    for category in sorted(_os.list_dir(PKG_DB)):
        for entry in sorted(_os.list_dir(os.path.join(PKG_DB, category))):
            match = _SPLIT.match(entry)
            directory = os.path.join(PKG_DB, category, entry)
            if match is None or not os.path.isdir(directory):
                continue
            package = "%s/%s" % (category, match.group("name"))
            yield {"package": package, "version": match.group("version"), "slot": _field(directory, "SLOT"),
                   "build_time": _number(_field(directory, "BUILD_TIME")),
                   "repository": _field(directory, "repository"), "eapi": _number(_field(directory, "EAPI")),
                   "size": _number(_field(directory, "SIZE")), "world": 1 if package in world else 0}
