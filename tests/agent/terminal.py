"""Read what a program prints on a pseudo-terminal, for the interactive shell tests."""

import os
import select
import time


def read_until(fd, marker, timeout=20):
    """Bytes from `fd` until `marker` appears (or the timeout), decoded."""
    seen = b""
    deadline = time.time() + timeout
    while marker not in seen and time.time() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen.decode()
