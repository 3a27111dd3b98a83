"""Waiting in tests for something another process does: poll a check until it holds."""

from __future__ import annotations

import time
from typing import Any, Callable


def poll(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.3) -> Any:
    """The first true value of ``check()`` within ``timeout`` seconds; its last value otherwise."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def wait_for(check: Callable[[], Any], what: str = "the expected result", timeout: float = 60.0) -> Any:
    """The first true value of ``check()``, or an ``AssertionError`` naming ``what`` did not come."""
    value = poll(check, timeout)
    if not value:
        raise AssertionError(f"{what}: nothing within {timeout}s")
    return value
