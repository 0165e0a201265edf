"""The flag values of one process: defaults, then the flagfile, the command line and the config's `options`."""

from pyosquery.flags import convert
from pyosquery.flags.definitions import CLI, DEFINITIONS


class FlagError(ValueError):
    """An unknown flag or a value a flag cannot take; the message names the flag (and file:line)."""


CLI_ONLY_WARNING = ("The CLI only flag --%s set via config file will be ignored, "
                    "please use a flagfile or pass it to the process at startup")
UNKNOWN_WARNING = "Cannot set unknown or invalid flag: %s"
NO_EFFECT_WARNING = "Flag --%s is accepted for osquery compatibility but has no effect in pyosquery"


def invalid(name, text, reason):
    return FlagError("invalid value '%s' for --%s: %s" % (text, name, reason))


class Values:
    """Flag values by name, read as attributes (`values.config_path`) or with `get`."""

    def __init__(self, warned=()):
        self._values = {name: flag.default for name, flag in DEFINITIONS.items()}
        self._explicit = set()
        self._warned = set(warned)  # flags without effect already warned about: one warning each per process
        # config `options` named custom_* are kept as given (text), for extensions and decorators
        self.custom = {}

    def __getattr__(self, name):
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name, default=None):
        if name in self._values:
            return self._values[name]
        return self.custom.get(name, default)

    def is_default(self, name):
        """True when nothing (flagfile, command line, config, `set`) gave this flag a value."""
        return name not in self._explicit

    def items(self):
        """(name, value) pairs in definition order."""
        return [(name, self._values[name]) for name in DEFINITIONS]

    def text(self, name):
        """The value as osquery shows it ("true"/"false", numbers as digits)."""
        return convert.to_text(DEFINITIONS[name], self._values[name])

    def fresh(self):
        """New default values that remember which flags this process already warned about."""
        return Values(self._warned)

    def copy(self):
        other = Values()
        other._values = dict(self._values)      # pylint: disable=protected-access
        other._explicit = set(self._explicit)   # pylint: disable=protected-access
        other._warned = set(self._warned)       # pylint: disable=protected-access
        other.custom = dict(self.custom)
        return other

    def set(self, name, value):
        """Set a typed value (a program forcing a flag, as the shell forces disable_logging)."""
        flag = DEFINITIONS.get(name)
        if flag is None:
            raise FlagError("unknown flag --%s" % name)
        self._values[name] = value
        self._explicit.add(name)

    def set_text(self, name, text):
        """Set a flag from its text form; raises FlagError (unknown flag, bad value)."""
        flag = DEFINITIONS.get(name)
        if flag is None:
            raise FlagError("unknown flag --%s" % name)
        try:
            self.set(name, convert.from_text(flag, text))
        except convert.InvalidValue as error:
            raise invalid(name, text, error) from None

    def no_effect_warnings(self):
        """One warning for each flag given a value that pyosquery does not act on, once per process."""
        fresh = [name for name, flag in DEFINITIONS.items()
                 if not flag.effect and name in self._explicit and name not in self._warned]
        self._warned.update(fresh)
        return [NO_EFFECT_WARNING % name for name in fresh]

    def apply_config_options(self, options):
        """Apply a config's `options` object; return the warnings to log.

        Every value is checked before any is set, so a bad value (FlagError) changes nothing.
        """
        warnings, updates, custom = [], {}, {}
        for name, value in options.items():
            flag = DEFINITIONS.get(name)
            if name.startswith("custom_"):
                custom[name] = convert.config_text(value)
            elif flag is None:
                warnings.append(UNKNOWN_WARNING % name)
            elif flag.kind == CLI:
                warnings.append(CLI_ONLY_WARNING % name)
            else:
                text = convert.config_text(value)
                try:
                    updates[name] = convert.from_text(flag, text)
                except convert.InvalidValue as error:
                    raise invalid(name, text, error) from None
        for name, value in updates.items():
            self.set(name, value)
        self.custom.update(custom)
        return warnings + self.no_effect_warnings()
