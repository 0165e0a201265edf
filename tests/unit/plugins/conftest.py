"""Fixtures for the plugin tests: a real pyosqueryd, and modules run as Ansible runs them."""

import json
import os
import subprocess
import sys
import time

import pytest

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args
from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import AgentClient, AgentError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from daemon_harness import daemon_factory  # noqa: E402  pylint: disable=wrong-import-position,import-error


@pytest.fixture()
def daemons(tmp_path):
    """Make real pyosqueryd processes (tests/agent/daemon_harness.Daemon); all are stopped after the test."""
    with daemon_factory(tmp_path) as make:
        yield make


def wait_answering(path, timeout=30.0):
    """Wait until a daemon answers on `path`: its socket file appears before it serves, and can outlive it."""
    deadline = time.time() + timeout
    while True:
        try:
            with AgentClient(path) as client:
                return client.query("SELECT 1 AS up")
        except AgentError:
            assert time.time() < deadline, "no answer on %s within %s s" % (path, timeout)
            time.sleep(0.2)


@pytest.fixture()
def answering():
    return wait_answering


@pytest.fixture()
def run_module(capsys):
    """Run a module's main() with `args`, as AnsiballZ would; return (failed, result dict)."""
    def run(module, args):
        # AnsiballZ starts each run in a new process: no warnings left from an earlier run in this one
        for name in ("_global_warnings", "_global_deprecations"):
            getattr(module_warnings, name).clear()
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exit_info:
                module.main()
        result = json.loads(capsys.readouterr().out)
        return exit_info.value.code != 0, result
    return run


def collections_path():
    """The directory holding ansible_collections/pyosquery/fleet for this tree (ansible-test's copy, or the link)."""
    parent = os.path.dirname
    if ROOT.split(os.sep)[-3:] == ["ansible_collections", "pyosquery", "fleet"]:
        return parent(parent(parent(ROOT)))
    return os.path.join(ROOT, ".build", "collections")


@pytest.fixture()
def playbook(tmp_path):
    """Run a play (YAML text) against localhost with ansible-playbook; return (rc, output).

    `{out}` in the text is replaced by a file path; whatever the play writes there (JSON) is
    returned as `output`, else the command's stdout and stderr.
    """
    def run(text, *args):
        out = tmp_path / "out.json"
        path = tmp_path / "play.yml"
        path.write_text(text.replace("{out}", str(out)))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
        for name in ("ANSIBLE_CONFIG", "PYTHONPATH"):     # ansible-test units points PYTHONPATH at module-only code
            env.pop(name, None)
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                   "-c", "local", str(path)] + list(args)
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
        if out.exists():
            return done.returncode, json.loads(out.read_text())
        return done.returncode, done.stdout + done.stderr
    return run
