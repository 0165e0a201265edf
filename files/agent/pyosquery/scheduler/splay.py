"""Splayed intervals: each host runs a query at a slightly different interval, so a fleet
does not run it in the same second. The splay is kept in the store so it survives restarts."""

import random


def splay(interval, percent):
    """A uniform random integer in [max(1, i - d), i + d], d = int(i * percent / 100)."""
    if percent <= 0 or percent > 100:
        return interval
    diff = int(interval * percent / 100)
    return random.randint(max(1, interval - diff), interval + diff)


def effective_percent(percent):
    """osquery resets a splay percent of 1 or less to 10 when it reads a pack."""
    return 10 if percent <= 1 else percent


def splayed_interval(store, name, interval, percent):
    """The query's splayed interval, reused from the store while its interval is unchanged.

    osquery keys this by the query's short name, so two packs with the same query name
    share one splay; we key by the full scheduled name.
    """
    key = "interval." + name
    saved = store.get(key)
    if saved:
        configured, _, value = saved.partition(":")
        if configured == str(interval) and value.isdigit():
            return int(value)
    value = splay(interval, effective_percent(percent))
    store.put(key, "%d:%d" % (interval, value))
    return value
