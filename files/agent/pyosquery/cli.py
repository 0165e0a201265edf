"""What every command does first, as osquery's binaries do: read the flags, answer --help and --version.

    values, args = cli.start(argv, "pyosqueryd", "[OPTION]... ")
"""

import sys

from pyosquery import __version__, flags


def start(argv, program, usage, shell=False, default_flagfile=flags.DEFAULT_FLAGFILE):
    """(values, positional) from argv and the flagfile; exits 0 after --help/--version, 1 on a bad flag."""
    try:
        values, positional = flags.parse(argv, program, default_flagfile=default_flagfile)
    except flags.FlagError as error:
        sys.stderr.write("%s: %s\n" % (program, error))
        raise SystemExit(1) from None
    if values.help:
        sys.stdout.write(flags.help_text(program, __version__, usage, shell=shell))
        raise SystemExit(0)
    if values.version:
        sys.stdout.write("%s version %s\n" % (program, __version__))
        raise SystemExit(0)
    return values, positional


def checks(values):
    """--config_check / --config_dump / --database_dump: answer and return the exit code; None otherwise."""
    # pylint: disable=import-outside-toplevel  # the SQL engine and config load only when asked for
    if values.config_dump:
        from pyosquery import config
        return config.run_config_dump(values, sys.stdout)
    if values.config_check:
        from pyosquery import config
        from pyosquery.sql.engine import Engine
        return config.run_config_check(values, Engine(foreign=values.enable_foreign), sys.stdout, sys.stderr)
    if values.database_dump:
        from pyosquery.store.dump import run_database_dump
        return run_database_dump(values, sys.stdout)
    return None
