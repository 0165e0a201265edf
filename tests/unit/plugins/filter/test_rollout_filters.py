"""The rollout role's filters: rollout_plan's errors as filter errors, rollout_soaked's default soak."""

import copy

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.filter.rollout_plan import rollout_plan
from ansible_collections.pyosquery.fleet.plugins.filter.rollout_soaked import rollout_soaked
from ansible_collections.pyosquery.fleet.tests.unit.plugins.plugin_utils import test_rollout_plan as plans
from ansible_collections.pyosquery.fleet.tests.unit.plugins.plugin_utils import test_rollout_soak as polls


def test_a_bad_plan_is_a_filter_error_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match=r"rollout_stages: give a list of stages"):
        rollout_plan(copy.deepcopy(plans.PACK), [], [], plans.DEFAULTS)


def test_without_soak_min_a_host_soaks_as_soon_as_its_runs_are_there():
    assert rollout_soaked(polls.poll(after=0), polls.INTERVALS, 3) is True
    # a poll from before the baseline (the host's clock went back) has not soaked for 0 s
    assert rollout_soaked(polls.poll(after=-0.5), polls.INTERVALS, 3) is False
