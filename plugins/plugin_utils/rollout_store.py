# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rollout's state on the controller: one directory per rollout id, one lock per pack.

Layout under the state dir:

    locks/<pack>.json                    which rollout owns the pack, and which process runs it
    <rollout id>/rollout.json            status, stage reached, stages, hosts touched, runs
    <rollout id>/stages/NN-<stage>/baseline.json, decision.json
                                         (attempt-N.*.json: a soak that rolled queries back alone)
    <rollout id>/report.json, report.md

Every file is replaced atomically (rollout_files), so an interrupted run leaves either the old
or the new version, never half of one. The lock lives
as long as the rollout, not the process: a held or interrupted rollout keeps its pack, so a
second rollout of that pack is refused with a message naming the first, until the first
finishes, is resumed to its end, or is rolled back. A process id (with its start time, so a
reused pid does not count) tells a running rollout from an interrupted one.
"""

import datetime
import hashlib
import json
import os
import re

from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_files import (
    StateError, guarded, read_json, write_json, write_text)
from ansible_collections.pyosquery.fleet.plugins.plugin_utils.rollout_owner import owner_alive, same_owner

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PACK_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

# rollout status -> what a run with the same id does next
RUNNING, HELD, COMPLETE = "running", "held", "complete"
ROLLING_BACK, ROLLED_BACK = "rolling_back", "rolled_back"
DROPPING = "dropping"  # removing the queries a stage rolled back alone, then that stage again
FINAL = (COMPLETE, ROLLED_BACK)
DECISION_STATUS = {"promote": "promoted", "hold": "held", "rollback": "rollback", "partial_rollback": DROPPING}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(definition):
    """A short digest of what must not change while a rollout id lives (pack, stages)."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def stage_dir_name(index, name):
    return "%02d-%s" % (index + 1, re.sub(r"[^A-Za-z0-9_.-]", "_", name))


