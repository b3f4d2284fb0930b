"""Waiting for a condition in the page under the site's Content-Security-Policy.

Playwright's ``page.wait_for_function`` polls its predicate with ``new Function`` inside the
page, which the CSP (no 'unsafe-eval') refuses as soon as the first check is false. ``until``
polls from Python instead: ``page.evaluate`` runs through the DevTools protocol, outside the CSP.
"""

from __future__ import annotations

import time


def until(page, expression: str, *, timeout: float = 15.0, interval: float = 0.1) -> None:
    """Return once ``expression`` (JavaScript) is true in ``page``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
        time.sleep(interval)
