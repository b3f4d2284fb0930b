"""Results as small frozen dataclasses that serialize to JSON.

Every statistical answer names its method and carries the library version, so a number in a
report can be traced to the code that computed it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from anagen.evidence.version import EVIDENCE_VERSION


def _plain(value: Any) -> Any:
    """Turn numpy scalars, tuples, nested dataclasses and non-finite floats into JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclasses.dataclass(frozen=True)
class Result:
    """Base for every result: ``to_dict`` / ``to_json`` add the library version."""

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data.setdefault("library_version", EVIDENCE_VERSION)
        return data

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)
