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


def test_the_readmes_group_vars_example_is_what_molecule_deploys():
    """The README's example is the one molecule deploys and checks on the hosts."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    example = re.search(r"```yaml\n(# group_vars/all\.yml.*?)```", readme, re.S).group(1)
    deployed = {}
    folder = os.path.join(ROOT, "molecule", "default", "inventory_group_vars")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            deployed.update(yaml.safe_load(handle))
    assert yaml.safe_load(example) == deployed
