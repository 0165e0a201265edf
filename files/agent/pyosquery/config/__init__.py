"""The agent's config: osquery's JSON format read from files, validated by a schema, built into packs.

    config = config.load(values.config_path, values)   # raises ConfigError listing every problem
    config.packs, config.options, config.decorators, config.warnings, config.hash
    errors = config.check(config, engine)              # every query prepared against the engine
"""

from pyosquery.config.check import check, run_config_check, run_config_dump
from pyosquery.config.loader import Config, Decorator, load, source_paths
from pyosquery.config.packs import MAIN, Pack, Query, full_name, to_bool
from pyosquery.config.shard import applies, machine_shard
from pyosquery.config.source import ConfigError

__all__ = ["Config", "ConfigError", "Decorator", "MAIN", "Pack", "Query", "applies", "check", "full_name", "load",
           "machine_shard", "run_config_check", "run_config_dump", "source_paths", "to_bool"]
