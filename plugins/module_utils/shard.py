"""osquery's machine shard of a hostname, computed as the agent computes it.

The agent (files/agent, pyosquery.config.shard.machine_shard) follows osquery's getMachineShard:
the hostname with surrounding whitespace trimmed, SHA-1 of its UTF-8 bytes, the first byte
scaled to 0..100 with integer division. A query or pack with `shard: S` runs on the hosts whose
machine shard is <= S, so a host in the 10 % shard is also in the 25 % shard.
"""

import hashlib


def machine_shard(hostname):
    """The machine shard (0..100) of `hostname`; ValueError names what is wrong with it."""
    if not isinstance(hostname, str):
        raise ValueError("expected a hostname string, got %s %r" % (type(hostname).__name__, hostname))
    # str.strip() trims every Unicode whitespace character, as the agent does
    name = hostname.strip()
    try:
        data = name.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("hostname %r cannot be encoded as UTF-8: %s" % (hostname, error.reason)) from None
    return hashlib.sha1(data, usedforsecurity=False).digest()[0] * 100 // 255


def in_shard(host_shard, shard):
    """Whether a host of machine shard `host_shard` runs an item with `shard` (None, 0 or less: every host)."""
    return not shard or shard <= 0 or host_shard <= shard