class RolloutStore:
    """The state directory. Every method takes the rollout id; open() must come first in a run."""

    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(os.path.expanduser(state_dir))

    # -- paths

    def rollout_dir(self, rollout_id):
        if not ID_PATTERN.match(rollout_id or ""):
            raise StateError(
                "rollout id %r: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
                % (rollout_id,))
        return os.path.join(self.state_dir, rollout_id)

    def lock_path(self, pack):
        if not PACK_PATTERN.match(pack or ""):
            raise StateError("pack name %r: use 1-64 letters, digits, '_' or '-', starting with a letter or digit"
                             % (pack,))
        return os.path.join(self.state_dir, "locks", pack + ".json")

    def stage_path(self, rollout_id, state, index, filename):
        stage = state["stages"][index]
        return os.path.join(self.rollout_dir(rollout_id), "stages", stage_dir_name(index, stage["name"]), filename)

    # -- reading

    def load(self, rollout_id):
        state = read_json(os.path.join(self.rollout_dir(rollout_id), "rollout.json"))
        if state is None:
            raise StateError("rollout %r has no state in %s" % (rollout_id, self.state_dir))
        return state

    def decisions(self, rollout_id):
        """Every stage's decision object recorded so far, in stage order (None where none yet)."""
        state = self.load(rollout_id)
        return [read_json(self.stage_path(rollout_id, state, i, "decision.json")) for i in range(len(state["stages"]))]

    def earlier_decisions(self, rollout_id):
        """Per stage, the decision objects of its soaks that rolled queries back alone, oldest first."""
        state = self.load(rollout_id)
        return [[read_json(self.stage_path(rollout_id, state, i, attempt_file(number, "decision.json")))
                 for number in range(1, len(stage.get("attempts", [])) + 1)]
                for i, stage in enumerate(state["stages"])]

    # -- the lock and opening a run

    def open(self, rollout_id, definition, owner, mode="run"):
        """Start or resume ROLLOUT_ID as OWNER; returns the state. Raises StateError to refuse.

        DEFINITION is what must not change while the id lives: {"pack": {"name", "queries", ...},
        "stages": [{"name", ...}, ...]}. MODE "rollback" turns the rollout into a rollback of
        what it pushed, whatever its status (the role then removes the stored pack's queries).
        """
        pack = (definition.get("pack") or {}).get("name")
        names = [stage.get("name") for stage in definition.get("stages") or []]
        rollout_dir = self.rollout_dir(rollout_id)
        lock_path = self.lock_path(pack)
        if not names or len(set(names)) != len(names):
            raise StateError("stages: at least one is needed and their names must be unique, got %r" % (names,))
        with guarded(os.path.dirname(lock_path)):  # one opener at a time: check-and-take is atomic
            state = read_json(os.path.join(rollout_dir, "rollout.json"))
            self._check_lock(read_json(lock_path), rollout_id, pack, state, owner)
            if state:
                check_resume(state, rollout_id, pack, definition, mode)
            elif mode == "rollback":
                raise StateError("rollout %r has no state in %s: nothing to roll back" % (rollout_id, self.state_dir))
            else:
                state = new_state(rollout_id, pack, definition, names)
            if mode == "rollback" and state["status"] != ROLLED_BACK:
                state["status"] = ROLLING_BACK
                state["reason"] = "rolled back by the operator (rollout_mode=rollback)"
            elif state["status"] == HELD:
                state["status"] = RUNNING  # a held stage runs again from its baseline
            state["owner"] = owner
            state["runs"].append({"started": now_iso(), "mode": mode, "pid": owner.get("pid"),
                                  "from_stage": state["stage"]})
            state["updated"] = now_iso()
            write_json(os.path.join(rollout_dir, "rollout.json"), state)
            if state["status"] not in FINAL:
                write_json(lock_path, {"rollout_id": rollout_id, "pack": pack, "owner": owner,
                                       "since": state["created"]})
        return state

    def _check_lock(self, lock, rollout_id, pack, state, owner):
        if lock and lock.get("rollout_id") != rollout_id:
            other = read_json(os.path.join(self.rollout_dir(lock["rollout_id"]), "rollout.json"), {})
            raise StateError(refusal(pack, lock, other))
        if state and state.get("status") not in FINAL and owner_alive(state.get("owner")) \
                and not same_owner(state.get("owner"), owner):
            raise StateError(
                "rollout %r of pack %r is running now (pid %s on %s, since %s, stage %d of %d): wait for it to end"
                % (rollout_id, pack, state["owner"].get("pid"), state["owner"].get("host"), state["updated"],
                   state["stage"] + 1, len(state["stages"])))

    # -- recording progress

    def _update(self, rollout_id, change):
        path = os.path.join(self.rollout_dir(rollout_id), "rollout.json")
        state = self.load(rollout_id)
        change(state)
        state["updated"] = now_iso()
        write_json(path, state)
        return state

    def record_baselines(self, rollout_id, index, baselines):
        """Add the hosts' baselines for stage INDEX (hosts already recorded keep their first baseline).

        Returns the state and every baseline recorded for the stage; with no BASELINES it only reads.
        """
        state = self.load(rollout_id)
        path = self.stage_path(rollout_id, state, index, "baseline.json")
        merged = read_json(path, {})
        if not baselines:
            return state, merged
        merged.update({host: result for host, result in baselines.items() if host not in merged})
        write_json(path, merged, pretty=False)

        def change(state):
            stage = state["stages"][index]
            stage.setdefault("started", now_iso())
            stage["baseline_hosts"] = sorted(merged)
            if stage["status"] == "pending":
                stage["status"] = "baselined"
        return self._update(rollout_id, change), merged

    def record_push(self, rollout_id, index, hosts):
        """Write-ahead, before the pack goes out: these hosts may hold the rollout's queries from now on."""
        def change(state):
            state["touched"] = sorted(set(state["touched"]) | set(hosts))
            stage = state["stages"][index]
            stage["pushed_to"] = sorted(set(stage.get("pushed_to", [])) | set(hosts))
            if stage["status"] in ("pending", "baselined", "held"):
                stage["status"] = "pushed"
        return self._update(rollout_id, change)

    def record_decision(self, rollout_id, index, decision):
        """The gate's decision object for stage INDEX; moves the rollout on, holds it, or starts its rollback."""
        verdict = decision.get("decision")
        if verdict not in DECISION_STATUS:
            raise StateError("stage %d: decision %r is none of promote, hold, rollback" % (index + 1, verdict))
        state = self.load(rollout_id)
        write_json(self.stage_path(rollout_id, state, index, "decision.json"), decision)

        def change(state):
            stage = state["stages"][index]
            stage.update(status=DECISION_STATUS[verdict], decided=now_iso(),
                         reasons=list(decision.get("reasons") or []))
            state["reason"] = None if verdict == "promote" else " ".join(stage["reasons"]) or None
            state["failures_spent"] = (decision.get("failures") or {}).get("total", state.get("failures_spent", 0))
            if verdict == "promote":
                state["stage"] = index + 1
                state["status"] = COMPLETE if index + 1 == len(state["stages"]) else RUNNING
            else:
                state["stage"] = index
                state["status"] = {"hold": HELD, "rollback": ROLLING_BACK, "partial_rollback": DROPPING}[verdict]
            if verdict == "partial_rollback":
                dropping = dropped_entries(state, stage, decision)
                state["dropped"] = dict(state.get("dropped") or {}, **dropping)
                stage["rolling_back"] = sorted(dropping)
        return self._update(rollout_id, change)

    def record_removal(self, rollout_id, results):
        """The removal, checked per host from RESULTS ({host: registered schedule_info result}).

        The rollout is rolled back once no host it touched still has one of its queries scheduled;
        until then its pack stays locked and the same id carries on with the rollback. While
        DROPPING, only the queries rolled back alone are checked; once they are gone from every
        host, their stage runs again from new baselines.
        """
        if self.load(rollout_id)["status"] == DROPPING:
            return self._record_drop(rollout_id, results)

        def change(state):
            state["removal"] = dict(state.get("removal") or {}, **removal_problems(state, results))
            state["removal_pending"] = sorted(h for h, problem in state["removal"].items() if problem)
            if not state["removal_pending"]:
                state["status"] = ROLLED_BACK
        return self._update(rollout_id, change)

    def _record_drop(self, rollout_id, results):
        state = self.load(rollout_id)
        problems = removal_problems(state, results, [entry["query"] for entry in state["dropped"].values()])
        pending = sorted(host for host, problem in problems.items() if problem)
        index = state["stage"]
        if not pending:     # the stage's soak is now an earlier attempt; its next soak starts afresh
            number = len(state["stages"][index].get("attempts", [])) + 1
            for name in ("baseline.json", "decision.json"):
                path = self.stage_path(rollout_id, state, index, name)
                if os.path.exists(path):
                    os.replace(path, self.stage_path(rollout_id, state, index, attempt_file(number, name)))

        def change(state):
            state["removal_pending"] = pending
            for entry in state["dropped"].values():
                entry["removal"] = dict(entry.get("removal") or {}, **problems)
            if pending:
                return
            stage = state["stages"][index]
            stage.setdefault("attempts", []).append({
                "decided": stage.get("decided"), "reasons": stage.get("reasons", []),
                "rolled_back": stage.get("rolling_back", [])})
            for key in ("started", "decided", "reasons", "baseline_hosts", "rolling_back"):
                stage.pop(key, None)
            stage["status"] = "pending"
            state["status"] = RUNNING
        return self._update(rollout_id, change)

    def close(self, rollout_id, report=None, markdown=None):
        """End this run: write the report, free the pack when the rollout reached its end."""
        rollout_dir = self.rollout_dir(rollout_id)
        if report is not None:
            write_json(os.path.join(rollout_dir, "report.json"), report)
        if markdown is not None:
            write_text(os.path.join(rollout_dir, "report.md"), markdown)

        def change(state):
            state["runs"][-1]["ended"] = now_iso()
            state["runs"][-1]["status_after"] = state["status"]
        state = self._update(rollout_id, change)
        lock_path = self.lock_path(state["pack"])
        with guarded(os.path.dirname(lock_path)):
            lock = read_json(lock_path)
            if state["status"] in FINAL and lock and lock.get("rollout_id") == rollout_id:
                os.unlink(lock_path)
        return state


