"""Form widgets shared by every app."""

from __future__ import annotations

from django import forms


class IsoDateInput(forms.DateInput):
    """``<input type=date>``, whose value must be ISO (YYYY-MM-DD) whatever the page's locale:
    a value in the locale's format shows as an empty field."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
