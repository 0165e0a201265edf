# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The running agent, reached over its extension socket (osquery's Thrift ExtensionManager API).

One public face for the modules: AgentClient.query(sql) gives rows as dicts of strings, as
osquery puts them on the wire. Every way of not getting an answer (no socket file, a refused
connection, a timeout, a hang-up, the agent rejecting the query) becomes one AgentError that
says which and names the socket; the translation happens here and nowhere else.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import socket
import stat

from ansible_collections.pyosquery.fleet.plugins.module_utils import thrift_binary

DEFAULT_SOCKET = "/var/lib/pyosquery/pyosquery.em"
DEFAULT_TIMEOUT = 10.0

# kinds of AgentError, for callers that act on them
NO_SOCKET = "no_socket"
REFUSED = "refused"
DENIED = "permission_denied"
TIMEOUT = "timeout"
HUNG_UP = "hung_up"
QUERY_FAILED = "query_failed"
PROTOCOL = "protocol"


def connection_argument_spec():
    """The options every module that reads the agent takes (documented in the `agent` doc fragment)."""
    return dict(socket=dict(type="path", default=DEFAULT_SOCKET),
                timeout=dict(type="float", default=DEFAULT_TIMEOUT))


class AgentError(Exception):
    """The agent did not answer, or refused: `kind` says which, the message names the socket."""

    def __init__(self, kind, message):
        super(AgentError, self).__init__(message)
        self.kind = kind


def _connect_error(path, error, timeout):
    """AgentError for an OSError raised while connecting to `path`."""
    if isinstance(error, socket.timeout):
        return AgentError(TIMEOUT, "the agent did not accept a connection on %s within %s s" % (path, timeout))
    if error.errno == errno.ENOENT:
        return AgentError(NO_SOCKET, "no socket file at %s: the agent is not running, or its extensions_socket "
                                     "flag names another path" % path)
    if error.errno == errno.ECONNREFUSED:
        if not _is_socket(path):
            return AgentError(REFUSED, "%s is not a socket: check the extensions_socket flag" % path)
        return AgentError(REFUSED, "connection refused on %s: the socket file is left from an agent that "
                                   "is no longer running" % path)
    if error.errno in (errno.EACCES, errno.EPERM):
        return AgentError(DENIED, "permission denied on %s: the socket is root's only (mode 0600); "
                                  "run the task with become" % path)
    return AgentError(REFUSED, "cannot connect to the agent on %s: %s" % (path, error.strerror or error))


def _is_socket(path):
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return True     # gone meanwhile: say what connect() said, not something about the file


class AgentClient:
    """One connection to the agent's socket, opened on first use; a context manager closes it."""

    def __init__(self, path=DEFAULT_SOCKET, timeout=DEFAULT_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self._sock = None
        self._reader = None
        self._seqid = 0

    @classmethod
    def from_params(cls, params):
        return cls(params["socket"], params["timeout"])

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def close(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = None

    def query(self, sql):
        """The rows of `sql` run in the agent: a list of {column: text} ('' for NULL)."""
        return self._response("query", sql)

    def columns(self, sql):
        """[(column, declared type)] of the result of `sql`, prepared by the agent but not run."""
        return [next(iter(column.items())) for column in self._response("getQueryColumns", sql)]

    def _response(self, method, sql):
        response = self._call(method, sql).get(0) or {}
        status = response.get(1) or {}
        if status.get(1, 0) != 0:
            raise AgentError(QUERY_FAILED, "the agent on %s refused the query: %s"
                             % (self.path, status.get(2) or "no reason given"))
        return response.get(2) or []

    def _call(self, method, *args):
        self._open()
        self._seqid += 1
        try:
            self._sock.sendall(thrift_binary.encode_call(method, self._seqid, *args))
            return self._reader.message(self._seqid)
        except socket.timeout:
            self.close()
            raise AgentError(TIMEOUT, "the agent on %s did not answer within %s s" % (self.path, self.timeout))
        except (EOFError, OSError) as error:
            self.close()
            reason = error if isinstance(error, EOFError) else (error.strerror or error)
            raise AgentError(HUNG_UP, "the agent on %s hung up: %s (did it stop or restart?)" % (self.path, reason))
        except thrift_binary.RemoteException as error:
            self.close()
            raise AgentError(QUERY_FAILED, "the agent on %s failed the call: %s" % (self.path, error))
        except thrift_binary.ProtocolError as error:
            self.close()
            raise AgentError(PROTOCOL, "%s does not speak osquery's extension protocol: %s" % (self.path, error))

    def _open(self):
        if self._sock is not None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except (OSError, socket.timeout) as error:
            sock.close()
            raise _connect_error(self.path, error, self.timeout)
        self._sock = sock
        self._reader = thrift_binary.Reader(sock.recv)
