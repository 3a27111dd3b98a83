"""Keeping what a server loads at start out of Python's full garbage collections.

A Rasa process holds about half a million long-lived objects once its
libraries and model are loaded. Python's full collection goes through all of
them every time it runs, which holds up every conversation the server is
answering (about 0.2 s each time in the Rasa process). After a collection,
``gc.freeze()`` moves every object alive to a generation the collector no
longer visits; objects freed later by reference counting are freed as before.
Measured in docs/benchmarks.md ("Less work per turn, continued").
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect what is garbage now, then keep every object still alive out of later collections.

    Returns how many objects are kept out. Calling it again (after a new model
    is loaded) first lets the collector visit everything again, so that the
    previous model's cycles are collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
