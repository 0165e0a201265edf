"""Percentiles, the Mann-Whitney U test and effect sizes against known values.

Known values: small cases worked by hand, and p-values that scipy.stats.mannwhitneyu (1.17.1,
method="auto") gives for the same samples, taken while writing these tests (scipy is not a
dependency of the collection).
"""

import pytest

from ansible_collections.pyosquery.fleet.plugins.module_utils import stats


# percentiles

def test_nearest_rank_is_always_a_measured_value():
    values = [15, 20, 35, 40, 50]
    assert [stats.percentile(values, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]


def test_p95_of_twenty_values_is_the_nineteenth_not_the_twentieth():
    # 0.95 * 20 is 19 exactly; float arithmetic would make it 19.000000000000004 and round up
    assert stats.percentile(list(range(1, 21)), 95) == 19


def test_p95_of_a_small_sample_is_its_largest_value():
    assert stats.percentile([3, 1, 2, 9, 4, 5, 6, 7, 8, 1], 95) == 9


def test_fleet_rule_takes_the_upper_middle_of_an_even_count():
    # Fleet: rank floor(0.5 * n) + 1; nearest rank: ceil(0.5 * n)
    assert stats.percentile([10, 20, 30, 40], 50, stats.FLEET) == 30
    assert stats.percentile([10, 20, 30, 40], 50) == 20
    assert stats.percentile([10, 20, 30], 50, stats.FLEET) == 20
    assert stats.percentile([7], 95, stats.FLEET) == 7


def test_percentile_of_nothing_is_none():
    assert stats.percentile([], 95) is None
    assert stats.summary([]) == {"p50": None, "p95": None, "max": None}


def test_summary():
    assert stats.summary([5, 1, 4, 2, 3]) == {"p50": 3, "p95": 5, "max": 5}


@pytest.mark.parametrize("bad", [0, -5, 101])
def test_percentile_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="p must be in"):
        stats.percentile([1, 2], bad)


def test_a_value_that_is_not_a_number_is_named():
    with pytest.raises(ValueError, match="'12' is not a number"):
        stats.percentile([1, "12"], 50)
    with pytest.raises(ValueError, match="nan is not a number"):
        stats.summary([float("nan")])


# ranks and the exact distribution

def test_ties_share_their_average_rank():
    assert stats.ranks([10, 20, 20, 30, 20]) == ([1.0, 3.0, 3.0, 5.0, 3.0], [3])


def test_u_distribution_counts_every_ordering():
    assert stats.u_distribution(2, 2) == [1, 1, 2, 1, 1]
    assert stats.u_distribution(1, 3) == [1, 1, 1, 1]
    counts = stats.u_distribution(6, 9)
    assert sum(counts) == 5005                      # 15 choose 6
    assert counts == counts[::-1]                   # symmetric around m*n/2


# Mann-Whitney U

def test_separated_samples_exact_by_hand():
    # x above every y: U = 9 of 9 pairs, and 1 of the 20 orderings is that extreme
    result = stats.mann_whitney_u([4, 5, 6], [1, 2, 3], stats.GREATER)
    assert (result["u"], result["method"]) == (9, "exact")
    assert result["p_value"] == pytest.approx(0.05)
    assert stats.mann_whitney_u([4, 5, 6], [1, 2, 3])["p_value"] == pytest.approx(0.10)
    assert stats.mann_whitney_u([4, 5, 6], [1, 2, 3], stats.LESS)["p_value"] == pytest.approx(1.0)


@pytest.mark.parametrize("alternative, p_value", [
    ("two-sided", 0.022186221654755874), ("greater", 0.9907001743296432), ("less", 0.011093110827377937)])
def test_ties_use_the_normal_approximation_with_tie_and_continuity_corrections(alternative, p_value):
    x = [1, 2, 2, 3, 3, 3, 4, 5, 9, 10]
    y = [3, 4, 4, 5, 6, 6, 7, 8, 8, 11, 12, 12]
    result = stats.mann_whitney_u(x, y, alternative)
    assert (result["u"], result["method"]) == (25, "normal")
    assert result["p_value"] == pytest.approx(p_value, rel=1e-12)


@pytest.mark.parametrize("alternative, p_value", [
    ("two-sided", 0.00024612812790522973), ("greater", 0.00012306406395261486), ("less", 0.9999086641044452)])
def test_larger_samples_without_ties_use_the_normal_approximation(alternative, p_value):
    x = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5]
    result = stats.mann_whitney_u(x, y, alternative)
    assert (result["u"], result["method"]) == (99, "normal")
    assert result["p_value"] == pytest.approx(p_value, rel=1e-12)


