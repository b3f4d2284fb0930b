"""Product lots that a clinical study's blinding hides, seen from the treatments app.

A study sets lots aside for its arms (active product, placebo); which lot went into a patient
tells the arm. The studies app registers its one blinding rule here (``anagen.studies.apps``),
so this app need not import it:

- ``hidden_lot_ids(user)``: the lots ``user`` may not see (a queryset of ids, or a list);
  ``user`` None asks for what no one may see in an export or a narrative (every study lot);
- ``procedure_notes(user, procedure_ids)``: for study procedures, the note shown in place of
  the product (``{procedure_id: "Study ...: study product, side L"}``).

Every read of lots and product uses in this app (procedure page and list, the API, the recall
search, the stock pages) goes through :func:`exclude_hidden` in the selectors; the FHIR export
and the patient timeline ask with ``user`` None. Without a registered rule nothing is hidden.
"""

from __future__ import annotations

_rule: dict = {}


def register(*, hidden_lot_ids, procedure_notes) -> None:
    _rule["hidden_lot_ids"] = hidden_lot_ids
    _rule["procedure_notes"] = procedure_notes


def hidden_lot_ids(user):
    fn = _rule.get("hidden_lot_ids")
    return fn(user) if fn else []


def procedure_notes(user, procedure_ids) -> dict[int, str]:
    fn = _rule.get("procedure_notes")
    ids = [p for p in procedure_ids if p is not None]
    return fn(user, ids) if fn and ids else {}


def exclude_hidden(qs, user, lot_field: str = "lot_id"):
    """``qs`` without the rows whose lot ``user`` may not see."""
    return qs.exclude(**{f"{lot_field}__in": hidden_lot_ids(user)})

