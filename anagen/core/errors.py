"""Errors a person can cause, with a message a person can act on.

Services raise :class:`ActionError` (or a subclass); the web views show ``message`` next to the
form and the API answers ``{"detail": message, "code": code}`` with ``status``. Anything else is
an internal error: logged with context, never shown as a traceback.
"""

from __future__ import annotations


class ActionError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class Conflict(ActionError):
    """The request is well formed but clashes with the current state (a double booking, say)."""

    status = 409
    code = "conflict"


class NotFound(ActionError):
    status = 404
    code = "not_found"
