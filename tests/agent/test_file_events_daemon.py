"""file_events in a real pyosqueryd: the inotify publisher through the hub, the store and a scheduled query."""

import hashlib
import json

from daemon_harness import status_log, wait_until

EVENTS_ON = ["--disable_events=false", "--enable_file_events", "--schedule_splay_percent=0"]


def fim_lines(daemon):
    return [line["columns"] for line in daemon.results() if line["name"] == "fim"]


def test_a_scheduled_query_on_file_events_logs_the_write_and_not_the_excluded_one(daemons, tmp_path):
    watched, packed = tmp_path / "watched", tmp_path / "packed"
    (watched / "noise").mkdir(parents=True)
    packed.mkdir()
    (watched / "file").write_text("before")
    (tmp_path / "fim.json").write_text(json.dumps({"queries": {}, "file_paths": {"packed": [str(packed) + "/%"]}}))
    daemon = daemons({"schedule": {"fim": {"query": "SELECT action, target_path, category, sha256, hashed "
                                                    "FROM file_events", "interval": 1}},
                      "packs": {"fim": str(tmp_path / "fim.json")},
                      "file_paths": {"tree": [str(watched) + "/%%"], "bad": ["relative/%"]},
                      "exclude_paths": {"noise": [str(watched / "noise") + "/%%"]}},
                     extra_flags=EVENTS_ON).start()
    wait_until(lambda: daemon.query("SELECT active, subscriptions FROM osquery_events WHERE name = 'inotify'")
               == [{"active": "1", "subscriptions": "3"}], "the inotify publisher with its 3 globs")
    (watched / "noise" / "skipped").write_text("x")
    (watched / "file").write_text("after")
    (packed / "from_the_pack").write_text("x")
    digest = hashlib.sha256(b"after").hexdigest()
    wait_until(lambda: {"action": "UPDATED", "target_path": str(watched / "file"), "category": "tree",
                        "sha256": digest, "hashed": "1"} in fim_lines(daemon), "the write logged, hashed")
    wait_until(lambda: any(line["target_path"] == str(packed / "from_the_pack") and line["category"] == "packed"
                           for line in fim_lines(daemon)), "the pack's file_paths")
    assert not any("noise" in line["target_path"] for line in fim_lines(daemon))
    assert "file_paths.bad[0]: relative/%: not an absolute path" in status_log(daemon)
    assert "--enable_file_events is accepted for osquery compatibility but has no effect" not in status_log(daemon)
