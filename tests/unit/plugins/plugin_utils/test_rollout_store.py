"""The rollout state directory: resume, lock per pack, atomic files (real files, real processes)."""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.pyosquery.fleet.plugins.plugin_utils import rollout_store
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_owner import owner_alive, owner_of
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_store import RolloutStore, StateError

DEFINITION = {
    "pack": {"name": "detection", "queries": {"ports": {"query": "select * from listening_ports", "interval": 60}}},
    "stages": [{"name": "canary", "hosts": "canary", "shard": None},
               {"name": "half", "hosts": "workstations", "shard": 50},
               {"name": "all", "hosts": "workstations", "shard": None}],
}
PROMOTE = {"decision": "promote", "reasons": []}
HOLD = {"decision": "hold", "reasons": ["host-3: unreachable (no data)"]}
ROLLBACK = {"decision": "rollback", "reasons": ["pack_detection_ports: p95 cpu 900 ms > budget 100 ms"]}


@pytest.fixture(name="store")
def store_fixture(tmp_path):
    return RolloutStore(str(tmp_path / "state"))


@pytest.fixture(name="me")
def me_fixture():
    return owner_of(os.getpid())


@pytest.fixture(name="dead")
def dead_fixture():
    """The owner of a run that ended: a process that existed and exited."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    pid = int(child.stdout)
    return {"pid": pid, "pid_start": 1, "host": owner_of(os.getpid())["host"]}


def other(**pack):
    """DEFINITION with the pack's keys changed."""
    changed = json.loads(json.dumps(DEFINITION))
    changed["pack"].update(pack)
    return changed


def test_a_new_rollout_starts_at_its_first_stage_and_takes_the_pack(store, me):
    state = store.open("r1", DEFINITION, me)
    assert (state["status"], state["stage"]) == ("running", 0)
    assert [s["status"] for s in state["stages"]] == ["pending"] * 3
    with open(store.lock_path("detection"), encoding="utf-8") as handle:
        lock = json.load(handle)
    assert lock["rollout_id"] == "r1" and lock["owner"] == me


def test_promoted_stages_are_not_run_again_by_an_interrupted_rollout(store, me, dead):
    store.open("r1", DEFINITION, dead)
    store.record_decision("r1", 0, PROMOTE)
    store.record_push("r1", 1, ["host-2"])  # interrupted in stage 2, after the push
    state = store.open("r1", DEFINITION, me)
    assert state["stage"] == 1
    assert [s["status"] for s in state["stages"]] == ["promoted", "pushed", "pending"]
    assert state["touched"] == ["host-2"]
    assert len(state["runs"]) == 2


def test_a_held_rollout_resumes_its_held_stage_with_the_first_baseline(store, me, dead):
    store.open("r1", DEFINITION, dead)
    store.record_decision("r1", 0, PROMOTE)
    store.record_baselines("r1", 1, {"host-2": {"collected_at": 1.0}})
    store.record_decision("r1", 1, HOLD)
    state = store.open("r1", DEFINITION, me)
    assert (state["status"], state["stage"]) == ("running", 1)
    state, baselines = store.record_baselines("r1", 1, {"host-2": {"collected_at": 9.0},
                                                        "host-3": {"collected_at": 9.5}})
    assert baselines == {"host-2": {"collected_at": 1.0}, "host-3": {"collected_at": 9.5}}
    assert state["stages"][1]["baseline_hosts"] == ["host-2", "host-3"]
    assert store.record_baselines("r1", 1, {})[1] == baselines  # no baselines: a read


def test_a_second_rollout_of_the_pack_is_refused_naming_the_first(store, me, dead):
    store.open("r1", DEFINITION, dead)
    store.record_decision("r1", 0, HOLD)
    with pytest.raises(StateError) as refused:
        store.open("r2", other(), me)
    message = str(refused.value)
    assert "pack 'detection' belongs to rollout 'r1'" in message
    assert "held at stage 'canary' (host-3: unreachable (no data))" in message
    assert "rollout_id=r1 rollout_mode=rollback" in message
    assert not os.path.exists(store.rollout_dir("r2"))


