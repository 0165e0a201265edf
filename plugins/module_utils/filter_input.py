"""Checks shared by the filters on what they were given; errors name the filter and the host."""

from ansible_collections.pyosquery.fleet.plugins.module_utils.schedule_results import ResultError, unusable


class InputError(ValueError):
    """Bad filter input; the message names the filter, the host and the JSON path at fault."""


def results_by_host(value, caller):
    """{host: schedule_info result} of the hosts whose result holds data, and {host: why} of the rest."""
    if not isinstance(value, dict):
        raise InputError("%s: expected a mapping of host to schedule_info result, got %s" % (caller, type(value).__name__))
    usable, missing = {}, {}
    for host, result in value.items():
        try:
            why = unusable(result)
        except ResultError as error:
            raise InputError("%s: host %s: %s" % (caller, host, error)) from None
        if why:
            missing[host] = why
        else:
            usable[host] = result
    return usable, missing


def query_list(value, caller, option="queries"):
    """A list of query names, or None when not given."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise InputError("%s: %s must be a list of query names (as in osquery_schedule), got %r" % (caller, option, value))
    return value


def per_host(results, caller, function, *args):
    """{host: function(result, *args)}, a result not in schedule_info's shape named by its host."""
    values = {}
    for host, result in results.items():
        try:
            values[host] = function(result, *args)
        except ResultError as error:
            raise InputError("%s: host %s: %s" % (caller, host, error)) from None
    return values
