"""The U C M F D scores of osquery's profile tool: thresholds as data, ranks, and regressions between reports.

A rank is the index of the first threshold the value is below, so 0..3 read blue, green, yellow, red.
"""

import collections

MB = 1024 * 1024

# metric -> (WARN, ERR, CRIT), in the order the scores print; osquery's defaults
DEFAULT_THRESHOLDS = collections.OrderedDict((
    ("utilization", (8, 20, 50)),           # mean CPU % of the samples that saw work
    ("cpu_time", (0.4, 1, 10)),             # user + system seconds
    ("memory", (8 * MB, 12 * MB, 24 * MB)),  # resident bytes
    ("fds", (10, 20, 50)),                  # open file descriptors
    ("duration", (0.8, 1, 3)),              # wall seconds, without the profile delays
))
WORST = 3
FAILED = -1     # the value every metric of a failed run reports


def check_thresholds(values):
    """The three thresholds as a tuple; ValueError unless they are strictly increasing."""
    values = tuple(values)
    if len(values) != 3 or not values[0] < values[1] < values[2]:
        raise ValueError("thresholds must be three strictly increasing numbers: %s"
                         % " ".join(str(v) for v in values))
    return values


def rank(value, thresholds):
    for index, limit in enumerate(thresholds):
        if value < limit:
            return index
    return WORST


def score(measurement, thresholds=None):
    """{metric: [rank, value]} of one measurement (a dict from the sampler, or averaged ones).

    A run that did not succeed (exit code not 0, killed on timeout) gets the worst rank and -1
    everywhere: its partial readings say nothing about the query.
    """
    thresholds = thresholds or DEFAULT_THRESHOLDS
    failed = measurement.get("exit", 0) != 0
    result = collections.OrderedDict()
    for metric, limits in thresholds.items():
        if metric not in measurement:
            continue        # a metric the platform could not read is skipped, not scored
        if failed:
            result[metric] = [WORST, FAILED]
        else:
            result[metric] = [rank(measurement[metric], limits), measurement[metric]]
    return result


def regressions(old, new):
    """[(name, metric, old [rank, value], new [rank, value])] where `new` ranks worse than `old`.

    Queries or metrics missing from either report are not compared: a new query has no past to regress from.
    """
    found = []
    for name, metrics in new.items():
        before = old.get(name, {})
        for metric, now in metrics.items():
            if metric in before and now[0] > before[metric][0]:
                found.append((name, metric, before[metric], now))
    return found
