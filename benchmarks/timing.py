"""How long a call takes: the median of repeated runs, in milliseconds."""

import resource
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


def children_cpu():
    """CPU seconds (user + system) of this process's waited-for children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def interleaved_ms(ours, peer, rounds, ours_cpu=time.process_time, peer_cpu=time.process_time):
    """Rounds of one run each, ours then the peer's, so load on the machine weighs on both sides
    of every ratio: {"wall": ..., "cpu": ...}, each (our median ms, the peer's median ms, each
    round's ratio). CPU is user + system time read from `ours_cpu` and `peer_cpu` (seconds):
    by default this process's, which the machine's load changes far less than wall time."""
    times = {("wall", 0): [], ("wall", 1): [], ("cpu", 0): [], ("cpu", 1): []}
    for _round in range(rounds):
        for side, (action, cpu) in enumerate(((ours, ours_cpu), (peer, peer_cpu))):
            start, start_cpu = time.perf_counter(), cpu()
            action()
            times[("wall", side)].append((time.perf_counter() - start) * 1000)
            times[("cpu", side)].append((cpu() - start_cpu) * 1000)
    result = {}
    for kind in ("wall", "cpu"):
        mine, theirs = times[(kind, 0)], times[(kind, 1)]
        result[kind] = (statistics.median(mine), statistics.median(theirs), [a / b for a, b in zip(mine, theirs)])
    return result


def ratio_text(ratios):
    """`median (min-max)` of per-round ratios."""
    return "%.2f (%.2f-%.2f)" % (statistics.median(ratios), min(ratios), max(ratios))
