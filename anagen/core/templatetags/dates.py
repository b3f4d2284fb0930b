"""``{{ text|from_iso|date:"SHORT_DATETIME_FORMAT" }}``: a date-time stored as ISO 8601 text (in a
JSON field, say) written like every other date, in the active (clinic's) timezone."""

from __future__ import annotations

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def from_iso(value):
    """The ``datetime`` an ISO 8601 string names; anything else is returned unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return value