def test_a_running_rollout_refuses_a_second_run_and_a_second_rollout(store, me):
    store.open("r1", DEFINITION, me)
    stranger = owner_of(os.getppid())  # alive, but another process
    with pytest.raises(StateError, match=r"rollout 'r1' of pack 'detection' is running now \(pid %d" % me["pid"]):
        store.open("r1", DEFINITION, stranger)
    with pytest.raises(StateError, match=r"belongs to rollout 'r1', which is running now .*wait for it to end"):
        store.open("r2", DEFINITION, stranger)


def test_an_interrupted_rollout_is_named_as_such(store, me, dead):
    store.open("r1", DEFINITION, dead)
    with pytest.raises(StateError, match="which was interrupted at stage 'canary'"):
        store.open("r2", DEFINITION, me)


def test_a_rollback_needs_a_rollout_to_roll_back(store, me):
    with pytest.raises(StateError, match="rollout 'r9' has no state in .*: nothing to roll back"):
        store.open("r9", DEFINITION, me, mode="rollback")
    assert not os.path.exists(store.lock_path("detection"))


def test_another_pack_is_free(store, me):
    store.open("r1", DEFINITION, me)
    assert store.open("r2", other(name="inventory"), me)["pack"] == "inventory"


def test_a_changed_pack_does_not_resume_under_the_same_id(store, me, dead):
    store.open("r1", DEFINITION, dead)
    changed = other(queries={"ports": {"query": "select * from processes", "interval": 60}})
    with pytest.raises(StateError, match="rollout 'r1' was started with another pack or other stages"):
        store.open("r1", changed, me)
    # a rollback still works, and removes what the stored definition pushed
    state = store.open("r1", changed, me, mode="rollback")
    assert state["status"] == "rolling_back"
    assert state["definition"] == DEFINITION


def test_rollback_frees_the_pack_only_once_every_host_is_verified_clean(store, me, dead):
    store.open("r1", DEFINITION, dead)
    store.record_push("r1", 0, ["host-1", "host-8", "host-9"])
    store.record_decision("r1", 0, ROLLBACK)
    state = store.record_removal("r1", {
        "host-1": {"queries": {"pack_main_other": {}}, "failed": False},
        "host-8": {"queries": {"pack_detection_ports": {}}, "failed": True, "attempts": 5},
        "host-9": {"unreachable": True, "msg": "ssh: connect to host-9 port 22: No route to host"}})
    assert state["status"] == "rolling_back" and state["removal_pending"] == ["host-8", "host-9"]
    assert state["removal"] == {"host-1": None, "host-8": "still scheduled: pack_detection_ports",
                                "host-9": "unreachable: ssh: connect to host-9 port 22: No route to host"}
    store.close("r1")
    with pytest.raises(StateError, match=r"is rolling back \(removal not verified on host-8, host-9\)"):
        store.open("r2", DEFINITION, me)
    state = store.open("r1", DEFINITION, me)  # same id: carries on with the rollback
    assert state["status"] == "rolling_back"
    state = store.record_removal("r1", {"host-8": {"queries": {}}, "host-9": {"failed": True, "msg": "agent down"}})
    assert state["removal"]["host-9"] == "not verified: agent down" and state["status"] == "rolling_back"
    state = store.record_removal("r1", {"host-1": {"queries": {}}, "host-8": {"queries": {}},
                                        "host-9": {"queries": {}}})
    assert state["status"] == "rolled_back" and state["reason"] == ROLLBACK["reasons"][0]
    store.close("r1")
    assert not os.path.exists(store.lock_path("detection"))
    with pytest.raises(StateError, match="rollout 'r1' was rolled back .* start a new rollout id"):
        store.open("r1", DEFINITION, me)
    assert store.open("r2", DEFINITION, me)["status"] == "running"


