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


def interleaved_ms(ours, peer, rounds):
    """(our median ms, the peer's median ms, each round's ratio) of `rounds` rounds of one run each,
    ours then the peer's, so load on the machine weighs on both sides of every ratio."""
    mine, theirs = [], []
    for _round in range(rounds):
        for action, times in ((ours, mine), (peer, theirs)):
            start = time.perf_counter()
            action()
            times.append((time.perf_counter() - start) * 1000)
    ratios = [a / b for a, b in zip(mine, theirs)]
    return statistics.median(mine), statistics.median(theirs), ratios


def ratio_text(ratios):
    """`median (min-max)` of per-round ratios."""
    return "%.2f (%.2f-%.2f)" % (statistics.median(ratios), min(ratios), max(ratios))
