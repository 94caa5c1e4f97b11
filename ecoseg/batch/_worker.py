"""Set-up of the worker processes of a local cluster started by :func:`ecoseg.batch.connect`
(a Dask preload: ``LocalCluster(preload=["ecoseg.batch._worker"])``).

Ctrl-C in a terminal reaches every process of the command's group, the worker processes too.
Each then raised ``KeyboardInterrupt`` in its event loop and printed a traceback ('Process
Dask Worker process (from Nanny): ... KeyboardInterrupt') under the command's one-line
'ecoseg: interrupted'. The command stops them itself when it is interrupted (it closes the
cluster), so a worker process ignores SIGINT.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["dask_setup"]


def dask_setup(worker: Any) -> None:
    """Make this worker process ignore SIGINT (Ctrl-C), which its cluster's owner handles.

    Only in a worker process of its own (the event loop in the main thread); workers that are
    threads of the caller's process are left alone.

    Examples
    --------
    >>> import threading
    >>> t = threading.Thread(target=dask_setup, args=(None,)); t.start(); t.join()
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
