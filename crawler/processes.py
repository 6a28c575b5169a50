"""Processes that must not outlive their parent: the crawl's extraction workers and the daemon's
child crawls. The one home of that rule (Linux's parent-death signal)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies, even by SIGKILL.

    Returns False when the parent is already gone (this process was re-parented to init before
    the request took effect), so the caller can exit at once; True otherwise. A no-op (True)
    outside Linux.
    """
    if not sys.platform.startswith("linux"):
        return True
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    return os.getppid() != 1