@pytest.mark.parametrize("alternative, p_value", [
    ("two-sided", 0.016433566433566436), ("greater", 0.9942307692307693), ("less", 0.008216783216783218)])
def test_a_sample_of_at_most_eight_without_ties_is_exact(alternative, p_value):
    x = [1, 2, 3, 4, 5, 6, 7]
    y = [2.5, 3.5, 10, 11, 12, 13, 14, 15, 16]
    result = stats.mann_whitney_u(x, y, alternative)
    assert (result["u"], result["method"]) == (9, "exact")
    assert result["p_value"] == pytest.approx(p_value, rel=1e-12)
    # the normal approximation would have said 0.0199 two-sided
    assert stats.mann_whitney_u(x, y, method="normal")["p_value"] == pytest.approx(0.019873535690821748, rel=1e-12)


def test_all_values_tied_is_no_evidence():
    result = stats.mann_whitney_u([5, 5, 5], [5, 5, 5, 5], stats.GREATER)
    assert (result["u"], result["p_value"], result["z"]) == (6, 1.0, None)


def test_exact_method_refuses_ties():
    with pytest.raises(ValueError, match="without ties"):
        stats.mann_whitney_u([1, 2], [2, 3], method="exact")


def test_empty_sample_is_refused():
    with pytest.raises(ValueError, match="both samples need values"):
        stats.mann_whitney_u([], [1])


def test_unknown_alternative_is_refused():
    with pytest.raises(ValueError, match="unknown alternative"):
        stats.mann_whitney_u([1], [2], "bigger")


# effect sizes

def test_effect_sizes_from_u():
    # 12 pairs: x larger in 7, smaller in 4, tied in 1 (5 against 5) -> U = 7.5
    u = stats.mann_whitney_u([3, 5, 7], [1, 2, 5, 8])["u"]
    assert u == 7.5
    assert stats.cliffs_delta(u, 3, 4) == pytest.approx((7 - 4) / 12)
    assert stats.common_language(u, 3, 4) == pytest.approx(7.5 / 12)


def test_median_shift_is_relative_to_the_second_sample():
    assert stats.median_shift([12, 12, 13], [10, 10, 11]) == pytest.approx(0.2)
    assert stats.median_shift([1, 2], [0, 0]) is None


def test_compare_reports_the_test_and_its_effect():
    result = stats.compare([11, 12, 13, 14, 15], [1, 2, 3, 4, 5])
    assert result["p_value"] == pytest.approx(1 / 252)          # one of 10-choose-5 orderings
    assert (result["cliffs_delta"], result["common_language"]) == (1.0, 1.0)
    assert (result["median_x"], result["median_y"], result["median_shift"]) == (13, 3, pytest.approx(10 / 3))


# edges found by `make mutate` (tests/README.md)

def test_a_percentile_below_one_is_allowed():
    assert stats.percentile([3, 1, 2], 0.5) == 1


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="unknown rule 'median'"):
        stats.percentile([1, 2], 50, "median")


def test_summary_takes_the_50th_and_95th_percentiles():
    values = list(range(1, 101))
    assert stats.summary(values) == {"p50": 50, "p95": 95, "max": 100}


def test_eight_values_are_exact_nine_normal():
    # the smaller sample decides: 8 values exact, 9 the normal approximation (scipy's "auto")
    assert stats.mann_whitney_u(list(range(8)), list(range(10, 20)))["method"] == "exact"
    assert stats.mann_whitney_u(list(range(9)), list(range(10, 20)))["method"] == "normal"


def test_a_two_sided_p_value_stops_at_one():
    # U exactly in the middle: both tails hold more than half of the orderings (exact) or of the area
    assert stats.mann_whitney_u([1, 4], [2, 3])["p_value"] == 1.0
    assert stats.mann_whitney_u([1, 4], [2, 3], method="normal")["p_value"] == 1.0


def test_one_value_each_still_has_a_normal_approximation():
    # variance m*n/12*(m+n+1) = 0.25: small, but not zero
    result = stats.mann_whitney_u([2], [1], stats.GREATER, method="normal")
    assert (result["z"], result["p_value"]) == (0.0, 0.5)


def test_median_shift_over_a_median_below_one():
    assert stats.median_shift([1], [0.5]) == pytest.approx(1.0)


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="unknown method 'bootstrap'"):
        stats.mann_whitney_u([1], [2], method="bootstrap")
