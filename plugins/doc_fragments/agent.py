# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """How the modules reach the running agent (pyosquery.fleet.agent)."""

    DOCUMENTATION = r'''
options:
  socket:
    description:
      - Path of the running agent's extension socket (the agent's C(extensions_socket) flag).
      - The module speaks osquery's Thrift ExtensionManager protocol on it directly, with the
        standard library only; no agent code and no extra process run on the host.
      - The socket is root's only (mode 0600), so tasks need privilege escalation (C(become)) unless they
        connect as root.
    type: path
    default: /var/lib/pyosquery/pyosquery.em
  timeout:
    description:
      - Seconds to wait for the agent to accept the connection and for each answer.
      - The agent answers between its scheduled queries, so a long-running query can delay it.
    type: float
    default: 10.0
notes:
  - When the agent does not answer, the task fails with a message that says why (no socket file,
    connection refused, permission denied, no answer within O(timeout), or the agent's own error)
    and names the socket; it never returns empty results instead.
'''
