"""How long a call takes: the median of repeated runs, in milliseconds."""

import statistics
import time


def median_ms(action, runs):
    """Median wall ms of `runs` calls of `action()`."""
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
