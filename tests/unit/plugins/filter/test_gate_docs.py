"""The gate's settings are documented where users read them: the README table and ansible-doc."""

import os

import yaml

from ansible_collections.pyosquery.fleet.plugins.filter import gate as gate_filter
from ansible_collections.pyosquery.fleet.plugins.module_utils.gate_settings import MIB, SETTINGS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def shown(key, value):
    if key.startswith(("memory", "output_bytes")):
        return "%d MiB" % (value // MIB) if value % MIB == 0 else "%d KiB" % (value // 1024)
    if key.endswith("_ms") or "_ms_" in key:
        return "%s ms" % value
    return str(value)


def test_the_readme_table_shows_every_setting_with_its_default_and_reason():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    for key, default, _kind, reason in SETTINGS:
        assert "| `%s` | %s | %s |" % (key, shown(key, default), reason) in readme


def test_the_filter_documentation_gives_every_default():
    budget = " ".join(yaml.safe_load(gate_filter.DOCUMENTATION)["options"]["budget"]["description"])
    for key, default, _kind, _reason in SETTINGS:
        assert "C(%s) %s" % (key, shown(key, default).replace(" ms", "")) in budget
