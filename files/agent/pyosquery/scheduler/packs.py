"""Which packs and queries run on this host: platform, version, shard and discovery.

Discovery queries are re-run at most every pack_refresh_interval seconds; in between,
each look counts as a cache hit, as osquery's osquery_packs counters show.
"""

import logging

from pyosquery import OSQUERY_SDK_VERSION
from pyosquery.config import shard as shard_lib

LOG = logging.getLogger("pyosquery.scheduler")


class _Discovery:
    __slots__ = ("expires", "active", "hits", "executions")

    def __init__(self):
        self.expires = 0.0
        self.active = False
        self.hits = 0
        self.executions = 0


class PackSet:
    """The packs of one loaded config, with this host's view of them."""

    def __init__(self, config, values):
        self.packs = list(config.packs) if config is not None else []
        self.decorators = list(config.decorators) if config is not None else []
        self.values = values
        self.machine_shard = shard_lib.machine_shard()
        self.discovery = {pack.name: _Discovery() for pack in self.packs}

    @classmethod
    def empty(cls, values):
        return cls(None, values)

    def _applies(self, item):
        return shard_lib.applies(item, self.machine_shard, OSQUERY_SDK_VERSION)

    def all_queries(self):
        for pack in self.packs:
            yield from pack.queries

    def _discovered(self, pack, engine, now, count):
        state = self.discovery[pack.name]
        if not pack.discovery:
            return True
        if now < state.expires:
            if count:
                state.hits += 1
            return state.active
        state.executions += 1
        state.active = all(self._discovery_query(engine, sql) for sql in pack.discovery)
        state.expires = now + self.values.pack_refresh_interval
        return state.active

    @staticmethod
    def _discovery_query(engine, sql):
        try:
            return bool(engine.query(sql)[1])
        except Exception as error:   # pylint: disable=broad-except  # a failing discovery deactivates its pack
            LOG.warning("Discovery query failed (%s): %s", sql, error)
            return False

    def active_queries(self, engine, now, count=True):
        """Queries that run here now, pack by pack, each pack in (startup_priority, name) order."""
        for pack in self.packs:
            if not self._applies(pack) or not self._discovered(pack, engine, now, count):
                continue
            queries = [q for q in pack.queries if self._applies(q)]
            queries.sort(key=lambda q: (q.startup_priority is None, q.startup_priority or 0, q.name))
            yield from queries

    def rows(self):
        """osquery_packs: every pack, active or not."""
        result = []
        for pack in self.packs:
            state = self.discovery[pack.name]
            active = self._applies(pack) and (not pack.discovery or state.active)
            result.append({"name": pack.name, "platform": pack.platform or "", "version": pack.version or "",
                           "shard": pack.shard or 0, "discovery_cache_hits": state.hits,
                           "discovery_executions": state.executions, "active": 1 if active else 0})
        return result

    # decorators

    def decorate(self, kind, engine):
        """Run the `load` or `always` decorator queries; their first rows' columns, merged."""
        if self.values.disable_decorators:
            return {}
        return self._run_decorators([d.sql for d in self.decorators if d.when == kind], engine)

    def decorate_interval(self, engine, step):
        """Run the interval decorators due at this step (their intervals are multiples of 60)."""
        if self.values.disable_decorators:
            return {}
        due = [d.sql for d in self.decorators if isinstance(d.when, int) and step % d.when == 0]
        return self._run_decorators(due, engine)

    @staticmethod
    def _run_decorators(queries, engine):
        decorations = {}
        for sql in queries:
            try:
                names, rows = engine.query(sql)
            except Exception as error:   # pylint: disable=broad-except
                LOG.warning("Decorator query failed (%s): %s", sql, error)
                continue
            if len(rows) > 1:
                LOG.warning("Multiple rows returned for decorator query: %s", sql)
            if rows:
                decorations.update({n: "" if v is None else str(v) for n, v in zip(names, rows[0])})
        return decorations
