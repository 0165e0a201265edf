"""The running daemon: engine, store, logs, scheduler, config reloads and the socket.

Signals are turned into events on the main thread; the scheduler acts on them between
steps, so a reload never happens in the middle of a query.
"""

import logging
import os
import signal
import threading
import time

from pyosquery import config as config_lib
from pyosquery import flags
from pyosquery.daemon.identity import Identity, stored_uuid, hardware_uuid
from pyosquery.logger.results import ResultsLog
from pyosquery.scheduler.packs import PackSet
from pyosquery.scheduler.runner import Scheduler
from pyosquery.sql.engine import Engine
from pyosquery.store.db import Store
from pyosquery.tables import osquery as osquery_tables

LOG = logging.getLogger("pyosquery.daemon")


class Agent(osquery_tables.Runtime):
    """One daemon process (the worker, when a watcher runs it)."""

    def __init__(self, values):
        self.values = values
        ephemeral = values.disable_database or values.ephemeral
        self.store = Store(":memory:" if ephemeral else values.database_path)
        self.engine = Engine()
        self.identity = Identity(values, self.store)
        self.log = ResultsLog(values)
        self.scheduler = Scheduler(self.engine, self.store, self.log, values, PackSet.empty(values), self.identity)
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.server = None
        self.next_refresh = None
        osquery_tables.install(self)

    # the osquery_* tables

    socket = property(lambda self: "" if self.values.disable_extensions else self.values.extensions_socket)
    extensions_active = property(lambda self: self.server is not None)
    watcher = property(lambda self: os.getppid() if os.environ.get("PYOSQUERY_WORKER") else -1)

    def schedule_rows(self):
        return self.scheduler.schedule_rows()

    def run_rows(self):
        return self.store.runs()

    def pack_rows(self):
        return self.scheduler.packs.rows()

    def flag_rows(self):
        return flags.table_rows(self.values)

    def instance_ids(self):
        return hardware_uuid(self.store), stored_uuid(self.store, "instance_uuid_v1")

    def table_names(self):
        return sorted(self.engine.tables)

    # config

    def load_config(self):
        """Load the config; a bad one is logged and the running one stays."""
        try:
            loaded = config_lib.load(self.values.config_path, self.values)
        except config_lib.ConfigError as error:
            LOG.error("Error reading config: %s", error)
            return False
        for warning in self.values.apply_config_options(loaded.options) + loaded.warnings:
            LOG.warning("%s", warning)
        self.config_hash = loaded.hash
        self.config_valid = 1
        self.scheduler.use(PackSet(loaded, self.values))
        LOG.info("Config loaded: %s (%d queries)", self.values.config_path,
                 len(list(self.scheduler.packs.all_queries())))
        return True

    def between_steps(self, _step):
        """Reload on SIGHUP, and every config_refresh seconds when that is set."""
        now = time.time()
        refresh = self.values.config_refresh
        if self.reload.is_set() or (refresh and self.next_refresh is not None and now >= self.next_refresh):
            self.reload.clear()
            LOG.info("Reloading the config")
            ok = self.load_config()
            if refresh:
                delay = refresh if ok else self.values.config_accelerated_refresh
                self.next_refresh = now + delay

    # life cycle

    def handle_signals(self):
        signal.signal(signal.SIGHUP, lambda *_: self.reload.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGUSR1, self._resource_limit_hit)

    def _resource_limit_hit(self, *_):
        # the watcher stops us for a limit: keep the executing-query marker for the next worker
        self.scheduler.resource_limit_hit = True
        self.stop.set()

    def start_socket(self):
        if self.values.disable_extensions:
            return
        from pyosquery.extensions.server import ExtensionServer   # pylint: disable=import-outside-toplevel
        try:
            server = ExtensionServer(self.values.extensions_socket, self.engine, lock=self.engine.lock,
                                     options_provider=self._options, shutdown_request=self.stop.set)
            server.start()
        except Exception as error:   # pylint: disable=broad-except  # queries still run without the socket
            LOG.error("Cannot start the extension socket %s: %s", self.values.extensions_socket, error)
            return
        self.server = server

    def _options(self):
        return {row["name"]: (row["value"], row["default_value"], row["type"]) for row in flags.table_rows(self.values)}

    def run(self):
        """Run until stopped; returns the process exit code."""
        self.scheduler.check_marker()
        self.load_config()
        if self.values.config_refresh:
            self.next_refresh = time.time() + self.values.config_refresh
        self.start_socket()
        try:
            self.scheduler.run(self.stop, self.between_steps)
        finally:
            if self.server is not None:
                self.server.stop()
            self.store.close()
        return 0
