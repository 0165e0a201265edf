"""The impact filter: Fleet's performance-impact label of a query."""

DOCUMENTATION = r"""
name: impact
short_description: Fleet's performance-impact label (Minimal, Considerable, Excessive, Undetermined) of a query
version_added: 0.1.0
description:
  - Gives the label Fleet (fleetdm.com) shows in its "Performance impact" column, for people used
    to it. The rollout gate judges on its own budgets; this label is for reports and dashboards.
  - "Fleet's rule (read in fleetdm/fleet, 2025: C(server/datastore/mysql/aggregated_stats.go) and
    C(frontend/utilities/helpers.tsx)): per host that ran the query, the average user time and
    the average system time per execution in ms; across those hosts, the p50 of the user
    averages plus the p50 of the system averages, each p50 being the value at rank
    floor(0.5 * n) + 1 of the n sorted averages."
  - "Thresholds on that figure: below 2000 ms C(Minimal), below 4000 ms C(Considerable), 4000 ms
    or more C(Excessive); no executions on any host: C(Undetermined)."
  - Given results without C(deltas), the averages come from C(osquery_schedule)'s lifetime
    counters, exactly what Fleet reads; with C(deltas), from the runs since the baseline.
  - Given a number instead, it is taken as that figure (CPU ms per execution) and labelled;
    null gives C(Undetermined).
positional: _input
options:
  _input:
    description:
      - Mapping of host name to a P(pyosquery.fleet.schedule_info#module) result, or a CPU figure
        in ms per execution.
    type: raw
    required: true
  query:
    description: The query's name as in C(osquery_schedule); required with results.
    type: str
author: pyosquery.fleet developers
"""

EXAMPLES = r"""
- name: Fleet's label for a query across the play's hosts
  ansible.builtin.debug:
    msg: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'schedule')))
             | pyosquery.fleet.impact('pack_inventory_users') }}"
  run_once: true

- name: Label a figure
  ansible.builtin.debug:
    msg: "{{ 2500 | pyosquery.fleet.impact }}"     # Considerable
"""

RETURN = r"""
_value:
  description: One of C(Minimal), C(Considerable), C(Excessive), C(Undetermined).
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.pyosquery.fleet.plugins.module_utils.filter_input import InputError, per_host, results_by_host
from ansible_collections.pyosquery.fleet.plugins.module_utils.impact import fleet_indicator, host_averages, label

NAME = "impact"


def impact(data, query=None):
    """Fleet's label for query `query` across a mapping of results, or for a CPU figure."""
    if data is None or (isinstance(data, (int, float)) and not isinstance(data, bool)):
        return label(data)
    if not isinstance(query, str) or not query:
        raise AnsibleFilterError("impact: with schedule_info results, give the query's name: results | impact('pack_x_y')")
    try:
        usable = results_by_host(data, NAME)[0]
        averages = per_host(usable, NAME, host_averages, query)
    except InputError as error:
        raise AnsibleFilterError(str(error)) from None
    return label(fleet_indicator([pair for pair in averages.values() if pair is not None]))


class FilterModule:
    """pyosquery.fleet.impact"""

    def filters(self):
        return {NAME: impact}
