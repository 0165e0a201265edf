"""Flags: osquery's names and defaults with pyosquery's paths, the command line and flagfile parser.

    values, args = flags.parse(sys.argv[1:], "pyosqueryd")
    values.config_path; values.is_default("logger_path"); values.apply_config_options(config.options)
"""

from pyosquery.flags.definitions import ALIASES, CLI, DEFINITIONS, FLAG, HIDDEN, SHELL, Flag, lookup
from pyosquery.flags.help import help_text
from pyosquery.flags.parser import DEFAULT_FLAGFILE, parse
from pyosquery.flags.values import FlagError, Values

__all__ = ["ALIASES", "CLI", "DEFINITIONS", "DEFAULT_FLAGFILE", "FLAG", "Flag", "FlagError",
           "HIDDEN", "SHELL", "Values", "features", "help_text", "lookup", "parse", "table_rows"]


def table_rows(values):
    """Rows of the `osquery_flags` table: every flag whose name is longer than 2 characters, as osquery."""
    defaults = Values()
    return [{"name": flag.name, "type": flag.type, "description": flag.description,
             "default_value": defaults.text(flag.name), "value": values.text(flag.name),
             "shell_only": 1 if flag.kind == SHELL else 0}
            for flag in DEFINITIONS.values() if len(flag.name) > 2]


def features(values):
    """(name, value) of the bool flags named disable_* / enable_*, for the shell's `.features`."""
    return [(name, values.get(name)) for name, flag in DEFINITIONS.items()
            if flag.type == "bool" and name.startswith(("disable_", "enable_"))]
