"""What people read is shown correctly: dates in every locale, long text, units."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date

from django import forms
from django.utils import translation

import anagen


def _form_classes():
    for info in pkgutil.walk_packages(anagen.__path__, "anagen."):
        if info.name.endswith(".forms"):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                    yield cls


def test_every_date_field_gives_its_browser_an_iso_value():
    # <input type=date> reads only YYYY-MM-DD: a value in the locale's format shows as an empty field.
    checked = 0
    for cls in _form_classes():
        for name, field in cls.base_fields.items():
            widget = field.widget
            if isinstance(widget, forms.DateInput) and widget.input_type == "date":
                checked += 1
                with translation.override("de"):
                    html = widget.render(name, date(2025, 1, 10))
                assert 'value="2025-01-10"' in html, f"{cls.__module__}.{cls.__name__}.{name}: {html}"
    assert checked >= 5


def test_long_unbroken_text_wraps_everywhere():
    css = (anagen.__path__[0] + "/static/anagen/anagen.css")
    text = open(css, encoding="utf-8").read()
    assert "overflow-wrap:anywhere" in text.replace(" ", "")
