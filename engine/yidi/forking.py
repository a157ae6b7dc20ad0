"""Map a function over items in forked worker processes that inherit what the parent has loaded.

Why: the static checks and the officers' test cases of a 400-region tree are
CPU-bound Python, so only processes use both cores; a forked worker inherits
the loaded engine and cases instead of receiving them pickled. Where fork is
not available, or there is too little work to pay for starting workers, the
items are mapped here, in this process. So they are, too, while another
thread is running (a service embedding the engine, a Spark executor): a fork
copies every lock as it is at that moment, held or not, and a worker needing
one that another thread held would wait forever. Results come back in the
items' order.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

_state: Any = None   # what the workers' function is given besides an item (inherited by fork, never pickled)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fork_map(function: Callable[[Any, Any], Any], state: Any, items: Sequence, jobs: int | None = None, at_least: int = 4) -> list:
    """[function(state, item) for item in items], in up to `jobs` (default: every core) forked workers.

    `function` must be a module-level function (the workers find it by name);
    its results are pickled back, so they should be small.
    """
    workers = min(jobs or cores(), len(items))
    if (workers <= 1 or len(items) < at_least or "fork" not in multiprocessing.get_all_start_methods()
            or threading.active_count() > 1):
        return [function(state, item) for item in items]
    global _state
    _state = (function, state)
    try:
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            chunk = max(1, min(16, len(items) // (workers * 4)))
            return list(pool.map(_call, items, chunksize=chunk))
    finally:
        _state = None


def _call(item):
    function, state = _state
    return function(state, item)
