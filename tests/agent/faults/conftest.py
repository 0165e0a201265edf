"""Fixtures of the fault suite: real small filesystems to fill."""

import subprocess

import pytest


@pytest.fixture()
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs mounted for the test (we are root), unmounted after it."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0750", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=False)


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
