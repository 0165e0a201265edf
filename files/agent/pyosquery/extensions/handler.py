"""The ExtensionManager service: what each Thrift call of osquery's IDL does here."""

import logging

from osquery.extensions import ExtensionManager
from osquery.extensions.ttypes import ExtensionCode, ExtensionResponse, ExtensionStatus

from pyosquery.extensions import convert
from pyosquery.extensions.wire import RowsResponse
from pyosquery.sql.budget import Budget

LOG = logging.getLogger(__name__)


def ok_status(uuid=0):
    return ExtensionStatus(code=ExtensionCode.EXT_SUCCESS, message="OK", uuid=uuid)


def failed(message):
    """A response with EXT_FAILED and the reason, as osquery reports a bad query."""
    return ExtensionResponse(status=ExtensionStatus(code=ExtensionCode.EXT_FAILED, message=message), response=[])


class ManagerHandler(ExtensionManager.Iface):
    """Answers the manager calls over one engine; `lock` serialises every use of that engine.

    Queries run within `budget` (pyosquery.sql.budget.Budget, or None for no limit), and stop
    once `client_gone()` says the calling client hung up; `tables` (ExtensionTables) serves the
    tables extensions register.
    """

    def __init__(self, engine, lock, options_provider, registry, shutdown_request=None, budget=None, tables=None,
                 client_gone=None):
        # pylint: disable=too-many-arguments
        self.engine = engine
        self.budget = budget
        self.client_gone = client_gone
        self.tables = tables
        self.lock = lock
        self.options_provider = options_provider
        self.registry = registry
        self.shutdown_request = shutdown_request

    # service Extension

    def ping(self):
        return ok_status()

    def call(self, registry, item, request):
        """The core's own plugins: only tables (generate, columns) can be called from outside."""
        if registry != "table" or item not in self.engine.tables:
            return failed("No %s plugin named %s" % (registry, item))
        action = (request or {}).get("action")
        if action == "generate":
            return self.query('SELECT * FROM "%s"' % item.replace('"', '""'))
        if action == "columns":
            return self._table_columns(item)
        return failed("Unknown action for table %s: %s" % (item, action))

    def shutdown(self):
        # The socket is root-only, so a request is the administrator's; without a callback it is ignored.
        LOG.info("shutdown requested over the extension socket")
        if self.shutdown_request is not None:
            self.shutdown_request()

    # service ExtensionManager

    def extensions(self):
        return self.registry.infos()

    def options(self):
        return {name: convert.option_info(value) for name, value in dict(self.options_provider()).items()}

    def registerExtension(self, info, registry):   # pylint: disable=invalid-name  # the IDL's name
        uuid, reason = self.registry.register(info, registry)
        if uuid is None:
            return ExtensionStatus(code=ExtensionCode.EXT_FAILED, message=reason)
        LOG.info("registered extension %s (uuid %d)", info.name, uuid)
        if self.tables is not None:
            for name in self.tables.add(uuid, registry):
                LOG.warning("extension %s cannot replace the built-in table %s", info.name, name)
        return ok_status(uuid)

    def deregisterExtension(self, uuid):   # pylint: disable=invalid-name  # the IDL's name
        if not self.registry.deregister(uuid):
            return ExtensionStatus(code=ExtensionCode.EXT_FAILED, message="No extension UUID registered")
        if self.tables is not None:
            self.tables.remove(uuid)
        return ok_status(uuid)

    def query(self, sql):
        budget = self.budget
        if self.client_gone is not None:
            budget = (budget or Budget()).until_gone(self.client_gone)
        try:
            with self.lock:
                names, rows = self.engine.query(sql, budget)
        except Exception as error:   # pylint: disable=broad-except  # every failure goes back to the caller
            return failed(convert.error_message(error))
        return RowsResponse(ok_status(), names, rows)

    def getQueryColumns(self, sql):   # pylint: disable=invalid-name  # the IDL's name
        try:
            with self.lock:
                columns = self.engine.columns(sql)
        except Exception as error:   # pylint: disable=broad-except  # every failure goes back to the caller
            return failed(convert.error_message(error))
        return ExtensionResponse(status=ok_status(), response=[{name: _type_name(kind)} for name, kind in columns])

    def _table_columns(self, item):
        # the table's declared columns as osquery's TablePlugin routes ("op" is its options bitmask)
        routes = [{"id": "column", "name": column.name, "type": column.type, "op": str(_options(column))}
                  for column in self.engine.tables[item].columns]
        return ExtensionResponse(status=ok_status(), response=routes)


def _options(column):
    # osquery's ColumnOptions bits: INDEX 1, REQUIRED 2, ADDITIONAL 4, OPTIMIZED 8, HIDDEN 16
    flags = (column.index, column.required, column.additional, column.optimized, column.hidden)
    return sum(1 << bit for bit, on in enumerate(flags) if on)


def _type_name(declared):
    # Expressions have no declared type; osquery then reports UNKNOWN unless its planner can tell.
    return declared.upper().replace(" ", "_") if declared else "UNKNOWN"
