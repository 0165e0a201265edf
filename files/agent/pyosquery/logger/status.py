"""Status logs in glog's format, so alerting written for osqueryd's logs keeps working.

Files: `<logger_path>/pyosqueryd.<LEVEL>.<YYYYMMDD-HHMMSS>.<pid>`, each with a symlink
`pyosqueryd.<LEVEL>` to the newest. As in glog, a message goes to its own level's file and
to every lower level's (an error also appears in the INFO and WARNING files). Library code
logs through `logging.getLogger("pyosquery...")`; the daemon installs these handlers.
"""

import logging
import os
import sys
import threading
import time

from pyosquery import private_dirs
from pyosquery.logger import whole_lines

PROGRAM = "pyosqueryd"
LEVELS = ((logging.INFO, "INFO"), (logging.WARNING, "WARNING"), (logging.ERROR, "ERROR"))
# glog's severities by number, as logger_min_status and logger_min_stderr name them
SEVERITIES = (logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)
NOTHING = logging.CRITICAL + 1


class GlogFormatter(logging.Formatter):
    """`<L><MMDD> <HH:MM:SS>.<usec> <thread id> <file>:<line>] <message>`"""

    def format(self, record):
        seconds = int(record.created)
        stamp = time.strftime("%m%d %H:%M:%S", time.localtime(seconds))
        usec = int((record.created - seconds) * 1e6)
        letter = "F" if record.levelno >= logging.CRITICAL else record.levelname[0]
        thread = getattr(record, "native_thread", 0)
        return "%s%s.%06d %d %s:%d] %s" % (letter, stamp, usec, thread, record.filename, record.lineno,
                                           record.getMessage())


class _ThreadId(logging.Filter):
    def filter(self, record):
        record.native_thread = threading.get_native_id()
        return True


class LevelFile(logging.Handler):
    """One severity's file, opened on its first message (as glog does), with its symlink.

    Lines are written whole or not at all (pyosquery.logger.whole_lines); lines that cannot be
    written (a full disk) wait, up to PENDING_MAX of them, and go out first once writing works again.
    """

    PENDING_MAX = 1000

    def __init__(self, directory, level, name, mode=0o640):
        logging.Handler.__init__(self, level)
        self.directory = directory
        self.mode = mode
        self.name_ = name
        self.fd = None
        self.pending = []

    def _open(self):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = os.path.join(self.directory, "%s.%s.%s.%d" % (PROGRAM, self.name_, stamp, os.getpid()))
        self.fd = os.open(path, whole_lines.OPEN_FLAGS, self.mode)
        os.fchmod(self.fd, self.mode)       # whatever the umask
        link = os.path.join(self.directory, "%s.%s" % (PROGRAM, self.name_))
        try:
            if os.path.islink(link) or os.path.exists(link):
                os.unlink(link)
            os.symlink(os.path.basename(path), link)
        except OSError:
            pass        # a missing convenience link must not stop logging

    def emit(self, record):
        try:
            line = self.format(record) + "\n"
        except Exception:   # pylint: disable=broad-except
            self.handleError(record)
            return
        self.pending.append(line)
        try:
            if self.fd is None:
                self._open()
            whole_lines.append(self.fd, "".join(self.pending).encode("utf-8"))
        except OSError:
            del self.pending[:-self.PENDING_MAX]    # kept for the next message; the oldest go first
            return
        self.pending = []

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        logging.Handler.close(self)


def glog_level(severity):
    """A glog severity (0 INFO, 1 WARNING, 2 ERROR, 3 FATAL) as a logging level; above 3 nothing passes."""
    return SEVERITIES[max(severity, 0)] if severity < len(SEVERITIES) else NOTHING


def levels(values, shell=False):
    """(the least severe level logged at all, the least severe that also goes to stderr), as osquery.

    logger_min_status is glog's minloglevel: below it nothing is logged anywhere (the shell's default
    is WARNING); logger_min_stderr is glog's stderrthreshold. --verbose logs everything, debug too,
    and on stderr.
    """
    if values.verbose:
        return logging.DEBUG, logging.DEBUG
    if shell and values.is_default("logger_min_status"):
        least = logging.WARNING
    else:
        least = glog_level(values.logger_min_status)
    return least, max(least, glog_level(values.logger_min_stderr))


def setup(values, shell=False):
    """Install the status handlers the flags ask for; returns the root 'pyosquery' logger.

    Files under logger_path when the filesystem logger is on and the directory is writable
    (else stderr, as glog falls back), stderr when logger_stderr is set.
    """
    logger = logging.getLogger("pyosquery")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = False
    least, on_stderr = levels(values, shell)
    logger.setLevel(least)
    formatter = GlogFormatter()
    thread_filter = _ThreadId()
    handlers = []
    directory = values.logger_path
    plugins = [p.strip() for p in values.logger_plugin.split(",")]
    refused = None
    if not values.disable_logging and "filesystem" in plugins:
        refused = _unusable(directory)
        if refused is None:
            mode = int(values.logger_mode, 8)
            handlers = [LevelFile(directory, level, name, mode) for level, name in LEVELS]
    if values.logger_stderr or not handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(on_stderr)
        handlers.append(stderr)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(thread_filter)
        logger.addHandler(handler)
    if refused:
        logger.error("Cannot write status logs to %s: %s; they go to stderr", directory, refused)
    return logger


def relevel(values):
    """Apply logger_min_status / logger_min_stderr / verbose again (a config's options changed them)."""
    logger = logging.getLogger("pyosquery")
    least, on_stderr = levels(values)
    logger.setLevel(least)
    for handler in logger.handlers:
        if not isinstance(handler, LevelFile):
            handler.setLevel(on_stderr)


def _unusable(directory):
    """Why the status logs cannot go to `directory`, or None."""
    try:
        private_dirs.ensure(directory, 0o750)
    except OSError as error:
        return error.strerror or str(error)
    return None if os.access(directory, os.W_OK) else "not writable"
