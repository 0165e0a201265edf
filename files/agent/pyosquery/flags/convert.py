"""Turn flag text (command line, flagfile) and config values into typed flag values, or explain why not."""

import json

# gflags' spellings of true and false (case-insensitive).
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")

# gflags' integer types and their ranges
_BOUNDS = {"int32": (-2 ** 31, 2 ** 31 - 1), "uint32": (0, 2 ** 32 - 1), "uint64": (0, 2 ** 64 - 1)}

HOST_IDENTIFIERS = ("hostname", "uuid", "instance", "ephemeral", "specified")
LOGGER_PLUGINS = ("filesystem", "stdout")


class InvalidValue(ValueError):
    """A value a flag cannot take; the message says why."""


def parse_bool(text):
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidValue("not a boolean (true/false)")


def _parse_integer(text, bounds):
    try:
        number = int(text.strip(), 10)
    except ValueError:
        raise InvalidValue("not an integer") from None
    if not bounds[0] <= number <= bounds[1]:
        raise InvalidValue("out of range %d..%d" % bounds)
    return number


def _parse_double(text):
    try:
        return float(text.strip())
    except ValueError:
        raise InvalidValue("not a number") from None


def _check_logger_mode(value):
    try:
        mode = int(value, 8)
    except ValueError:
        raise InvalidValue("not an octal file mode") from None
    if not 0 <= mode <= 0o7777:
        raise InvalidValue("file mode above 07777")


def _check_choice(value, choices):
    if value not in choices:
        raise InvalidValue("must be one of " + ", ".join(choices))


def _check_logger_plugin(value):
    for name in value.split(","):
        _check_choice(name.strip(), LOGGER_PLUGINS)


def _check_alarm_timeout(value):
    # osquery refuses shutdown deadlines under 10 s: the worker needs (alarm_timeout - 4) s to stop.
    if value < 10:
        raise InvalidValue("must be at least 10")


# Flags whose values are further restricted than their type says.
_CHECKS = {
    "logger_mode": _check_logger_mode,
    "logger_plugin": _check_logger_plugin,
    "host_identifier": lambda value: _check_choice(value, HOST_IDENTIFIERS),
    "config_plugin": lambda value: _check_choice(value, ("filesystem",)),
    "alarm_timeout": _check_alarm_timeout,
}


def from_text(flag, text):
    """The typed value of `flag` written as `text` (command line or flagfile)."""
    if flag.type == "bool":
        value = parse_bool(text)
    elif flag.type in _BOUNDS:
        value = _parse_integer(text, _BOUNDS[flag.type])
    elif flag.type == "double":
        value = _parse_double(text)
    else:
        value = text
    check = _CHECKS.get(flag.name)
    if check:
        check(value)
    return value


def config_text(value):
    """A config `options` value as flag text: osquery stores objects and arrays as JSON text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if value is None:
        return ""
    return str(value)


def to_text(flag, value):
    """A typed value shown as osquery shows flag values (`osquery_flags`, the extension options)."""
    if flag.type == "bool":
        return "true" if value else "false"
    if flag.type == "double":
        return "%f" % value     # gflags prints doubles with 6 decimals
    return str(value)
