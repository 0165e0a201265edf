"""roles/agent: meta/argument_specs.yml documents exactly defaults/main.yml, and the default version is the shipped agent's."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "agent")


def load(*parts):
    with open(os.path.join(ROLE, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_argument_specs_equal_the_defaults():
    defaults = load("defaults", "main.yml")
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults)
    assert {name: spec.get("default") for name, spec in options.items()} == defaults


def test_every_public_variable_has_the_role_prefix_and_a_description():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        assert name.startswith("agent_"), name
        assert spec.get("description") and spec.get("type"), name


def test_the_default_version_is_the_agent_that_ships_here():
    with open(os.path.join(ROOT, "files", "agent", "pyproject.toml"), encoding="utf-8") as handle:
        shipped = re.search(r'^version\s*=\s*"([^"]+)"', handle.read(), re.M).group(1)
    assert load("defaults", "main.yml")["agent_version"] == shipped
