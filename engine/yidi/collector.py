"""Pausing Python's cyclic garbage collector while a large, long-lived structure is built.

Loading a national tree makes hundreds of thousands of objects (parsed YAML
with positions, checked rules, kept results) that all stay alive. The
collector is triggered by allocations, and each full pass walks every object
made so far: while a 400-policy tree loads it runs again and again over the
same live objects — ~0.3 s of a 1 s load, freeing nothing. Paused, it
starts again where it was when the build ends, and nothing is lost: objects
in cycles that did become garbage meanwhile are collected then.

The same as Mercurial's `util.nogc`. The pause is process-wide (the
collector has no per-thread switch): another thread's allocations are not
collected for the length of a load either, which only defers that work.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Run the body with the collector off; it is turned on again after, if it was on before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
