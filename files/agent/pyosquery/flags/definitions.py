"""Every flag osquery 5.x defines for Linux, as data (`flags.tsv`): name, type, default, kind, effect.

The names, types and kinds are osquery's; the defaults are osquery's except our host paths.
The kinds follow osquery's flag classes: CLI flags are read at start-up only (command line or
flagfile) and refused in a config's `options`; FLAG flags may also be set by the config; SHELL
flags belong to the shell; HIDDEN flags work like FLAG but are left out of help texts.
`effect` says whether pyosquery does what the flag asks: a flag without effect is accepted,
shown in `osquery_flags`, and setting it logs one warning, so an osquery flagfile works unchanged.
"""

import collections
import os

CLI = "CLI"
FLAG = "FLAG"
SHELL = "SHELL"
HIDDEN = "HIDDEN"

Flag = collections.namedtuple("Flag", "name type default kind effect description")

TYPES = ("bool", "int32", "uint32", "uint64", "double", "string")
FLAGS_TSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flags.tsv")


def _typed(type_, text):
    if type_ == "bool":
        return text == "true"
    if type_ == "double":
        return float(text)
    if type_ != "string":
        return int(text)
    return text


def _load(path=FLAGS_TSV):
    definitions = collections.OrderedDict()
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for number, line in enumerate(lines[1:], start=2):
        name, type_, default, kind, effect, description = line.split("\t")
        if type_ not in TYPES or kind not in (CLI, FLAG, SHELL, HIDDEN) or effect not in ("yes", "no"):
            raise ValueError("%s:%d: bad type, kind or effect" % (path, number))
        definitions[name] = Flag(name, type_, _typed(type_, default), kind, effect == "yes", description)
    return definitions


# In osquery's order (sorted by name): `osquery_flags`, `.features` and `--help` walk it.
DEFINITIONS = _load()

# osquery's older names, and the extension-side aliases, that still work on the command line and in flagfiles.
ALIASES = {
    "osquery_log_dir": "logger_path",
    "log_result_events": "logger_event_type",
    "log_numerics_as_numbers": "logger_numerics",
    "config_tls_refresh": "config_refresh",
    "verbose_debug": "verbose",
    "debug": "verbose",
    "socket": "extensions_socket",
    "timeout": "extensions_timeout",
    "interval": "extensions_interval",
}


def lookup(name):
    """The Flag for `name` or one of its aliases, or None."""
    return DEFINITIONS.get(ALIASES.get(name, name))
