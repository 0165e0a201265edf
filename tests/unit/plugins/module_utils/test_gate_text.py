"""The gate's figures in words: the units and precision its reasons show."""

from ansible_collections.pyosquery.fleet.plugins.module_utils import gate_text as text


def test_milliseconds_keep_a_decimal_below_ten():
    assert [text.milliseconds(value) for value in (None, 0.25, 9.5, 10, 3100)] == \
        ["n/a", "0.2 ms", "9.5 ms", "10 ms", "3,100 ms"]


def test_shares_keep_a_decimal_below_a_tenth():
    assert [text.share(value) for value in (0.05, 0.07, 0.25)] == ["5.0 %", "7.0 %", "25 %"]
    assert [text.cpu_share(value) for value in (0.005, 0.01, 0.02, 0.25)] == \
        ["0.50 % of a CPU", "1.0 % of a CPU", "2.0 % of a CPU", "25.0 % of a CPU"]


def test_a_listing_counts_only_what_it_leaves_out():
    assert text.listing(["a", "b"], limit=2) == "a; b"
    assert text.listing(["a", "b", "c"], limit=2) == "a; b; and 1 more"
    assert text.listing("abcdefg") == "a; b; c; d; e; and 2 more"      # hosts missing data: five named


def test_sizes_change_unit_at_the_unit():
    assert [text.size(value) for value in (None, 1023, 1024, 1024 * 1024 - 1, 1024 * 1024)] == \
        ["n/a", "1023 B", "1.0 KiB", "1024.0 KiB", "1.0 MiB"]
