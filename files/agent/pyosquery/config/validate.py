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


def _closed(node):
    """A copy of a schema in which every object with declared properties takes no others."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _closed(value) for key, value in node.items()}
    if "properties" in copy and "additionalProperties" not in copy:
        copy["additionalProperties"] = False
    return copy


@functools.lru_cache(maxsize=None)
def _closed_validator(definition):
    document = _closed(_validator(definition).schema)
    return jsonschema.validators.validator_for(document)(document)


def unknown_keys(path, data, definition=None):
    """'<path>: <json path>: unknown key, ignored' for each key the schema does not declare.

    osquery ignores such keys, so a misspelled one (`intervl`, `snapshop`, `optoins`) silently
    loses what it meant to set: worth a warning, never an error.
    """
    found = []
    for error in _closed_validator(definition).iter_errors(data):
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            found += [list(error.absolute_path) + [key] for key in error.instance if key not in known]
    return ["%s: %s: unknown key, ignored" % (path, json_path(where)) for where in sorted(found, key=str)]


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
