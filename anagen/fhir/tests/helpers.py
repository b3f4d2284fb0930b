"""Checks shared by the export tests."""

from __future__ import annotations

import json

from anagen.fhir import validation


def references(node) -> list[str]:
    """Every ``reference`` string anywhere inside ``node``."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(references(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(references(item))
    return out


def check_resources(resources: list[dict]) -> dict[str, list[dict]]:
    """Every resource validates, ids are unique per type and every reference resolves within
    ``resources``; returns them grouped by type."""
    by_type: dict[str, list[dict]] = {}
    keys = set()
    for r in resources:
        validation.validate(r)
        key = f"{r['resourceType']}/{r['id']}"
        assert key not in keys, f"{key} exported twice"
        keys.add(key)
        by_type.setdefault(r["resourceType"], []).append(r)
    dangling = {ref for r in resources for ref in references(r)} - keys
    assert not dangling, f"references to resources not exported: {sorted(dangling)}"
    return by_type


def ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
