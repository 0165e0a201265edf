"""The gate's figures in words: the units and precision its reasons show."""

from ansible_collections.pyosquery.fleet.plugins.module_utils import gate_text as text


def test_milliseconds_keep_a_decimal_below_ten():
    assert [text.milliseconds(value) for value in (None, 0.25, 9.5, 10, 3100)] == \
        ["n/a", "0.2 ms", "9.5 ms", "10 ms", "3,100 ms"]
