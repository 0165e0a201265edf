# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pack file's content: read as the agent reads it, changed as a task asks, written canonically. Pure.

The agent reads `/etc/pyosquery/packs/<name>.conf` with osquery's rules: JSON whose lines may be
`#` or `//` comments and may end in a backslash that joins the next line. This side only reads
such files; it writes plain JSON with sorted keys, so equal content gives equal bytes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# the task's option -> the key of a query in osquery's pack format
QUERY_KEYS = (("sql", "query"), ("interval", "interval"), ("snapshot", "snapshot"), ("removed", "removed"),
              ("platform", "platform"), ("version", "version"), ("shard", "shard"),
              ("description", "description"), ("denylist", "denylist"))
PACK_KEYS = ("discovery", "platform", "version", "shard")


class PackFileError(ValueError):
    """A pack file this side cannot read, or a task that asks for something impossible."""


def _without_comments(text):
    # blank the comment lines instead of dropping them, so JSON errors keep the file's line numbers
    joined = text.replace("\\\n", "")
    return "\n".join("" if line.strip().startswith(("#", "//")) else line for line in joined.split("\n"))


def parse(text, path):
    """The pack object in `text` (the content of `path`)."""
    try:
        data = json.loads(_without_comments(text))
    except ValueError as error:
        raise PackFileError("%s is not a pack the module can change (%s); fix or remove it" % (path, error))
    if not isinstance(data, dict):
        raise PackFileError("%s is not a pack: its JSON is not an object" % path)
    return data


def render(pack):
    """The file's text for a pack object."""
    return json.dumps(pack, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def query_entry(params):
    """One query in osquery's pack format from the task's options (only the options given)."""
    return dict((key, params[option]) for option, key in QUERY_KEYS if params.get(option) is not None)


def whole_pack(params):
    """The pack a task without `query` describes: its queries as given, and the pack-level keys."""
    pack = dict((key, params[key]) for key in PACK_KEYS if params.get(key) is not None)
    pack["queries"] = dict(params["queries"] or {})
    return pack


def desired(current, params):
    """The pack object the task wants, or None for no file; `current` is the file's object or None."""
    present = params["state"] == "present"
    if params["query"] is None:
        return whole_pack(params) if present else None
    if not present and params["query"] not in ((current or {}).get("queries") or {}):
        return current      # nothing to remove
    pack = dict(current or {})
    queries = dict(pack.get("queries") or {})
    if present:
        queries[params["query"]] = query_entry(params)
    else:
        queries.pop(params["query"], None)
    pack["queries"] = queries
    return pack


QUERY_ONLY = ("sql", "interval", "snapshot", "removed", "description", "denylist")


def check_params(params):
    """Refuse option combinations that say two things, naming the options."""
    if not NAME.match(params["name"]):
        raise PackFileError("pack name %r: use letters, digits, '_', '.' and '-' (it becomes the file name "
                            "<name>.conf), starting with a letter or digit" % params["name"])
    given = [option for option, _key in QUERY_KEYS if params.get(option) is not None] + \
        [option for option in ("queries", "discovery") if params.get(option) is not None]
    if params["state"] == "absent":
        if given:
            raise PackFileError("state=absent takes only name (and query): not %s" % ", ".join(given))
    elif params["query"] is not None:
        if params["sql"] is None:
            raise PackFileError("query %s of pack %s needs sql" % (params["query"], params["name"]))
    elif params["queries"] is None:
        raise PackFileError("pack %s: give queries (the whole pack) or query and sql (one query)" % params["name"])
    else:
        stray = [option for option in QUERY_ONLY if params.get(option) is not None]
        if stray:
            raise PackFileError("%s describe one query: give query too, or put them in queries" % ", ".join(stray))
