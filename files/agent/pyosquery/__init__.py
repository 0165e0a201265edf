"""pyosquery: an osquery-compatible agent written in Python."""

__version__ = "0.1.0"
