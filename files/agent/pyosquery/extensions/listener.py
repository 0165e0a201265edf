"""The listening UNIX socket: owner-only from the moment it exists, never stealing a live one."""

import errno
import os
import socket
import stat

# Applied while binding, so the socket file is born 0600 rather than chmod'ed later.
_PRIVATE_UMASK = 0o177


class SocketInUse(RuntimeError):
    """The socket path belongs to something else: a live server or a file that is not a socket."""


def listen_private(path, backlog=16):
    """Bind and listen on `path` (mode 0600); return (socket, inode of the new file)."""
    clear_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _bind_private(sock, path)
        sock.listen(backlog)
        return sock, os.stat(path).st_ino
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:   # someone bound it between our check and our bind
            raise SocketInUse("Extension socket %s is in use by another process" % path) from error
        raise


def _bind_private(sock, path):
    # The umask is process-wide, so other threads creating files during these few
    # microseconds get a stricter mode, never a looser one: a safe direction to err in.
    previous = os.umask(_PRIVATE_UMASK)
    try:
        sock.bind(path)
    finally:
        os.umask(previous)


def clear_stale(path):
    """Remove a socket file nobody listens on; refuse a live one or anything not a socket."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketInUse("Extension socket path %s exists and is not a socket" % path)
    if _answers(path):
        raise SocketInUse("Extension socket %s is in use: a live server answers on it" % path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _answers(path):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return False    # left behind by a process that died without removing it
    except OSError:
        return True     # busy (backlog full) or not ours to probe: treat as live
    finally:
        probe.close()
    return True


def remove_if_ours(path, inode):
    """Unlink `path` unless another server has replaced it since we bound it."""
    try:
        if os.lstat(path).st_ino == inode:
            os.unlink(path)
    except FileNotFoundError:
        pass
