"""rollout_state as Ansible runs it: real ansible-playbook processes sharing one state directory.

The owner of a run is the ansible-playbook process; a run that is alive refuses a second one,
a run that was killed leaves a rollout that resumes under its id and is named to others.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import ansible_collections.pyosquery.fleet

# the directory that holds ansible_collections/ (a link to the work tree, or ansible-test's copy)
COLLECTIONS = os.path.abspath(os.path.join(list(ansible_collections.pyosquery.fleet.__path__)[0], "..", "..", ".."))

PLAYBOOK = """
- name: One run of a rollout, as far as its state goes
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Open the rollout
      pyosquery.fleet.rollout_state:
        state_dir: "{{ state_dir }}"
        rollout_id: "{{ rollout_id }}"
        step: open
        definition:
          pack: {name: detection, queries: {ports: {query: "select 1", interval: 10}}}
          stages: [{name: canary, hosts: canary}, {name: rest, hosts: fleet}]
      register: opened

    - name: Promote the first stage (another task, so another worker process of this run)
      pyosquery.fleet.rollout_state:
        state_dir: "{{ state_dir }}"
        rollout_id: "{{ rollout_id }}"
        step: decision
        stage_index: 0
        decision: {decision: promote, reasons: []}
      when: opened.state.stage == 0

    - name: Stay here while the test looks
      ansible.builtin.wait_for:
        path: "{{ release }}"
        timeout: 60
      when: release | default('') | length > 0

    - name: Close the run
      pyosquery.fleet.rollout_state:
        state_dir: "{{ state_dir }}"
        rollout_id: "{{ rollout_id }}"
        step: close
      register: closed

    - name: Hand the report to the test
      ansible.builtin.copy:
        content: "{{ closed | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


@pytest.fixture(name="run")
def run_fixture(tmp_path):
    playbook = tmp_path / "run.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    env.pop("ANSIBLE_CONFIG", None)
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

    def start(rollout_id, release=""):
        extra = {"state_dir": str(tmp_path / "state"), "rollout_id": rollout_id, "release": release,
                 "out": str(tmp_path / ("%s.json" % rollout_id)), "ansible_python_interpreter": sys.executable}
        return subprocess.Popen([binary, "-i", "localhost,", "-c", "local", str(playbook), "-e", json.dumps(extra)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return start


def finish(process):
    output = process.communicate(timeout=120)[0]
    return process.returncode, output


def wait_for_owner(state_file, pid):
    for _attempt in range(300):
        if os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                state = json.load(handle)
            if state["owner"]["pid"] == pid and state["stages"][0]["status"] == "promoted":
                return state
        time.sleep(0.1)
    raise AssertionError("the first run never recorded its promotion")


def test_runs_share_an_owner_refuse_each_other_and_resume_after_a_kill(tmp_path, run):
    first = run("r1", release=str(tmp_path / "release"))
    state = wait_for_owner(str(tmp_path / "state" / "r1" / "rollout.json"), first.pid)
    assert state["status"] == "running"

    code, output = finish(run("r1"))
    assert code == 2 and "rollout 'r1' of pack 'detection' is running now (pid %d" % first.pid in output
    code, output = finish(run("r2"))
    assert code == 2 and "pack 'detection' belongs to rollout 'r1', which is running now" in output

    first.send_signal(signal.SIGKILL)
    first.wait()
    code, output = finish(run("r2"))
    assert code == 2 and "which was interrupted at stage 'rest'" in output

    code, output = finish(run("r1"))
    assert code == 0, output
    with open(tmp_path / "r1.json", encoding="utf-8") as handle:
        closed = json.load(handle)
    assert [r["from_stage"] for r in closed["state"]["runs"]] == [0, 1]
    assert closed["report"]["stages"][0]["status"] == "promoted"
    assert closed["state"]["status"] == "running"  # stage 2 not decided: the next run resumes there
