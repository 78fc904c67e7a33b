"""Child processes that end when the process that started them ends.

A server started for a test or a benchmark must not outlive its parent: a suite stopped by SIGTERM or
SIGKILL runs no fixture teardown, and a server left behind holds a port and a model in memory. On Linux
the child asks the kernel for a signal when its parent dies (``prctl(PR_SET_PDEATHSIG)``, see prctl(2));
``subprocess`` has no option for it, so it is set in ``preexec_fn`` through ctypes. Elsewhere the
function is a no-op and the caller's own teardown is the only guard.

The signal follows the *thread* that forked the child (prctl(2)); start such children from a thread
that lives as long as they should (the main thread, as pytest's fixtures do).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _end_with(parent: int):
    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:           # the parent died between fork and prctl
            os._exit(1)
    return preexec


def tied_to_parent() -> dict:
    """Keyword arguments for :class:`subprocess.Popen` that end the child (SIGTERM) when this process ends.

    Examples
    --------
    >>> import subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "pass"], **tied_to_parent())
    >>> child.wait()
    0
    """
    if not sys.platform.startswith("linux"):
        return {}
    return {"preexec_fn": _end_with(os.getpid())}