def test_a_touched_host_outside_the_play_is_not_verified(store, me):
    store.open("r1", DEFINITION, me)
    store.record_push("r1", 0, ["host-1", "host-2"])
    state = store.record_removal("r1", {"host-1": {"queries": {}}})
    assert state["removal"]["host-2"] == "not in this play: the pack may still be there"


def test_the_failure_budget_spent_carries_over_stages(store, me, dead):
    store.open("r1", DEFINITION, dead)
    store.record_decision("r1", 0, dict(PROMOTE, failures={"total": 1}))
    assert store.open("r1", DEFINITION, me)["failures_spent"] == 1


def test_a_complete_rollout_frees_the_pack_and_stays_complete(store, me):
    store.open("r1", DEFINITION, me)
    for index in range(3):
        state = store.record_decision("r1", index, PROMOTE)
    assert (state["status"], state["stage"]) == ("complete", 3)
    store.close("r1", {"decision": "promote"}, "# done\n")
    assert not os.path.exists(store.lock_path("detection"))
    assert json.loads(open(os.path.join(store.rollout_dir("r1"), "report.json")).read()) == {"decision": "promote"}
    assert store.open("r1", DEFINITION, me)["status"] == "complete"
    assert not os.path.exists(store.lock_path("detection"))


def test_decisions_are_kept_per_stage(store, me):
    store.open("r1", DEFINITION, me)
    store.record_decision("r1", 0, PROMOTE)
    store.record_decision("r1", 1, HOLD)
    assert store.decisions("r1") == [PROMOTE, HOLD, None]
    stage_files = sorted(os.listdir(os.path.join(store.rollout_dir("r1"), "stages")))
    assert stage_files == ["01-canary", "02-half"]


@pytest.mark.parametrize("rollout_id", ["", "../etc", "a/b", ".hidden", "x" * 65])
def test_bad_rollout_ids_are_refused_by_name(store, me, rollout_id):
    with pytest.raises(StateError, match=r"rollout id %r: use 1-64 letters" % rollout_id):
        store.open(rollout_id, DEFINITION, me)


def test_bad_definitions_are_refused(store, me):
    with pytest.raises(StateError, match="pack name 'a b'"):
        store.open("r1", other(name="a b"), me)
    twice = other()
    twice["stages"][1]["name"] = "canary"
    with pytest.raises(StateError, match="names must be unique"):
        store.open("r1", twice, me)
    with pytest.raises(StateError, match="decision 'maybe' is none of promote, hold, rollback"):
        store.open("r1", DEFINITION, me)
        store.record_decision("r1", 0, {"decision": "maybe"})


def test_a_damaged_state_file_is_named(store, me):
    store.open("r1", DEFINITION, me)
    path = os.path.join(store.rollout_dir("r1"), "rollout.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{half")
    with pytest.raises(StateError, match="rollout.json: not valid JSON"):
        store.load("r1")


def test_a_failed_write_leaves_the_previous_file(store, me, monkeypatch):
    store.open("r1", DEFINITION, me)
    path = os.path.join(store.rollout_dir("r1"), "rollout.json")
    before = open(path, encoding="utf-8").read()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(rollout_store.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.record_decision("r1", 0, PROMOTE)
    monkeypatch.undo()
    assert open(path, encoding="utf-8").read() == before
    assert [n for n in os.listdir(os.path.dirname(path)) if n.startswith(".")] == []


def test_a_reused_pid_is_not_the_owner(me):
    assert owner_alive(me)
    assert not owner_alive(dict(me, pid_start=me["pid_start"] + 1))
    assert owner_alive(dict(me, host="another-controller"))


def test_a_killed_owner_left_a_zombie_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = owner_of(child.pid)
        assert owner_alive(owner)
        child.kill()
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)     # dead, not reaped: a zombie
        assert open("/proc/%d/stat" % child.pid).read().rsplit(")", 1)[1].split()[0] == "Z"
        assert not owner_alive(owner)
    finally:
        child.kill()
        child.wait()
