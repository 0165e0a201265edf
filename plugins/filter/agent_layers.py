# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter `agent_layers`: the agent role's layered configuration, fleet -> groups -> host.

Pure functions: the role hands in the layers it found, this merges them and names the variable
at fault for anything it cannot use.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: agent_layers
short_description: Merge the agent role's configuration layers (fleet, groups, host)
version_added: 0.1.0
description:
  - Used by the P(pyosquery.fleet.agent#role) role; exposed so a playbook can show what a host would get.
  - Layers apply in order, fleet first, then the host's group layers (ascending C(priority), default 1,
    then group name), then the host layer. Mappings merge key by key at every depth; lists and other
    values replace; a null removes the key a lower layer set.
  - Fails naming the variable at fault (for example C(agent_group_servers.packs.bad name)) for an unknown
    section, a section that is not a mapping, a flag that is not a scalar, a flag the role sets itself,
    or a pack name that cannot be a file name, or a file integrity path that is not an absolute glob
    (for example C(agent_group_web.file_paths.www[0])).
positional: _input
options:
  _input:
    description: The fleet layer, C({flags, options, schedule, packs, decorators, file_paths, exclude_paths, file_accesses}).
    type: dict
    required: true
  group_layers:
    description: The host's group layers, group name to layer (C(agent_group_<group>)); a layer may hold C(priority).
    type: dict
    default: {}
  host_layer:
    description: The host layer (C(agent_host_layer)).
    type: dict
    default: {}
author: pyosquery.fleet developers
"""

EXAMPLES = r"""
- name: What this host's agent gets, and from which layers
  ansible.builtin.debug:
    msg: >-
      {{ {'flags': agent_flags, 'packs': agent_packs}
         | pyosquery.fleet.agent_layers({'servers': agent_group_servers | default({})}, agent_host_layer | default({})) }}
"""

RETURN = r"""
_value:
  description:
    - The merged C(flags), C(options), C(schedule), C(packs), C(decorators), C(file_paths), C(exclude_paths),
      C(file_accesses), and C(layers), the variables applied in order.
  type: dict
"""

import copy
import re

from ansible.errors import AnsibleFilterError

SECTIONS = ("flags", "options", "schedule", "packs", "decorators", "file_paths", "exclude_paths", "file_accesses")
# file integrity monitoring: category -> globs (osquery's file_paths, exclude_paths); a list of categories
PATH_SECTIONS = ("file_paths", "exclude_paths")
LIST_SECTIONS = ("file_accesses",)
# Flags the role itself decides: the paths it writes, validates, signals and removes.
ROLE_FLAGS = ("config_path", "pidfile", "extensions_socket", "database_path", "logger_path", "flagfile", "daemonize",
              "config_check", "config_dump")
FLAG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# a pack's name is its file's stem under /etc/pyosquery/packs/, and the middle of its query names
PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
DEFAULT_PRIORITY = 1


def _fail(where, problem):
    raise AnsibleFilterError("%s: %s" % (where, problem))


def _merge(base, layer):
    """Mappings merge key by key at every depth; any other value (lists too) replaces."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _prune(value):
    """Drop the keys a layer set to null, at every depth: a null removes what a lower layer set."""
    if isinstance(value, dict):
        return dict((key, _prune(item)) for key, item in value.items() if item is not None)
    return value


def _check_scalars(where, mapping):
    for name, value in mapping.items():
        if not FLAG_NAME.match(str(name)):
            _fail("%s.%s" % (where, name), "not a flag name (lower case letters, digits, _)")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            _fail("%s.%s" % (where, name), "must be a string, number or boolean, not %s" % type(value).__name__)


def _check_paths(where, categories):
    """category -> list of absolute path globs (osquery's % one level, %% recursive)."""
    for category, globs in categories.items():
        if globs is None:
            continue
        if not isinstance(globs, list):
            _fail("%s.%s" % (where, category), "must be a list of path globs, not %s" % type(globs).__name__)
        for index, glob in enumerate(globs):
            if not isinstance(glob, str) or not glob.startswith("/"):
                _fail("%s.%s[%d]" % (where, category, index), "must be an absolute path glob, not %r" % (glob,))


