"""Bounded integer types for every API path, query and form parameter.

A bare ``int`` lets a caller send ``?offset=99999999999999999999999``; the number then reaches
the database driver, which cannot hold it (SQLite raises OverflowError, PostgreSQL an
out-of-range error) and the caller gets a 500. These types stop such a number at the
parameter, with a 400 that names the parameter and the allowed range. Every route uses them;
``anagen/api/tests/test_params.py`` fails when an integer parameter without a maximum appears
in the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

# Largest id a caller may send: a JSON number that every client reads exactly, and far below
# what a BigAutoField holds.
MAX_ID = 2**53 - 1
# Largest offset, count or small quantity a caller may send: a 32-bit integer column holds it.
MAX_COUNT = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60 * 366)]


def _sane_moment(value):
    """A date-time a database stores as given: years 1900 to 2200, an offset within ±14 hours
    (PostgreSQL refuses "-20:42", and a 500 is not the caller's answer)."""
    from datetime import timedelta

    if value is None:
        return value
    if not 1900 <= value.year <= 2200:
        raise ValueError("use a date between the years 1900 and 2200")
    offset = value.utcoffset()
    if offset is not None and abs(offset) > timedelta(hours=14):
        raise ValueError("use a UTC offset between -14:00 and +14:00")
    return value


DateTime = Annotated[datetime, AfterValidator(_sane_moment)]
