"""A real short write without a full disk: RLIMIT_FSIZE lets a write reach the limit (a short
write), and the next one fails with EFBIG, as a full disk gives a short write then ENOSPC."""

import contextlib
import resource
import signal


@contextlib.contextmanager
def file_size_limit(size):
    """Files of this process cannot grow past `size` bytes (writes past it fail with EFBIG)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
