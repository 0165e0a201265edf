"""Fixtures of the fault suite: real small filesystems to fill or make read-only."""

import subprocess

import pytest


@pytest.fixture()
def tmpfs(tmp_path):
    """tmpfs(size="1m") mounts a tmpfs of that size for the test (we are root); all are unmounted after it."""
    mounted = []

    def mount(size="1m"):
        path = tmp_path / ("tmpfs%d" % len(mounted))
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0750" % size, "tmpfs", str(path)], check=True)
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


@pytest.fixture()
def small_tmpfs(tmpfs):
    """A 1 MiB tmpfs."""
    return tmpfs()


def fill(directory):
    """Fill the filesystem of `directory` with one file; its path (remove it to free the space)."""
    path = directory / "filler"
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError:
            pass
    return path


def remount_read_only(directory):
    subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
