"""roles/rollout: its argument specs and its defaults name the same variables with the same values."""

import os

import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "rollout")


def load(*path):
    with open(os.path.join(ROLE, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_argument_specs_equal_the_defaults():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load("defaults", "main.yml")
    assert {name: spec["default"] for name, spec in options.items() if "default" in spec} == defaults
    # the variables without a default are the required ones
    assert sorted(name for name, spec in options.items() if "default" not in spec) == \
        sorted(name for name, spec in options.items() if spec.get("required"))


def test_every_variable_has_the_role_prefix():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert [name for name in options if not name.startswith("rollout_")] == []
