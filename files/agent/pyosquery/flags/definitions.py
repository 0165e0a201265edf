"""Every flag the agent knows, as data: osquery's names, types, defaults and kinds, with our host paths.

The kinds follow osquery's flag classes: CLI flags are read at start-up only (command line or flagfile)
and refused in a config's `options`; FLAG flags may also be set by the config; SHELL flags belong to
the shell; HIDDEN flags work like FLAG but are left out of help texts.
"""

import collections

CLI = "CLI"
FLAG = "FLAG"
SHELL = "SHELL"
HIDDEN = "HIDDEN"

Flag = collections.namedtuple("Flag", "name type default kind description")

# osquery's gflags type names, shown in the `type` column of `osquery_flags`.
GFLAGS_TYPES = {"bool": "bool", "int": "int32", "uint": "uint64", "str": "string"}


_CONFIG = [
    Flag("flagfile", "str", "", CLI,
         "Line-delimited file of flags (default /etc/pyosquery/pyosquery.flags when readable)"),
    Flag("config_plugin", "str", "filesystem", CLI, "Config plugin name (only filesystem)"),
    Flag("config_path", "str", "/etc/pyosquery/pyosquery.conf", CLI, "Path to JSON config file"),
    Flag("config_check", "bool", False, CLI, "Check the format of an osquery config and exit"),
    Flag("config_dump", "bool", False, CLI, "Dump the contents of the configuration, then exit"),
    Flag("config_refresh", "uint", 0, CLI, "Optional interval in seconds to re-read configuration"),
    Flag("config_accelerated_refresh", "uint", 300, CLI,
         "Interval in seconds to wait after a failed configuration refresh"),
    Flag("database_path", "str", "/var/lib/pyosquery/pyosquery.db", CLI,
         "If using a disk-based backing store, specify a path"),
    Flag("disable_database", "bool", False, FLAG, "Disable the persistent storage"),
    Flag("disable_events", "bool", True, FLAG,
         "Disable osquery publish/subscribe system (pyosquery collects no events)"),
    Flag("disable_decorators", "bool", False, FLAG, "Disable log result decoration"),
    Flag("decorations_top_level", "bool", False, FLAG, "Add decorators as top level JSON objects"),
    Flag("ephemeral", "bool", False, CLI, "Skip the pidfile and disable the database"),
    Flag("pidfile", "str", "/var/run/pyosqueryd.pid", CLI, "Path to the daemon pidfile mutex"),
    Flag("daemonize", "bool", False, CLI, "Attempt to daemonize (POSIX only)"),
    Flag("force", "bool", False, CLI, "Force osqueryd to kill previously-running daemons"),
    Flag("host_identifier", "str", "hostname", FLAG,
         "Field used to identify the host running osquery (hostname, uuid, instance, ephemeral, specified)"),
    Flag("specified_identifier", "str", "", FLAG,
         "Field used to specify the host_identifier when set to \"specified\""),
    Flag("utc", "bool", True, HIDDEN, "Convert all UNIX times to UTC (pyosquery always does)"),
    Flag("help", "bool", False, CLI, "Show the flags and exit"),
    Flag("version", "bool", False, CLI, "Show the version and exit"),
]

_SCHEDULE = [
    Flag("schedule_splay_percent", "uint", 10, FLAG, "Percent to splay config times"),
    Flag("schedule_default_interval", "uint", 3600, FLAG, "Query interval to use if none is provided"),
    Flag("schedule_max_drift", "uint", 60, FLAG, "Max time drift in seconds before the scheduler stops compensating"),
    Flag("schedule_timeout", "uint", 0, FLAG, "Limit the schedule, 0 for no limit"),
    Flag("schedule_epoch", "uint", 0, FLAG, "Epoch for scheduled queries"),
    Flag("schedule_lognames", "bool", False, FLAG, "Log the running scheduled query name"),
    Flag("pack_refresh_interval", "uint", 3600, FLAG, "Cache expiration for a packs discovery queries"),
    Flag("pack_delimiter", "str", "_", FLAG, "Delimiter for pack and query names"),
    # Our addition: osquery hard-codes 86400 s for the denylist of queries that killed a worker.
    Flag("denylist_duration", "uint", 86400, FLAG,
         "Seconds a query that stopped the worker stays denylisted (pyosquery addition; osquery fixes 86400)"),
]

