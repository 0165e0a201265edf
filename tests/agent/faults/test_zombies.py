"""Issue 11, item 7: recursive file and hash walks skip what they cannot read, a zombie's /proc entries
included (its net directory opens, then gives EINVAL while read)."""

import os
import subprocess

import pytest


@pytest.fixture(name="zombie")
def fixture_zombie():
    """A child that has exited and is not reaped yet."""
    child = subprocess.Popen(["true"])   # pylint: disable=consider-using-with
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)     # exited, left unreaped
    yield child.pid
    child.wait()


@pytest.mark.parametrize("table", ["file", "hash"])
def test_a_recursive_walk_through_a_zombie_skips_what_it_cannot_read(query, zombie, table):
    rows = query("SELECT path FROM %s WHERE path LIKE '/proc/%d/%%%%'" % (table, zombie))
    paths = {row["path"] for row in rows}
    assert "/proc/%d/status" % zombie in paths
    net = "/proc/%d/net/" % zombie            # the directory itself is listed (osquery marks it with '/')
    assert not any(path.startswith(net) and path != net for path in paths)
