"""Check config and pack documents against the JSON Schema shipped with the agent, reporting every error."""

import functools
import json
import os
import re

import jsonschema

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=None)
def schema():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=None)
def _validator(definition):
    """A validator for the whole config (None) or for one of the schema's $defs (e.g. "pack")."""
    document = schema()
    if definition is not None:
        document = {"$schema": document["$schema"], "$ref": "#/$defs/" + definition, "$defs": document["$defs"]}
    cls = jsonschema.validators.validator_for(document)
    return cls(document)


def json_path(path):
    """$.schedule.procs.interval; keys that are not identifiers are quoted: $.packs["my pack"]."""
    text = "$"
    for part in path:
        if isinstance(part, int):
            text += "[%d]" % part
        elif _IDENTIFIER.match(part):
            text += "." + part
        else:
            text += "[%s]" % json.dumps(part)
    return text


def errors(path, data, definition=None):
    """Every schema error of `data` (read from `path`) as '<path>: <json path>: <message>', sorted by JSON path."""
    found = sorted(_validator(definition).iter_errors(data), key=lambda error: [str(p) for p in error.absolute_path])
    return ["%s: %s: %s" % (path, json_path(error.absolute_path), error.message) for error in found]
