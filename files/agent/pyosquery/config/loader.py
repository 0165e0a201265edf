"""Load a config the way osquery's filesystem plugin does: `<path>.d/*.conf` then `<path>`, packs by path or glob."""

import collections
import glob
import hashlib
import os

from pyosquery.config import packs, source, validate
from pyosquery.config.source import ConfigError
from pyosquery.flags import FlagError

Decorator = collections.namedtuple("Decorator", "when sql source")   # when: "load", "always" or seconds


class Config:     # pylint: disable=too-many-instance-attributes  # plain record of what was read
    """A loaded, validated config. `packs` holds `main` (the top-level schedule) first."""

    def __init__(self, path):
        self.path = path
        self.sources = collections.OrderedDict()     # config file -> raw text, in load order
        self.pack_files = collections.OrderedDict()  # pack file -> raw text
        self.data = {}          # top-level keys, the later source winning per key
        self.options = {}       # merged per option, the later source winning
        self.decorators = []    # [Decorator]
        self.packs = []         # [packs.Pack]
        self.warnings = []
        self.skipped = []       # queries the scheduler skips (osquery logs them); --config_check fails on them

    @property
    def hash(self):
        """SHA-1 of the per-source SHA-1 hex digests, as osquery's config_hash; pack files count too."""
        digests = [hashlib.sha1(text.encode("utf-8")).hexdigest()
                   for text in list(self.sources.values()) + list(self.pack_files.values())]
        return hashlib.sha1("".join(digests).encode("ascii")).hexdigest()

    def get(self, key, default=None):
        """A top-level key of the config (the later source winning), as dict.get: event publishers read
        their keys so, and the file events publisher also reads each source's own (`sources`, packs)."""
        return self.data.get(key, default)

    def queries(self):
        """Every scheduled query of every pack, in pack order."""
        return [query for pack in self.packs for query in pack.queries]


def _read_document(path, errors, warnings, definition=None):
    """(raw text, parsed object) of one file, or (text or None, None) with its errors collected."""
    try:
        text = source.read_text(path)
        data, duplicates = source.parse(path, text)
    except ConfigError as error:
        errors.extend(error.messages)
        return None, None
    warnings.extend(duplicates)
    problems = validate.errors(path, data, definition)
    errors.extend(problems)
    if problems:
        return text, None
    warnings.extend(validate.unknown_keys(path, data, definition))
    return text, data


def _pack_paths(name, value, origin):
    """[(pack name, file)] for a pack given by path; "*" globs, each file named after its stem."""
    path = os.path.join(os.path.dirname(os.path.abspath(origin)), os.path.expanduser(value))
    if name != "*":
        return [(name, path)]
    return [(os.path.splitext(os.path.basename(found))[0], found) for found in sorted(glob.glob(path))]


def _collect_packs(documents, config, errors):
    """[(name, body, source file, JSON path of its queries)]: `main` from the last `schedule`, then the packs;
    a later one wins per name."""
    schedule, named = None, collections.OrderedDict()
    for path, data in documents:
        if "schedule" in data:
            schedule = ("main", {"queries": data["schedule"]}, path, ("schedule",))
        for name, value in data.get("packs", {}).items():
            named[name] = (value, path)
    found = collections.OrderedDict()
    if schedule:
        found["main"] = schedule
    for name, (value, origin) in named.items():
        if isinstance(value, dict):
            found[name] = (name, value, origin, ("packs", name, "queries"))
            continue
        paths = _pack_paths(name, value, origin)
        if not paths:
            config.warnings.append("%s: no pack files match %s" % (origin, value))
        for pack_name, path in paths:
            text, body = _read_document(path, errors, config.warnings, "pack")
            if body is not None:
                config.pack_files[path] = text
                found[pack_name] = (pack_name, body, path, ("queries",))
    return list(found.values())


def _collect_decorators(documents, config):
    for path, data in documents:
        decorators = data.get("decorators", {})
        for when in ("load", "always"):
            config.decorators.extend(Decorator(when, sql, path) for sql in decorators.get(when, ()))
        for seconds, queries in decorators.get("interval", {}).items():
            if int(seconds) % 60 or not int(seconds):
                config.warnings.append("%s: decorator interval %s is not a multiple of 60 seconds: skipped"
                                       % (path, seconds))
                continue
            config.decorators.extend(Decorator(int(seconds), sql, path) for sql in queries)


def source_paths(config_path):
    """The config files in load order: `<config_path>.d/*.conf` sorted, then `config_path` itself."""
    if not os.path.isfile(config_path):
        raise ConfigError("config file does not exist: %s" % config_path)
    return sorted(glob.glob(os.path.join(glob.escape(config_path + ".d"), "*.conf"))) + [config_path]


def _read_sources(config_path, config, errors, values):
    """[(path, parsed object)] of the config files that parsed and validated; fills config.sources."""
    documents = []
    for path in source_paths(config_path):
        text, data = _read_document(path, errors, config.warnings)
        if text is not None:
            config.sources[path] = text
        if data is not None:
            documents.append((path, data))
            config.data.update(data)
            config.options.update(data.get("options", {}))
            config.warnings += _option_warnings(path, data.get("options", {}), values)
    return documents


def _option_warnings(path, options, values):
    """The warnings osquery gives for one file's options (unknown or command-line-only flags), located,
    and one for each flag without effect that `values` (the process) has not warned about yet."""
    try:
        found = values.fresh().apply_config_options(options)
    except FlagError:
        return []       # a bad value: load() reports it as an error
    return ["%s: $.options: %s" % (path, warning) for warning in found]


def load(config_path, values):
    """Read, validate and build the config at `config_path`; raises ConfigError listing every problem.

    `values` gives pack_delimiter and schedule_default_interval, as overridden by the config's own options
    (osquery applies `options` before the other keys); `values` itself is not changed.
    """
    config, errors = Config(config_path), []
    documents = _read_sources(config_path, config, errors, values)
    effective = values.copy()
    try:
        effective.apply_config_options(config.options)      # its warnings come located, per file, from above
    except FlagError as error:
        errors.append("%s: options: %s" % (config_path, error))
    found = _collect_packs(documents, config, errors)
    if errors:
        raise ConfigError(*errors)
    config.packs = [packs.build_pack(name, body, path, effective, config.skipped, where)
                    for name, body, path, where in found]
    _collect_decorators(documents, config)
    return config
