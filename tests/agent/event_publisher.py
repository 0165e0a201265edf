"""A small real publisher for the events framework's tests: a thread that emits rows into the hub.

It feeds `hardware_events` (no publisher of ours does) and follows the config's `test_events`:
  {"count": N, "every": seconds, "prefix": "a", "burst": N, "burst_bytes": n,
   "started": "/path/to/touch"}
`burst` rows of `burst_bytes` each are emitted first, in one call per 5,000 (the way a kernel
queue drains; a call of 5 MB overflows a small pending bound whatever the writer's speed); then
`count` rows one by one, `every` seconds apart, their `path` `<prefix>-<i>`. A daemon finds it
through PYOSQUERY_EVENT_PUBLISHERS (tests/agent on PYTHONPATH): see the test_publisher fixture in
test_events_daemon.py.
"""

import os
import threading

TABLE = "hardware_events"


class TestPublisher:
    name = "testpub"
    tables = (TABLE,)
    __test__ = False        # not a pytest test class

    def __init__(self, values, emit):
        self.values = values
        self.emit = emit
        self.settings = {}
        self.thread = None
        self.stopping = threading.Event()
        self.emitted = 0

    def wanted(self):
        return True

    def configure(self, config):
        self.settings = dict(config.get("test_events") or {})
        return ["test_events: configured %d rows" % self.settings.get("count", 0)]

    def start(self):
        if self.settings.get("fail"):
            from pyosquery.events import PublisherError   # pylint: disable=import-outside-toplevel
            raise PublisherError(self.settings["fail"])
        started = self.settings.get("started")
        if started:
            with open(started, "w", encoding="utf-8") as handle:
                handle.write(str(os.getpid()))
        self.thread = threading.Thread(target=self._run, name="testpub", daemon=True)
        self.thread.start()

    def _run(self):
        settings = self.settings
        burst, size = settings.get("burst", 0), settings.get("burst_bytes", 1000)
        for first in range(0, burst, 5000):
            self._emit([{"action": "burst", "path": "%08d" % i, "model": "x" * size}
                        for i in range(first, min(first + 5000, burst))])
        prefix = settings.get("prefix", "e")
        for i in range(settings.get("count", 0)):
            if self.stopping.wait(settings.get("every", 0)):
                return
            self._emit([{"action": "insert", "path": "%s-%d" % (prefix, i), "type": "test"}])

    def _emit(self, rows):
        self.emit(TABLE, rows)
        self.emitted += len(rows)

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()

    def counts(self):
        return {"subscriptions": 1, "events": self.emitted, "refreshes": 0,
                "active": int(self.thread is not None and not self.stopping.is_set()), "lost": 0}
