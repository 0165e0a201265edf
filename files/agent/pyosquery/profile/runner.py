"""Profile a set of queries: each round of each query in a fresh `pyosqueryi --profile` child.

    results = profile_queries({"cheap": "SELECT 1"}, Options(rounds=2))
    results["cheap"].scores     # {"utilization": [rank, value], ...}, from the mean of the rounds
"""

import collections
import json
import os
import shutil
import sys

from pyosquery.profile import sampler, scores

QueryProfile = collections.namedtuple("QueryProfile", "name sql rounds average scores errors")


class Options:     # pylint: disable=too-few-public-methods,too-many-arguments  # a plain record of settings
    """How to run the profile: osquery's defaults, plus the delay and sample interval it hard-codes."""

    def __init__(self, shell=None, count=1, rounds=1, timeout=0, delay=1.0, interval=0.5, thresholds=None):
        self.shell = shell or default_shell()
        self.count = count
        self.rounds = rounds
        self.timeout = timeout
        self.delay = delay
        self.interval = interval
        self.thresholds = thresholds or scores.DEFAULT_THRESHOLDS


def default_shell():
    """The `pyosqueryi` installed beside this interpreter, else on PATH, else the module run by this Python."""
    beside = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
    if os.access(beside, os.X_OK):
        return [beside]
    found = shutil.which("pyosqueryi")
    return [found] if found else [sys.executable, "-m", "pyosquery.shell.main"]


def shell_argv(options, sql):
    # `--` keeps a query that starts with "-" from reading as an option
    return list(options.shell) + ["--profile", str(options.count), "--profile_delay", str(options.delay),
                                  "--", sql]


def average(measurements):
    """The mean of each metric over the rounds; a round that failed makes the whole query failed."""
    result = collections.OrderedDict()
    for key in sampler.KEYS:
        values = [m[key] for m in measurements if key in m]
        if values and key != "exit":
            mean = sum(values) / len(values)
            # byte and descriptor counts stay whole numbers
            whole = all(isinstance(v, int) for v in values)
            result[key] = int(round(mean)) if whole else round(mean, 3)
    result["exit"] = next((m["exit"] for m in measurements if m.get("exit")), 0)
    return result


def profile_query(name, sql, options, on_round=None):
    """A QueryProfile for one query; `on_round(name, index, measurement, scores)` hears each round."""
    rounds, errors = [], []
    for index in range(1, options.rounds + 1):
        measurement, error_text = sampler.profile_command(shell_argv(options, sql), options.delay,
                                                          options.interval, options.timeout)
        rounds.append(measurement)
        if error_text.strip():
            errors.append(error_text.strip())
        if measurement["exit"] < 0:     # no message of its own: killed on timeout, or by someone else
            errors.append("ended by signal %d" % -measurement["exit"])
        if on_round:
            on_round(name, index, measurement, scores.score(measurement, options.thresholds))
    mean = average(rounds)
    return QueryProfile(name, sql, rounds, mean, scores.score(mean, options.thresholds), errors)


def profile_queries(queries, options=None, on_round=None):
    """An OrderedDict name -> QueryProfile for a dict {name: sql}, in the dict's order."""
    options = options or Options()
    return collections.OrderedDict((name, profile_query(name, sql, options, on_round))
                                   for name, sql in queries.items())


def report(results):
    """The JSON document osquery's tool writes with --output: {name: {metric: [rank, value]}}."""
    return collections.OrderedDict((name, result.scores) for name, result in results.items())


def report_json(document):
    """A report as JSON text, one query per line so that reports diff well."""
    lines = ["  %s: %s" % (json.dumps(name), json.dumps(scored)) for name, scored in document.items()]
    return "{\n%s\n}\n" % ",\n".join(lines) if lines else "{}\n"
