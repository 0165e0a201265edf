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
from pyosquery import events, flags
from pyosquery.config.atc import AutoTables
from pyosquery.daemon.identity import Identity, stored_uuid, hardware_uuid
from pyosquery.logger import status
from pyosquery.logger.results import ResultsLog
from pyosquery.scheduler.packs import PackSet
from pyosquery.scheduler.runner import MARKER, Scheduler
from pyosquery.sql.budget import Budget
from pyosquery.sql.engine import Engine
from pyosquery.store.db import Store
from pyosquery.tables import osquery as osquery_tables
from pyosquery.watchdog import limits as watchdog_limits
from pyosquery.watchdog import worker as watchdog_worker

LOG = logging.getLogger("pyosquery.daemon")
LAST_DENYLISTED = "watchdog_last_denylisted"     # store key: the query a stopped worker left running


class Agent(osquery_tables.Runtime):
    """One daemon process (the worker, when a watcher runs it)."""

    def __init__(self, values):
        self.values = values
        ephemeral = values.disable_database or values.ephemeral
        self.store = Store(":memory:" if ephemeral else values.database_path)
        self.engine = Engine(foreign=values.enable_foreign)
        self.auto_tables = AutoTables(self.engine)
        self.identity = Identity(values, self.store)
        self.log = ResultsLog(values)
        self.scheduler = Scheduler(self.engine, self.store, self.log, values, PackSet.empty(values), self.identity)
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.server = None
        self.next_refresh = None
        self.started = int(time.time())
        self.hub = None             # the events hub, made at the first config load unless --disable_events
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

    def extension_infos(self):
        return {} if self.server is None else self.server.registry.infos()

    def event_counts(self):
        return ({}, {}) if self.hub is None else self.hub.counts()

    def watchdog_rows(self):
        """osquery_watchdog: what the watcher passed at spawn, this worker, and the limits in force."""
        state = watchdog_worker.state()
        watched = watchdog_worker.is_worker()
        limits = watchdog_limits.for_values(self.values)
        cpus = os.cpu_count() or 1
        return [{"watcher_pid": self.watcher, "worker_pid": os.getpid(), "worker_start_time": self.started,
                 "worker_restarts": state.get("worker_restarts", 0), "quick_restarts": state.get("quick_restarts", 0),
                 "last_stop_reason": state.get("last_stop_reason", ""),
                 "last_stop_time": state.get("last_stop_time", 0), "last_exit": state.get("last_exit", ""),
                 "last_denylisted_query": self.store.get(LAST_DENYLISTED, ""),
                 "cpu_limit_ms": watchdog_limits.cpu_limit_ms(limits, cpus) if watched else 0,
                 "memory_limit_mb": limits.memory_mb if watched else 0,
                 "latency_limit_s": limits.latency_s if watched else 0,
                 "delay_s": self.values.watchdog_delay if watched else 0}]

    # config

    def load_config(self):
        """Load the config; a bad one is logged and the running one stays."""
        try:
            loaded = config_lib.load(self.values.config_path, self.values)
        except config_lib.ConfigError as error:
            LOG.error("Error reading config: %s", error)
            return False
        except Exception as error:   # pylint: disable=broad-except  # whatever the cause, the running config stays
            LOG.error("Error reading config: %s: %s: %s", self.values.config_path, type(error).__name__, error)
            return False
        self.auto_tables.install(loaded.data, loaded.warnings)
        self.values.apply_config_options(loaded.options)    # its warnings are in loaded.warnings, with the file
        status.relevel(self.values)                         # the options may set logger_min_status and others
        if self.values.enable_foreign:                      # the options may turn it on too (never off)
            self.engine.add_foreign_tables()
        for warning in loaded.warnings + loaded.skipped:
            LOG.warning("%s", warning)
        self.config_hash = loaded.hash
        self.config_valid = 1
        self.scheduler.use(PackSet(loaded, self.values))
        self.configure_events(loaded, [query.name for query in self.scheduler.packs.all_queries()])
        LOG.info("Config loaded: %s (%d queries)", self.values.config_path,
                 len(list(self.scheduler.packs.all_queries())))
        return True

    def configure_events(self, config, queries=None):
        """Events: the hub is made at the first load (its options may set disable_events), then
        every good config (the loaded Config: `get` reads its keys) reaches the publishers;
        --disable_events leaves no hub at all."""
        if self.hub is None and not self.values.disable_events:
            from pyosquery.events.buffer import store_path   # pylint: disable=import-outside-toplevel
            from pyosquery.events.hub import Hub   # pylint: disable=import-outside-toplevel
            self.hub = Hub(self.values, store_path(self.store))
            events.install(self.hub)
        if self.hub is not None:
            self.hub.configure(config, queries)

    def stop_events(self):
        if self.hub is not None:
            self.hub.stop()
            events.install(None)
            self.hub = None

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
        """Signals take effect between steps, but the stop signals must also abort a running query.

        Python runs a signal handler only when the main thread gets back to bytecode, which a
        query busy inside SQLite does not do. So the stop signals are also delivered through a
        wakeup pipe to a small thread that interrupts SQLite (sqlite3_interrupt is thread-safe).
        """
        signal.signal(signal.SIGHUP, lambda *_: self.reload.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGUSR1, lambda *_: self.stop.set())
        read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(read_fd, True)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        threading.Thread(target=self._interrupter, args=(read_fd,), name="interrupter", daemon=True).start()

    def _interrupter(self, read_fd):
        stops = {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1}
        while True:
            for number in os.read(read_fd, 64):
                if number not in stops:
                    continue
                if number == signal.SIGUSR1:
                    # the watcher stops us for a limit: keep the executing-query marker for the next worker
                    self.scheduler.resource_limit_hit = True
                self.stop.set()
                self.engine.connection.interrupt()

    def start_socket(self):
        if self.values.disable_extensions:
            return
        from pyosquery.extensions.server import ExtensionServer   # pylint: disable=import-outside-toplevel
        try:
            server = ExtensionServer(self.values.extensions_socket, self.engine, lock=self.engine.lock,
                                     options_provider=self._options, shutdown_request=self.stop.set,
                                     budget=self.socket_budget(),
                                     ping_interval=_seconds(self.values.extensions_interval, 3.0),
                                     default_index=self.values.extensions_default_index,
                                     idle_timeout=self.values.extensions_idle_timeout)
            server.start()
        except Exception as error:   # pylint: disable=broad-except  # queries still run without the socket
            LOG.error("Cannot start the extension socket %s: %s", self.values.extensions_socket, error)
            return
        self.server = server

    def require_extensions(self):
        """--extensions_require: the schedule starts once the named extensions answer, or after
        extensions_timeout; a missing one is an error in the status log and the daemon goes on, as osquery."""
        names = [name.strip() for name in self.values.extensions_require.split(",") if name.strip()]
        if not names or self.server is None:
            return
        missing = self.server.require(names, _seconds(self.values.extensions_timeout, 3.0), self.stop)
        if missing is not None and not self.stop.is_set():
            reason = "Required extension not found or not loaded: %s" % missing
            LOG.warning("%s", reason)
            LOG.error("An error occurred during extension manager startup: %s", reason)

    def socket_budget(self):
        """Under a watcher, a client's query is stopped well before the watcher would stop the worker for it."""
        if not watchdog_worker.is_worker():
            return None
        limits = watchdog_limits.for_values(self.values)
        return Budget.under_watchdog(limits, watchdog_limits.cpu_limit_ms(limits, os.cpu_count() or 1))

    def _options(self):
        return {row["name"]: (row["value"], row["default_value"], row["type"]) for row in flags.table_rows(self.values)}

    def check_marker(self):
        """Denylist the query a stopped worker left running, and remember its name for osquery_watchdog."""
        left = self.store.get(MARKER, "")
        self.scheduler.check_marker()
        if left and not self.values.disable_watchdog:
            self.store.put(LAST_DENYLISTED, left)

    def run(self):
        """Run until stopped; returns the process exit code."""
        self.check_marker()
        if not self.load_config():
            self.configure_events({})       # no good config yet: the publishers start without one
        try:
            if self.hub is not None:
                self.hub.start()
            if self.values.config_refresh:
                self.next_refresh = time.time() + self.values.config_refresh
            self.start_socket()
            self.require_extensions()
            self.scheduler.run(self.stop, self.between_steps)
        finally:
            if self.server is not None:
                self.server.stop()
            self.stop_events()      # publishers joined: the audit socket and inotify watches go back
            self.store.close()
        return 0


def _seconds(text, default):
    """A seconds flag kept as text by osquery (extensions_interval): a number, or the default."""
    try:
        return max(float(text), 0.5)
    except ValueError:
        return default
