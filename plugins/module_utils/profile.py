# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""profile_info's work: `pyosquery-profile --json` on the host, its report split into ranks and figures.

The tool scores each query's cost in a fresh `pyosqueryi` process (osquery's profile.py):
utilization, cpu_time, memory, fds and duration, each [rank 0..3, value]; a query that failed
gets rank 3 and -1 everywhere, with the reason on stderr as `<name>: <reason>`.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

FAILED = -1
MANUAL = "manual"   # the tool's name for a query given with --query


class ProfileError(Exception):
    """The profiler could not run, or a query failed under it; the message names the query."""


def base_command(params):
    command = [params["pyosquery_profile"], "--json", "--rounds", str(params["rounds"]), "--count",
               str(params["count"]), "--timeout", str(params["timeout"]), "--delay", str(params["delay"]),
               "--interval", str(params["interval"])]
    for metric, limits in sorted((params["thresholds"] or {}).items()):
        command += ["--" + metric] + [str(limit) for limit in limits]
    return command


def entry(scored, sql, errors):
    """One query's result from its report entry {metric: [rank, value]}."""
    ranks = dict((metric, pair[0]) for metric, pair in scored.items())
    figures = dict((metric, pair[1]) for metric, pair in scored.items())
    failed = bool(figures) and all(value == FAILED for value in figures.values())
    return dict(sql=sql, scores=ranks, figures=figures, worst=max(ranks.values()) if ranks else None,
                failed=failed, errors=errors)


def errors_by_name(stderr):
    """{name: [reason, ...]} from the tool's `<name>: <reason>` lines."""
    found = {}
    for line in stderr.splitlines():
        name, sep, reason = line.partition(": ")
        if sep:
            found.setdefault(name, []).append(reason)
    return found


def _run(module, command, what):
    rc, out, err = module.run_command(command)
    try:
        report = json.loads(out)
    except ValueError:
        raise ProfileError("pyosquery-profile did not profile %s (exit code %d): %s" % (what, rc, err.strip() or out))
    return report, errors_by_name(err)


def profile_queries(module, queries):
    """{name: entry} for {name: sql}, one profiler run per query so each keeps its own name."""
    results = {}
    for name, sql in queries.items():
        report, errors = _run(module, base_command(module.params) + ["--query", sql], "query %s" % name)
        results[name] = entry(report[MANUAL], sql, errors.get(MANUAL, []))
    return results


def profile_pack(module, path):
    """{scheduled name: entry} for the queries of the pack file at `path`."""
    if not os.path.exists(path):
        raise ProfileError("no pack file at %s" % path)
    report, errors = _run(module, base_command(module.params) + ["--pack", path], "pack %s" % path)
    return dict((name, entry(scored, None, errors.get(name, []))) for name, scored in report.items())


def failure_message(results):
    """A message naming each query that failed under the profiler and why, or None."""
    failed = ["%s (%s)" % (name, "; ".join(entry["errors"]) or "no reason given")
              for name, entry in sorted(results.items()) if entry["failed"]]
    return "failed under the profiler: %s" % ", ".join(failed) if failed else None


def run(module):
    """{name: entry} for the queries the task names."""
    params = module.params
    if not os.access(params["pyosquery_profile"], os.X_OK):
        raise ProfileError("%s is not there (is the agent installed?)" % params["pyosquery_profile"])
    if params["queries"]:
        results = profile_queries(module, params["queries"])
    else:
        results = profile_pack(module, os.path.join(params["packs_dir"], params["pack"] + ".conf"))
    return results
