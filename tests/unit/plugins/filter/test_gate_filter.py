"""The gate filter: the judgement of module_utils/gate.py, errors as Ansible filter errors."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.filter.gate import FilterModule, gate
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, cost


def test_decides_and_reports_through_the_filter():
    agent = FakeAgent("host-1")
    agent.add("pack_base_procs", 10, cost(cpu_ms=5))
    agent.tick(600)
    baseline = agent.read()
    agent.add("pack_rollout_users", 20, cost(cpu_ms=6000, wall_ms=6100))
    agent.tick(300)
    decision = gate({"host-1": agent.read(since=baseline)}, {"host-1": baseline}, queries=["pack_rollout_users"])
    assert decision["decision"] == "rollback"
    assert decision["per_query"]["pack_rollout_users"]["impact"] == "Excessive"
    assert decision["failures"]["spent_before"] == 0        # the first stage: no failure spent yet


def test_bad_input_is_an_ansible_filter_error():
    with pytest.raises(AnsibleFilterError, match="gate: budget.cpu: unknown setting"):
        gate({}, queries=["pack_x_y"], budget={"cpu": 1})
    with pytest.raises(AnsibleFilterError, match="gate: currents: expected a mapping"):
        gate(["host-1"], queries=["pack_x_y"])


def test_registered_under_its_name():
    assert FilterModule().filters() == {"gate": gate}
