"""Tables that extensions register over the socket (osquery's Python SDK `TablePlugin` and kin).

An extension registers {"table": {name: [column routes]}}; the daemon then serves `name` on its
engine like a built-in table, so the schedule, `pyosqueryi --connect` and joins can use it.
Each scan asks the extension over its own socket (`<manager socket>.<uuid>`) with
call("table", name, {"action": "generate", "context": <osquery's JSON query context>}), so the
constraints reach it as osquery sends them. When the extension goes (deregistered, or its
socket stops answering pings), the table goes with it: queries fail with "no such table".
"""

import contextlib
import json
import logging
import threading
import time

from pyosquery.sql.vtable import QueryError
from pyosquery.tables.context import EQ, GLOB, LIKE
from pyosquery.tables.spec import SQL_TYPES, Column, Table

LOG = logging.getLogger(__name__)
CALL_TIMEOUT = 20.0
# Seconds a query waits for a registered extension's socket to accept (see _open)
CONNECT_PATIENCE = 1.0
# osquery's ConstraintOperator codes (sqlite's SQLITE_INDEX_CONSTRAINT_*) for what the planner pushes down
OPERATORS = {EQ: 2, LIKE: 65, GLOB: 66}
# osquery's ColumnOptions bits, as the column routes' "op" carries them
OPTION_FLAGS = ((1, "index"), (2, "required"), (4, "additional"), (8, "optimized"), (16, "hidden"))


def table_spec(name, routes, default_index=True):
    """A Table from an extension's column routes; with --extensions_default_index every column is an index."""
    columns = []
    for route in routes:
        if route.get("id") != "column" or not route.get("name"):
            continue
        type_ = route.get("type", "TEXT").upper().replace(" ", "_")
        options = int(route.get("op", "0") or 0)
        flags = [flag for bit, flag in OPTION_FLAGS if options & bit]
        if default_index and "index" not in flags:
            flags.append("index")
        columns.append(Column(route["name"], type_ if type_ in SQL_TYPES else "TEXT", flags))
    return Table(name, None, ["extension"], "Table provided by an extension", "", columns)


def context_json(table, context):
    """osquery's JSON query context: the pushed-down constraints per column, and the columns used."""
    constraints = []
    for column in table.columns:
        pairs = context.constraints.get(column.name, ())
        expressions = [{"op": OPERATORS[op], "expr": str(item)} for op, value in pairs if op in OPERATORS
                       for item in (sorted(value, key=str) if isinstance(value, frozenset) else [value])]
        if expressions:
            constraints.append({"name": column.name, "list": expressions, "affinity": column.type})
    used = [c.name for c in table.columns if context.uses(c.name)]
    return json.dumps({"constraints": constraints, "colsUsed": used})


def _typed(column, text):
    if column.type == "TEXT" or text is None:
        return text
    try:
        return float(text) if column.type == "DOUBLE" else int(text)
    except ValueError:
        return None


class ExtensionTables:
    """The extension tables served on one engine, and which extension (uuid) owns each."""

    def __init__(self, engine, lock, socket_path, default_index=True):
        self.engine = engine
        self.lock = lock
        self.socket_path = socket_path
        self.default_index = default_index
        self._owners = {}           # table name -> uuid
        self._specs = {}            # table name -> Table, kept after the owner goes (SQLite keeps the module)
        self._mutex = threading.Lock()

    def add(self, uuid, registry):
        """Serve the tables of a newly registered extension; returns the names it may not take."""
        refused = []
        for name, routes in sorted((registry or {}).get("table", {}).items()):
            with self._mutex:
                if name in self.engine.tables and self._owners.get(name) is None and name not in self._specs:
                    refused.append(name)        # a built-in table: osquery refuses the duplicate too
                    continue
                spec = table_spec(name, routes, self.default_index)
                first = name not in self._specs
                self._specs[name] = spec
                self._owners[name] = uuid
            with self.lock:
                if first:
                    self.engine.add_table(spec, self._generator(name))
                else:
                    self.engine.tables[name] = spec
            LOG.info("extension table %s registered (uuid %d)", name, uuid)
        return refused

    def remove(self, uuid):
        """Stop serving the tables of an extension that went away."""
        with self._mutex:
            gone = [name for name, owner in self._owners.items() if owner == uuid]
            for name in gone:
                del self._owners[name]
        with self.lock:
            for name in gone:
                self.engine.tables.pop(name, None)
        for name in gone:
            LOG.info("extension table %s removed (uuid %d)", name, uuid)

    def _generator(self, name):
        def generate(context):
            with self._mutex:
                uuid, spec = self._owners.get(name), self._specs[name]
            if uuid is None:
                raise QueryError("no such table: %s" % name)
            response = call_extension("%s.%d" % (self.socket_path, uuid), name,
                                      {"action": "generate", "context": context_json(spec, context)})
            by_name = {c.name: c for c in spec.columns}
            for row in response:
                yield {key: _typed(by_name[key], value) for key, value in row.items() if key in by_name}
        return generate


@contextlib.contextmanager
def _extension(path, timeout):
    """A Thrift client of the extension listening at `path` (osquery's wire format)."""
    # pylint: disable=import-outside-toplevel  # thrift is loaded with the socket only
    from osquery.extensions import Extension
    from pyosquery.extensions import codec
    from thrift.transport import TSocket, TTransport
    socket = TSocket.TSocket(unix_socket=path)
    socket.setTimeout(timeout * 1000)
    transport = codec.buffered(socket)
    try:
        _open(transport)
        yield Extension.Client(codec.protocol(transport))
    finally:
        transport.close()


def _open(transport, patience=CONNECT_PATIENCE):
    """Open `transport`, retrying for `patience` seconds: osquery's SDK registers an extension
    before its own socket listens, so a query right after registration can find no socket yet."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return transport.open()
        except Exception:   # pylint: disable=broad-except  # thrift wraps ENOENT and ECONNREFUSED alike
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def call_extension(path, table, request):
    """The rows an extension's table plugin returns; QueryError when it fails or cannot be reached."""
    try:
        with _extension(path, CALL_TIMEOUT) as client:
            response = client.call("table", table, request)
    except Exception as error:   # pylint: disable=broad-except  # thrift's transport errors and OSError alike
        raise QueryError("extension table %s: %s" % (table, error)) from None
    if response.status.code != 0:
        raise QueryError("extension table %s: %s" % (table, response.status.message))
    return response.response or []


def ping_extension(path, timeout=2.0):
    """True when the extension at `path` answers a ping."""
    try:
        with _extension(path, timeout) as client:
            return client.ping().code == 0
    except Exception:   # pylint: disable=broad-except  # any failure means it is gone
        return False
