"""The agent's console scripts are installed and each one reports the package version."""

import os
import re
import subprocess
import sys

import pytest

import pyosquery

PYPROJECT = os.path.join(os.path.dirname(__file__), "..", "..", "files", "agent", "pyproject.toml")


def console_scripts():
    """Names in [project.scripts] of the agent's pyproject.toml."""
    with open(PYPROJECT, encoding="utf-8") as handle:
        text = handle.read()
    section = re.search(r"^\[project\.scripts\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert section, "pyproject.toml has no [project.scripts]"
    return re.findall(r"^([A-Za-z0-9_.-]+)\s*=", section.group(1), re.M)


def test_the_four_commands_of_the_design_are_declared():
    assert set(console_scripts()) >= {"pyosqueryd", "pyosqueryi", "pyosqueryctl", "pyosquery-profile"}


@pytest.mark.parametrize("script", console_scripts())
def test_console_script_prints_the_package_version(script):
    # installed next to the interpreter that runs the tests (.venv/bin by `make venv`)
    path = os.path.join(os.path.dirname(sys.executable), script)
    assert os.access(path, os.X_OK), "%s is not installed (run make venv)" % path
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"(^|\s)%s(\s|$)" % re.escape(pyosquery.__version__), done.stdout + done.stderr), (
        "%s --version printed %r" % (script, done.stdout + done.stderr))
