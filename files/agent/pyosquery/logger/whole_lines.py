"""Append whole lines to a log file, or nothing: no line is ever torn.

A write that fails part-way (a full disk gives a short write, then ENOSPC) is cut back to where
it began, and a file that a killed process left ending in a partial line is cut back to its last
newline when opened again. Log shippers read one JSON document per line; a torn line glued to
the next record makes both unreadable.
"""

import os

OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
_CHUNK = 65536


def append(fd, data):
    """Write `data` (bytes) at the end of the file open at `fd`; on failure the file is as before and OSError raised."""
    start = os.fstat(fd).st_size
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass            # nothing more to do: the error that matters is the write's
        raise


def repair_tail(path):
    """Cut a file back to its last newline; the number of bytes removed (0 when it ends whole or is missing)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return 0
    try:
        size = os.fstat(fd).st_size
        end = size
        while end > 0:
            begin = max(0, end - _CHUNK)
            chunk = os.pread(fd, end - begin, begin)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                end = begin + newline + 1
                break
            end = begin
        if end < size:
            os.ftruncate(fd, end)
        return size - end
    finally:
        os.close(fd)