def _check_section(where, section, value):
    if section in LIST_SECTIONS:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            _fail(where, "must be a list of file_paths categories")
        return
    if not isinstance(value, dict):
        _fail(where, "must be a mapping, not %s" % type(value).__name__)
    if section in ("flags", "options"):
        _check_scalars(where, value)
    if section == "flags":
        for name in value:
            if name in ROLE_FLAGS:
                _fail("%s.%s" % (where, name), "set by the role (its files, pidfile and socket); remove it")
    if section in PATH_SECTIONS:
        _check_paths(where, value)
    if section == "packs":
        for name, pack in value.items():
            if not PACK_NAME.match(str(name)):
                _fail("%s.%s" % (where, name), "a pack name is a file name: letters, digits, _ and -")
            if pack is not None and not isinstance(pack, dict):
                _fail("%s.%s" % (where, name), "must be a mapping (the pack's JSON), not %s" % type(pack).__name__)


def _check_layer(name_of, layer, allowed):
    """`layer` is a mapping of sections among `allowed`; name_of(section) names a section's variable path."""
    if layer is None:
        return {}
    if not isinstance(layer, dict):
        _fail(name_of(None), "must be a mapping with any of %s, not %s" % (", ".join(allowed), type(layer).__name__))
    for section, value in layer.items():
        if section not in allowed:
            _fail(name_of(section), "unknown key; a layer holds %s" % ", ".join(allowed))
        if section == "priority":
            if isinstance(value, bool) or not isinstance(value, int):
                _fail(name_of(section), "must be an integer")
        elif value is not None:
            _check_section(name_of(section), section, value)
    return layer


def _fleet_name(section):
    """The fleet layer is one variable per section: agent_flags, agent_options, ..."""
    return "agent_%s" % (section or "*")


def _named(variable):
    return lambda section: variable if section is None else "%s.%s" % (variable, section)


def ordered_group_layers(group_layers):
    """[(variable name, layer)] for the host's groups that define a layer: by priority, then name.

    A higher priority applies later and so wins, as with ansible_group_priority.
    """
    found = []
    for group, layer in (group_layers or {}).items():
        if layer is None:
            continue
        variable = "agent_group_%s" % group
        _check_layer(_named(variable), layer, SECTIONS + ("priority",))
        found.append((layer.get("priority", DEFAULT_PRIORITY), group, variable, layer))
    return [(variable, layer) for _priority, _group, variable, layer in sorted(found, key=lambda item: item[:2])]


def agent_layers(fleet, group_layers=None, host_layer=None):
    """Merge the fleet layer, the host's group layers and its host layer into one configuration.

    fleet: {flags, options, schedule, packs, decorators, file_paths, exclude_paths, file_accesses}
    (the role's agent_* variables);
    group_layers: {group name: layer or None} for the host's groups; host_layer: a layer.
    Returns the sections (nulls pruned) plus `layers`: the variables applied, in order.
    """
    layers = [("agent_*", _check_layer(_fleet_name, fleet, SECTIONS))]
    layers += ordered_group_layers(group_layers)
    layers.append(("agent_host_layer", _check_layer(_named("agent_host_layer"), host_layer, SECTIONS)))
    merged = dict((section, [] if section in LIST_SECTIONS else {}) for section in SECTIONS)
    applied = []
    for variable, layer in layers:
        if not any(layer.get(section) for section in SECTIONS):
            continue
        applied.append(variable)
        for section in SECTIONS:
            if section in LIST_SECTIONS and layer.get(section) is not None:
                merged[section] = list(layer[section])     # a list replaces, as everywhere
            elif layer.get(section):
                merged[section] = _merge(merged[section], layer[section])
    result = dict((section, _prune(merged[section])) for section in SECTIONS)
    result["file_paths"] = dict((category, globs) for category, globs in result["file_paths"].items() if globs)
    result["layers"] = applied
    return result


class FilterModule(object):
    """The agent role's layer merge."""

    def filters(self):
        return {"agent_layers": agent_layers}
