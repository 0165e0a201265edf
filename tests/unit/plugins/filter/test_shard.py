"""The shard filter agrees with the agent's own machine shard."""

import os
import random
import string
import sys

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.filter.shard import FilterModule, shard

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
sys.path.insert(0, os.path.join(ROOT, "files", "agent"))     # the agent's source, as shipped in the collection

from pyosquery.config.shard import machine_shard  # noqa: E402  pylint: disable=wrong-import-position

NAME_CHARACTERS = string.ascii_letters + string.digits + "-._"


def random_hostnames(count, seed=20240521):
    chooser = random.Random(seed)
    return ["".join(chooser.choices(NAME_CHARACTERS, k=chooser.randint(1, 63))) for name in range(count)]


def test_agrees_with_the_agent_on_10000_random_hostnames():
    names = random_hostnames(10000)
    assert [shard(name) for name in names] == [machine_shard(name) for name in names]


def test_random_hostnames_cover_every_shard():
    # the agreement above means something only if the names reach the whole range
    assert {shard(name) for name in random_hostnames(10000)} == set(range(101))


@pytest.mark.parametrize("name", [
    "", " ", "\t\n", "host-1", " host-1 ", "host-1\n", "\u00a0host-1\u2003",   # no-break and em spaces
    "h\u00f6st.example.com", "\u30db\u30b9\u30c8", "\U0001f600", "x" * 255, "HOST-1", "host 1",
])
def test_agrees_with_the_agent_on_odd_names(name):
    assert shard(name) == machine_shard(name)


def test_known_values_from_osquery():
    # computed from osquery's getMachineShard (sha1 first byte * 100 // 255)
    assert [shard(name) for name in ("localhost", "localhost.localdomain", "osquery.example.com", "host1")] == \
        [20, 6, 5, 89]


def test_surrounding_whitespace_is_trimmed():
    assert shard("  localhost\n") == shard("localhost") == 20


@pytest.mark.parametrize("value", [None, 42, ["host-1"], b"host-1"])
def test_a_value_that_is_not_a_hostname_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="shard: expected a hostname string"):
        shard(value)


def test_a_name_that_utf8_cannot_encode_is_refused_as_the_agent_refuses_it():
    name = "host-\udcff"           # what os.fsdecode makes of a hostname byte that is not UTF-8
    with pytest.raises(UnicodeEncodeError):
        machine_shard(name)
    with pytest.raises(AnsibleFilterError, match="cannot be encoded as UTF-8"):
        shard(name)


def test_registered_under_its_name():
    assert FilterModule().filters() == {"shard": shard}
