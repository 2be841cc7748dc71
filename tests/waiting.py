"""Waiting on a condition (never a fixed sleep): shared by the browser and database suites."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 60.0, what: str = "condition", interval: float = 0.1):
    """Poll ``predicate()`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
