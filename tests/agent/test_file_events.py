"""The inotify publisher on real files in tmp dirs, the real kernel: file_events rows, with a list as the sink.

A test that expects nothing of a path ends its writes with one to a path that is reported (the
marker): the kernel queues events in order, so once the marker's row is in, the other's would be.
"""

import hashlib
import os
import subprocess
import sys
import textwrap
import time

import pytest

from pyosquery.events import inotify_kernel
from pyosquery.events.inotify import InotifyPublisher
from pyosquery.flags.values import Values

DEADLINE = 5.0      # seconds to wait for rows (a loaded machine); a passing test waits milliseconds


class Sink:
    def __init__(self):
        self.rows = []

    def __call__(self, table, rows):
        assert table == "file_events"
        self.rows.extend(rows)

    def wait(self, path, action, **columns):
        """The first row for `path` with `action` (and these column values), waiting for it."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            for row in list(self.rows):
                if row["target_path"] == str(path) and row["action"] == action and all(
                        row[name] == value for name, value in columns.items()):
                    return row
            time.sleep(0.01)
        raise AssertionError("no %s row for %s in %s" % (action, path, self.actions()))

    def actions(self, path=None):
        return [(row["action"], row["target_path"]) for row in self.rows
                if path is None or row["target_path"] == str(path)]


@pytest.fixture()
def fim():
    """fim(config) -> (publisher started and configured, sink, warnings); stopped afterwards."""
    started = []

    def make(config):
        values = Values()
        values.set("enable_file_events", True)
        sink = Sink()
        publisher = InotifyPublisher(values, sink)
        publisher.start()
        started.append(publisher)
        return publisher, sink, publisher.configure(config)

    yield make
    for publisher in started:
        publisher.stop()


def write(path, text="x"):
    with open(str(path), "w", encoding="ascii") as handle:
        handle.write(text)


def test_create_write_move_and_delete_under_a_tree_give_their_actions(fim, tmp_path):
    (tmp_path / "old").write_text("before")
    _, sink, warnings = fim({"file_paths": {"tree": [str(tmp_path) + "/%%"]}})
    assert warnings == []
    write(tmp_path / "new", "hello")
    created = sink.wait(tmp_path / "new", "CREATED")
    assert created["category"] == "tree" and created["hashed"] == 1     # hashed as found then: maybe still empty
    sink.wait(tmp_path / "new", "UPDATED", sha256=hashlib.sha256(b"hello").hexdigest())
    assert created["inode"] == os.stat(str(tmp_path / "new")).st_ino and created["mode"] == "%04o" % (
        os.stat(str(tmp_path / "new")).st_mode & 0o7777)
    write(tmp_path / "old", "after")
    # the truncation (IN_MODIFY) and the close (IN_CLOSE_WRITE) are UPDATED: the close's is hashed after the write
    assert sink.wait(tmp_path / "old", "UPDATED", md5=hashlib.md5(b"after").hexdigest())["hashed"] == 1
    os.rename(str(tmp_path / "old"), str(tmp_path / "renamed"))
    moved_from, moved_to = sink.wait(tmp_path / "old", "MOVED_FROM"), sink.wait(tmp_path / "renamed", "MOVED_TO")
    assert moved_from["transaction_id"] == moved_to["transaction_id"] != 0
    os.unlink(str(tmp_path / "renamed"))
    deleted = sink.wait(tmp_path / "renamed", "DELETED")
    assert deleted["inode"] is None and deleted["size"] is None and deleted["hashed"] == 0
    os.chmod(str(tmp_path / "new"), 0o600)
    assert sink.wait(tmp_path / "new", "ATTRIBUTES_MODIFIED")["mode"] == "0600"


def test_an_excluded_path_gives_nothing(fim, tmp_path):
    for name in ("kept", "skip", "skip/deeper", "cache"):
        (tmp_path / name).mkdir()
    _, sink, _ = fim({"file_paths": {"tree": [str(tmp_path) + "/%%"]},
                      "exclude_paths": {"noise": [str(tmp_path / "skip") + "/%%", str(tmp_path / "cache" / "%.tmp")]}})
    write(tmp_path / "skip" / "a")
    write(tmp_path / "skip" / "deeper" / "b")
    write(tmp_path / "cache" / "c.tmp")
    write(tmp_path / "cache" / "c.dat")
    write(tmp_path / "kept" / "marker")
    sink.wait(tmp_path / "kept" / "marker", "UPDATED")
    seen = {row["target_path"] for row in sink.rows}
    assert str(tmp_path / "cache" / "c.dat") in seen
    assert not any(path.startswith(str(tmp_path / "skip")) or path.endswith(".tmp") for path in seen)


def test_one_percent_is_one_level_two_are_the_whole_tree(fim, tmp_path):
    for tree in ("one", "all"):
        (tmp_path / tree / "sub").mkdir(parents=True)
    _, sink, _ = fim({"file_paths": {"one": [str(tmp_path / "one") + "/%"], "all": [str(tmp_path / "all") + "/%%"]}})
    write(tmp_path / "one" / "sub" / "deep")
    write(tmp_path / "all" / "sub" / "deep")
    write(tmp_path / "one" / "top")
    assert sink.wait(tmp_path / "one" / "top", "CREATED")["category"] == "one"
    assert sink.wait(tmp_path / "all" / "sub" / "deep", "CREATED")["category"] == "all"
    assert sink.actions(tmp_path / "one" / "sub" / "deep") == []


def test_a_wildcard_in_the_last_part_keeps_the_names_it_matches(fim, tmp_path):
    _, sink, _ = fim({"file_paths": {"conf": [str(tmp_path) + "/%.conf"]}})
    write(tmp_path / "a.txt")
    write(tmp_path / "b.conf")
    sink.wait(tmp_path / "b.conf", "CREATED")
    assert sink.actions(tmp_path / "a.txt") == []


def test_a_new_subdirectory_is_watched_and_what_was_written_in_it_at_once_is_kept(fim, tmp_path):
    publisher, sink, _ = fim({"file_paths": {"tree": [str(tmp_path) + "/%%"]}})
    with publisher._lock:       # pylint: disable=protected-access  # the reader waits: no watch below yet
        (tmp_path / "new" / "deeper").mkdir(parents=True)
        write(tmp_path / "new" / "deeper" / "first")
    sink.wait(tmp_path / "new", "CREATED")
    sink.wait(tmp_path / "new" / "deeper" / "first", "CREATED")
    write(tmp_path / "new" / "deeper" / "later")
    sink.wait(tmp_path / "new" / "deeper" / "later", "CREATED")
    assert str(tmp_path / "new" / "deeper") + "/" in publisher.watched()
    created = [path for action, path in sink.actions() if action == "CREATED"]
    assert len(created) == len(set(created)), "an entry reported twice: %s" % created
    # had "first" been created between the watch and the listing, its own IN_CREATE would follow: dropped
    wd = publisher.watched()[str(tmp_path / "new" / "deeper") + "/"]
    late = inotify_kernel.HEADER.pack(wd, inotify_kernel.IN_CREATE, 0, 8) + b"first\0\0\0"
    with publisher._lock:       # pylint: disable=protected-access
        assert publisher._dispatch(late) == []          # pylint: disable=protected-access


def test_a_removed_directory_loses_its_watch(fim, tmp_path):
    (tmp_path / "gone").mkdir()
    publisher, sink, _ = fim({"file_paths": {"tree": [str(tmp_path) + "/%%"]}})
    assert str(tmp_path / "gone") + "/" in publisher.watched()
    (tmp_path / "gone").rmdir()
    sink.wait(tmp_path / "gone", "DELETED")
    deadline = time.monotonic() + DEADLINE
    while str(tmp_path / "gone") + "/" in publisher.watched() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert publisher.watched() == {str(tmp_path) + "/": publisher.watched()[str(tmp_path) + "/"]}


def test_a_directory_moved_out_of_the_tree_loses_its_watches(fim, tmp_path):
    (tmp_path / "tree" / "out" / "below").mkdir(parents=True)
    publisher, sink, _ = fim({"file_paths": {"tree": [str(tmp_path / "tree") + "/%%"]}})
    os.rename(str(tmp_path / "tree" / "out"), str(tmp_path / "elsewhere"))
    write(tmp_path / "elsewhere" / "below" / "unwatched")
    write(tmp_path / "tree" / "marker")
    sink.wait(tmp_path / "tree" / "marker", "UPDATED")
    assert not any("unwatched" in path for _, path in sink.actions())
    assert list(publisher.watched()) == [str(tmp_path / "tree") + "/"]


def test_file_accesses_reports_opens_and_reads_only_for_its_categories(fim, tmp_path):
    for name in ("secret", "plain"):
        (tmp_path / name).mkdir()
        write(tmp_path / name / "file", "content")
    _, sink, _ = fim({"file_paths": {"secret": [str(tmp_path / "secret") + "/"], "plain": [str(tmp_path / "plain")]},
                      "file_accesses": ["secret"]})
    for name in ("plain", "secret"):
        with open(str(tmp_path / name / "file"), encoding="ascii") as handle:
            handle.read()
    sink.wait(tmp_path / "secret" / "file", "OPENED")
    assert sink.wait(tmp_path / "secret" / "file", "ACCESSED")["category"] == "secret"
    write(tmp_path / "secret" / "file", "changed")
    assert sink.wait(tmp_path / "secret" / "file", "UPDATED")["hashed"] == 0     # never hashed: no echo
    write(tmp_path / "plain" / "marker")
    sink.wait(tmp_path / "plain" / "marker", "UPDATED")
    assert sink.actions(tmp_path / "plain" / "file") == []


def test_a_directory_in_two_categories_reports_accesses_only_to_the_one_in_file_accesses(fim, tmp_path):
    write(tmp_path / "file", "content")
    _, sink, _ = fim({"file_paths": {"audit": [str(tmp_path)], "changes": [str(tmp_path) + "/%"]},
                      "file_accesses": ["audit"]})
    with open(str(tmp_path / "file"), encoding="ascii") as handle:
        handle.read()
    write(tmp_path / "marker")
    sink.wait(tmp_path / "marker", "UPDATED", category="changes")
    assert {row["category"] for row in sink.rows if row["action"] in ("OPENED", "ACCESSED")} == {"audit"}


def _kernel_watches():
    """How many inotify watches this process holds (the kernel's own count, from fdinfo)."""
    count = 0
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            with open("/proc/self/fdinfo/" + fd, encoding="ascii") as handle:
                count += handle.read().count("inotify wd:")
        except OSError:
            pass
    return count


def test_bad_globs_and_categories_are_named_in_warnings(fim, tmp_path):
    _, _, warnings = fim({"file_paths": {"homes": ["relative/%", str(tmp_path / "missing") + "/%%", ""],
                                         "etc": [str(tmp_path) + "/%%/x"]},
                          "file_accesses": ["homez"]})
    assert warnings == ["config: $.file_paths.homes[0]: relative/%: not an absolute path",
                        "config: $.file_paths.homes[1]: %s/missing/%%%%: no such directory" % tmp_path,
                        "config: $.file_paths.etc[0]: %s/%%%%/x: '/x' after %%%% is ignored: the tree "
                        "is watched whole" % tmp_path,
                        "config: $.file_accesses[0]: homez: no such category in file_paths"]


def test_a_reload_replaces_the_watches(fim, tmp_path):
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    publisher, sink, _ = fim({"file_paths": {"c": [str(tmp_path / "first") + "/%%"]}})
    assert publisher.configure({"file_paths": {"c": [str(tmp_path / "second") + "/%%"]}}) == []
    assert list(publisher.watched()) == [str(tmp_path / "second") + "/"] and _kernel_watches() == 1
    write(tmp_path / "first" / "old")
    write(tmp_path / "second" / "new")
    sink.wait(tmp_path / "second" / "new", "CREATED")
    assert sink.actions(tmp_path / "first" / "old") == []


def test_a_queue_overflow_counts_as_lost_and_is_logged(fim, tmp_path, caplog):
    publisher, sink, _ = fim({"file_paths": {"c": [str(tmp_path) + "/"]}})
    for name in ("a", "b"):
        write(tmp_path / name)
    with publisher._lock:       # pylint: disable=protected-access  # the reader stalls: the kernel queue fills
        for _ in range(int(inotify_kernel.limit("max_queued_events")) * 2):    # the reader may hold a read
            os.utime(str(tmp_path / "a"))
            os.utime(str(tmp_path / "b"))
    with caplog.at_level("WARNING", logger="pyosquery.events.inotify"):
        write(tmp_path / "marker")
        deadline = time.monotonic() + DEADLINE
        while not publisher.counts()["lost"] and time.monotonic() < deadline:
            time.sleep(0.01)
    assert publisher.counts()["lost"] >= 1 and sink.rows
    assert "inotify: the kernel's event queue overflowed 1 times (fs.inotify.max_queued_events = " in caplog.text


def test_the_watch_limit_is_named_with_the_path_and_the_limit(tmp_path):
    """In a user namespace of its own whose watch limit is 2 (the host's limit stays as it is)."""
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    script = textwrap.dedent("""
        import sys
        with open("/proc/sys/user/max_inotify_watches", "w") as limit:
            limit.write("2")
        from pyosquery.events.inotify import InotifyPublisher
        from pyosquery.flags.values import Values
        values = Values()
        values.set("enable_file_events", True)
        publisher = InotifyPublisher(values, lambda table, rows: None)
        publisher.start()
        print("\\n".join(publisher.configure({"file_paths": {"tree": [sys.argv[1] + "/%%"]}})))
        publisher.stop()
    """)
    done = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c", script, str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=True)
    assert "file_paths.tree: %s/" % tmp_path in done.stdout and "[Errno" not in done.stdout
    assert "inotify watch limit reached (fs.inotify.max_user_watches = " in done.stdout
    assert "user.max_inotify_watches = 2 in this user namespace)" in done.stdout
