"""Statistics for judging a rollout: percentiles, the Mann-Whitney U test and effect sizes.

Pure functions over lists of numbers, standard library only (module_utils must also import on
the hosts' Python 3.9).

Percentiles use the nearest-rank definition: the p-th percentile of n values is the value at
rank ceil(p/100 * n) of the sorted values. It was chosen over linear interpolation because
  * every figure is a run that really happened, so a report can say which host and run it was,
    and a budget is compared with a measured cost, never a blend of two;
  * on the small samples a stage yields it errs on the high side (p95 of 10 runs is the
    largest), which is the safe side for a gate, while interpolation pulls tails down.
Fleet's own percentile rule (rank floor(p/100 * n) + 1) is there as FLEET for `impact`.
"""

import math
import statistics
from fractions import Fraction

NEAREST_RANK = "nearest-rank"
FLEET = "fleet"

GREATER = "greater"
LESS = "less"
TWO_SIDED = "two-sided"

# scipy.stats.mannwhitneyu's method="auto": the exact distribution when a sample has at most
# this many values and nothing is tied; the normal approximation otherwise
EXACT_MAX_SMALLER_SAMPLE = 8


def _numbers(values, what="values"):
    values = list(values)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError("%s: %r is not a number" % (what, value))
    return values


def percentile(values, p, rule=NEAREST_RANK):
    """The p-th percentile (0 < p <= 100) of `values`, always one of the values; None if empty."""
    values = sorted(_numbers(values))
    if not 0 < p <= 100:
        raise ValueError("percentile: p must be in (0, 100], got %r" % (p,))
    if not values:
        return None
    share = Fraction(str(p)) / 100 * len(values)      # exact: 0.95 * 20 must be 19, not 19.000...04
    if rule == NEAREST_RANK:
        rank = max(1, math.ceil(share))
    elif rule == FLEET:
        rank = math.floor(share) + 1
    else:
        raise ValueError("percentile: unknown rule %r" % (rule,))
    return values[min(rank, len(values)) - 1]


def summary(values):
    """{p50, p95, max} of `values` (nearest rank); every figure None when there are none."""
    values = _numbers(values)
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": max(values) if values else None}


def median(values):
    """The middle value (mean of the two middle ones for an even count); None if empty."""
    values = _numbers(values)
    return statistics.median(values) if values else None


def ranks(values):
    """1-based ranks of `values`, tied values sharing their average rank, and the tie group sizes."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    ties = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2.0 + 1
        if end > start:
            ties.append(end - start + 1)
        start = end + 1
    return result, ties


def u_distribution(m, n):
    """How many orderings of m x's and n y's give each U (0..m*n), with no ties.

    These are the coefficients of the Gaussian binomial [m+n choose m](q), the product over
    i = 1..m of (1 - q^(n+i)) / (1 - q^i), built one factor at a time in integers.
    """
    counts = [1] + [0] * (m * n)
    for i in range(1, m + 1):
        for u in range(m * n, n + i - 1, -1):       # times (1 - q^(n+i))
            counts[u] -= counts[u - n - i]
        for u in range(i, m * n + 1):               # divided by (1 - q^i)
            counts[u] += counts[u - i]
    return counts


def _exact_p(u, m, n, alternative):
    counts = u_distribution(m, n)
    total = sum(counts)
    at_least = sum(counts[int(u):]) / total
    at_most = sum(counts[:int(u) + 1]) / total
    if alternative == GREATER:
        return at_least
    if alternative == LESS:
        return at_most
    return min(1.0, 2 * min(at_least, at_most))


def _normal_p(u, m, n, ties, alternative):
    """Normal approximation with the tie correction of the variance and a continuity correction."""
    size = m + n
    variance = m * n / 12.0 * ((size + 1) - sum(t ** 3 - t for t in ties) / (size * (size - 1)))
    if variance <= 0:
        return 1.0, None                            # every value tied: no evidence either way
    mean = m * n / 2.0
    deviation = math.sqrt(variance)
    if alternative == GREATER:
        z = (u - mean - 0.5) / deviation
        return _upper_tail(z), z
    if alternative == LESS:
        z = (u - mean + 0.5) / deviation
        return _upper_tail(-z), z
    z = (abs(u - mean) - 0.5) / deviation
    return min(1.0, 2 * _upper_tail(z)), z


def _upper_tail(z):
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def mann_whitney_u(x, y, alternative=TWO_SIDED, method="auto"):
    """Mann-Whitney U test of x against y.

    alternative: "greater" (x tends to be larger), "less", or "two-sided".
    method: "exact" (no ties allowed), "normal", or "auto": exact when the smaller sample has at
    most 8 values and nothing is tied, normal otherwise (as scipy.stats.mannwhitneyu).
    Returns {u, n_x, n_y, p_value, method, z}; u counts the pairs where x is larger, ties as half.
    """
    x, y = _numbers(x, "x"), _numbers(y, "y")
    if not x or not y:
        raise ValueError("mann_whitney_u: both samples need values (got %d and %d)" % (len(x), len(y)))
    if alternative not in (GREATER, LESS, TWO_SIDED):
        raise ValueError("mann_whitney_u: unknown alternative %r" % (alternative,))
    m, n = len(x), len(y)
    rank_list, ties = ranks(x + y)
    u = sum(rank_list[:m]) - m * (m + 1) / 2.0
    if method == "auto":
        method = "exact" if min(m, n) <= EXACT_MAX_SMALLER_SAMPLE and not ties else "normal"
    if method == "exact":
        if ties:
            raise ValueError("mann_whitney_u: the exact method needs samples without ties")
        p_value, z = _exact_p(u, m, n, alternative), None
    elif method == "normal":
        p_value, z = _normal_p(u, m, n, ties, alternative)
    else:
        raise ValueError("mann_whitney_u: unknown method %r" % (method,))
    return {"u": u, "n_x": m, "n_y": n, "p_value": p_value, "method": method, "z": z}


def common_language(u, m, n):
    """Common-language effect size from U: P(an x exceeds a y), ties counted half. 0.5 = no effect."""
    return u / float(m * n)


def cliffs_delta(u, m, n):
    """Cliff's delta from U: P(x > y) - P(x < y), from -1 to 1. 0 = no effect."""
    return 2 * common_language(u, m, n) - 1


def median_shift(x, y):
    """How far x's median lies above y's, relative to y's: 0.25 = 25 % higher; None if y's is not > 0."""
    base = median(y)
    if base is None or base <= 0 or not x:
        return None
    return median(x) / base - 1


def compare(x, y, alternative=GREATER):
    """The Mann-Whitney U test of x against y with its effect sizes and both medians."""
    test = mann_whitney_u(x, y, alternative)
    m, n = test["n_x"], test["n_y"]
    test.update(median_x=median(x), median_y=median(y), median_shift=median_shift(x, y),
                common_language=common_language(test["u"], m, n), cliffs_delta=cliffs_delta(test["u"], m, n))
    return test