_LOGGER = [
    Flag("logger_plugin", "str", "filesystem", CLI, "Logger plugin name (filesystem, stdout; a comma list)"),
    Flag("logger_path", "str", "/var/log/pyosquery/", FLAG,
         "Directory path for ERROR/WARN/INFO and results logging"),
    Flag("logger_mode", "str", "0640", CLI, "Octal mode for log files (default '0640')"),
    Flag("logger_rotate", "bool", False, FLAG, "Use filesystem log rotation"),
    Flag("logger_rotate_size", "uint", 26214400, FLAG, "Size for each filesystem log in bytes"),
    Flag("logger_rotate_max_files", "uint", 25, FLAG, "Max number of files to keep in rotation"),
    Flag("logger_event_type", "bool", True, FLAG, "Log scheduled results as events"),
    Flag("logger_snapshot_event_type", "bool", False, FLAG, "Log scheduled snapshot results as events"),
    Flag("logger_numerics", "bool", False, FLAG, "Use numeric JSON syntax for numeric values"),
    Flag("logger_stderr", "bool", True, CLI, "Write status logs to stderr"),
    Flag("logger_min_status", "int", 0, FLAG, "Minimum level for status log recording"),
    Flag("logger_min_stderr", "int", 0, FLAG, "Minimum level for statuses written to stderr"),
    Flag("verbose", "bool", False, FLAG, "Enable verbose informational messages"),
    Flag("disable_logging", "bool", False, FLAG, "Disable ERROR/INFO logging"),
]

_EXTENSIONS = [
    Flag("extensions_socket", "str", "/var/lib/pyosquery/pyosquery.em", CLI,
         "Path to the extensions UNIX domain socket"),
    Flag("extensions_autoload", "str", "/etc/pyosquery/extensions.load", CLI,
         "Optional path to a list of autoloaded & managed extensions"),
    Flag("extensions_timeout", "str", "3", CLI, "Seconds to wait for autoloaded extensions"),
    Flag("extensions_interval", "str", "3", CLI, "Seconds delay between connectivity checks"),
    Flag("extensions_require", "str", "", CLI, "Comma-separated list of required extensions"),
    Flag("disable_extensions", "bool", False, CLI, "Disable extension API"),
]

_WATCHDOG = [
    Flag("watchdog_level", "int", 0, CLI, "Performance limit level (0=normal, 1=restrictive, -1=off)"),
    Flag("watchdog_memory_limit", "uint", 0, CLI, "Override watchdog profile memory limit (e.g., 300, for 300MB)"),
    Flag("watchdog_utilization_limit", "uint", 0, CLI, "Override watchdog profile CPU utilization limit"),
    Flag("watchdog_latency_limit", "uint", 0, CLI, "Override watchdog profile CPU utilization latency limit"),
    Flag("watchdog_delay", "uint", 60, CLI, "Initial delay in seconds before watchdog starts enforcing limits"),
    Flag("watchdog_max_delay", "uint", 600, HIDDEN, "Max delay in seconds between worker respawns"),
    Flag("watchdog_forced_shutdown_delay", "uint", 4, CLI,
         "Seconds that the watchdog will wait to do a forced shutdown after a graceful shutdown request"),
    Flag("disable_watchdog", "bool", False, CLI, "Disable userland watchdog process"),
    Flag("enable_watchdog_debug", "bool", False, CLI, "Enable userland watchdog debugging"),
    Flag("enable_extensions_watchdog", "bool", False, CLI, "Enable userland watchdog for extensions processes"),
    Flag("alarm_timeout", "uint", 15, CLI, "Seconds to allow for shutdown. Minimum is 10"),
]

_SHELL = [
    Flag("json", "bool", False, SHELL, "Print JSON formatted output"),
    Flag("json_pretty", "bool", False, SHELL, "Print pretty JSON formatted output"),
    Flag("csv", "bool", False, SHELL, "Set output mode to 'csv'"),
    Flag("line", "bool", False, SHELL, "Set output mode to 'line'"),
    Flag("list", "bool", False, SHELL, "Set output mode to 'list'"),
    Flag("header", "bool", True, SHELL, "Toggle column headers true/false"),
    Flag("separator", "str", "|", SHELL, "Set output field separator, default '|'"),
    # osquery declares nullvalue as a general FLAG, not a SHELL flag.
    Flag("nullvalue", "str", "", FLAG, "Set string for NULL values, default ''"),
    Flag("connect", "str", "", SHELL, "Connect to an extension socket"),
    Flag("pack", "str", "", SHELL, "Run all queries in a pack"),
    Flag("L", "bool", False, SHELL, "List all table names"),
    Flag("A", "str", "", SHELL, "Select all from a table"),
]

# Ordered as osquery groups them; `osquery_flags` and `.features` walk this order.
DEFINITIONS = collections.OrderedDict(
    (flag.name, flag) for flag in _CONFIG + _SCHEDULE + _LOGGER + _EXTENSIONS + _WATCHDOG + _SHELL)

# osquery's older names that still work on the command line and in flagfiles.
ALIASES = {
    "osquery_log_dir": "logger_path",
    "log_result_events": "logger_event_type",
    "log_numerics_as_numbers": "logger_numerics",
    "config_tls_refresh": "config_refresh",
    "verbose_debug": "verbose",
    "debug": "verbose",
}


def lookup(name):
    """The Flag for `name` or one of its aliases, or None."""
    return DEFINITIONS.get(ALIASES.get(name, name))