def query_name(pack, query):
    """A pack's query as osquery_schedule names it (pack_delimiter "_")."""
    return "pack_%s_%s" % (pack, query)


def attempt_file(number, name):
    return "attempt-%d.%s" % (number, name)


def live_queries(state):
    """The pack's queries still in the rollout (none rolled back alone): {name: definition} as
    the pack takes them, and {name in osquery_schedule: interval} as the gate and soak take them."""
    queries = {name: query for name, query in (state["definition"]["pack"].get("queries") or {}).items()
               if name not in (state.get("dropped") or {})}
    return {"queries": queries,
            "intervals": {query_name(state["pack"], name): query["interval"] for name, query in queries.items()}}


def dropped_entries(state, stage, decision):
    """{query: entry} for the queries a partial_rollback DECISION of STAGE rolls back alone."""
    short = {query_name(state["pack"], name): name for name in state["definition"]["pack"].get("queries") or {}}
    entries = {}
    for full in decision.get("rollback_queries") or []:
        if full not in short:
            raise StateError("stage %r: rollback_queries names %r, which is not a query of pack %r"
                             % (stage["name"], full, state["pack"]))
        entries[short[full]] = {"query": full, "stage": stage["name"], "decided": now_iso(), "removal": {},
                                "reasons": (decision.get("query_reasons") or {}).get(full, [])}
    return entries


