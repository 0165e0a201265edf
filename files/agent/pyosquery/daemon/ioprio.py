"""ioprio_set(2) through libc, which Python's os module does not wrap."""

import ctypes
import ctypes.util
import platform

# syscall numbers of ioprio_set per architecture
SYSCALLS = {"x86_64": 251, "aarch64": 30, "i386": 289, "i686": 289, "armv7l": 314, "ppc64le": 273, "s390x": 282}
IOPRIO_WHO_PGRP = 2
IOPRIO_CLASS_IDLE = 3
IOPRIO_CLASS_SHIFT = 13


def set_idle():
    """Put this process group in the idle I/O class; False where that is not possible."""
    number = SYSCALLS.get(platform.machine())
    if number is None:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.syscall(number, IOPRIO_WHO_PGRP, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) == 0
    except (OSError, AttributeError):
        return False
