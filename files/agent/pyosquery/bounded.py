"""Read a text file an administrator points us at (config, pack, flagfile): never more than a limit,
never waiting, and never a FIFO, socket or directory. A path that is /dev/zero, a FIFO or a huge file
fails at once, with a reason, instead of exhausting memory or blocking the daemon forever.

Character devices are read (within the limit, without blocking) so the usual `--flagfile=/dev/null`
keeps working; /dev/zero then fails for its size.
"""

import os
import stat


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory", stat.S_IFBLK: "a block device"}


class Unreadable(Exception):
    """Why a file cannot be read (the message does not repeat the path)."""


def read_text(path, limit):
    """The UTF-8 text of the regular file `path`; Unreadable when it is not one, is over `limit` bytes or not UTF-8."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it changes nothing for a regular file
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        raise Unreadable("cannot read: %s" % (error.strerror or error)) from None
    try:
        kind = os.fstat(fd).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISCHR(kind)):
            raise Unreadable("cannot read: not a regular file (%s)" % _KINDS.get(stat.S_IFMT(kind), "unknown type"))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise Unreadable("cannot read: %s" % (error.strerror or error)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise Unreadable("the file is larger than %d bytes" % limit)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable("not UTF-8 text: %s" % error.reason) from None
