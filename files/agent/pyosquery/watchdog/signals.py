"""The watcher's signals as events on one pipe, so a single-threaded loop can sleep and still
wake at once for SIGTERM, SIGINT, SIGHUP or a child's death (SIGCHLD)."""

import os
import select
import signal

WATCHED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)


class Signals:
    """Collects the watched signals; `wait` sleeps until a deadline or the next signal."""

    def __init__(self):
        self.read_fd, write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(write_fd, False)
        signal.set_wakeup_fd(write_fd)
        self.pending = set()
        for number in WATCHED:
            signal.signal(number, self._note)

    def _note(self, number, _frame):
        self.pending.add(number)

    def wait(self, seconds):
        """Sleep up to `seconds`; returns the signals that arrived (possibly none) and forgets them."""
        if not self.pending and seconds > 0:
            select.select([self.read_fd], [], [], seconds)
        try:
            while os.read(self.read_fd, 512):
                pass
        except BlockingIOError:
            pass
        arrived, self.pending = self.pending, set()
        return arrived
