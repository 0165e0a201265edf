"""pyosquery: an osquery-compatible agent written in Python."""

__version__ = "0.1.0"

# The osquery release whose behaviour we match; packs and queries with a `version` above it are skipped.
OSQUERY_SDK_VERSION = "5.12.1"