def removal_problems(state, results, names=None):
    """{host: None when none of NAMES (default: the rollout's queries) is scheduled there, else what is wrong}."""
    names = set(names or (query_name(state["pack"], query) for query in state["definition"]["pack"].get("queries") or {}))
    problems = {}
    for host in state["touched"]:
        result = results.get(host)
        if result is None:
            problems[host] = "not in this play: the pack may still be there"
        elif result.get("unreachable"):
            problems[host] = "unreachable: %s" % (result.get("msg") or "no answer")
        elif isinstance(result.get("queries"), dict):
            left = sorted(names & set(result["queries"]))
            problems[host] = "still scheduled: %s" % ", ".join(left) if left else None
        else:
            problems[host] = "not verified: %s" % (result.get("msg") or "no schedule read")
    return problems


def new_state(rollout_id, pack, definition, stage_names):
    return {
        "rollout_id": rollout_id, "pack": pack, "created": now_iso(), "updated": now_iso(),
        "definition": definition, "fingerprint": fingerprint(definition),
        "status": RUNNING, "stage": 0, "reason": None, "touched": [], "runs": [], "failures_spent": 0,
        "stages": [{"name": name, "status": "pending"} for name in stage_names],
    }


def check_resume(state, rollout_id, pack, definition, mode):
    """Refuse to resume a rollout whose pack or stages changed, or one already rolled back."""
    if state["pack"] != pack:
        raise StateError("rollout %r belongs to pack %r, not %r: use a new rollout id" % (
            rollout_id, state["pack"], pack))
    if mode == "rollback":
        return  # a rollback removes what the stored definition pushed, whatever the variables say now
    if state["status"] == ROLLED_BACK:
        raise StateError("rollout %r was rolled back (%s): its queries were removed; start a new rollout id"
                         % (rollout_id, state.get("reason") or "no reason recorded"))
    if state["fingerprint"] != fingerprint(definition):
        raise StateError(
            "rollout %r was started with another pack or other stages (fingerprint %s, now %s): finish it "
            "or roll it back (rollout_mode=rollback), then start a new rollout id for the change"
            % (rollout_id, state["fingerprint"], fingerprint(definition)))


def refusal(pack, lock, other):
    """Why a second rollout may not take PACK, naming the rollout that has it and what to do."""
    owner_id = lock["rollout_id"]
    status = other.get("status", "unknown")
    if status == RUNNING and owner_alive(lock.get("owner")):
        what = "is running now (pid %s on %s)" % (lock["owner"].get("pid"), lock["owner"].get("host"))
        advice = "wait for it to end"
    else:
        stage = other.get("stages", [{}])[min(other.get("stage", 0), len(other.get("stages", [{}])) - 1)]
        what = {"held": "is held at stage %r (%s)" % (stage.get("name"), other.get("reason") or "no reason"),
                "rolling_back": "is rolling back (removal not verified on %s)"
                                % (", ".join(other.get("removal_pending") or []) or "some hosts"),
                }.get(status, "was interrupted at stage %r (its run ended without finishing)" % stage.get("name"))
        advice = "resume it with rollout_id=%s, or remove its queries with rollout_id=%s rollout_mode=rollback" % (
            owner_id, owner_id)
    return "pack %r belongs to rollout %r, which %s: %s" % (pack, owner_id, what, advice)
