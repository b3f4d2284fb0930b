"""Reading the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

ACTIONS = {LogEntry.Action.CREATE: "created", LogEntry.Action.UPDATE: "updated", LogEntry.Action.DELETE: "deleted"}


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    action: str
    record: str
    actor: str
    changes: dict[str, list]
    remote_addr: str | None
    request_id: str | None


def record_history(obj: Model, *, related: list[Model] | tuple = ()) -> list[HistoryEntry]:
    """Changes to ``obj`` (and to the given related records), newest first."""
    entries: QuerySet[LogEntry] = LogEntry.objects.none()
    for o in (obj, *related):
        ct = ContentType.objects.get_for_model(type(o))
        entries = entries | LogEntry.objects.filter(content_type=ct, object_pk=str(o.pk))
    return [_entry(e) for e in entries.select_related("actor", "content_type").order_by("-timestamp", "-id")[:500]]


def history_for_records(model: type[Model], pks) -> list[HistoryEntry]:
    ct = ContentType.objects.get_for_model(model)
    qs = LogEntry.objects.filter(content_type=ct, object_pk__in=[str(p) for p in pks])
    return [_entry(e) for e in qs.select_related("actor", "content_type").order_by("-timestamp", "-id")[:500]]


def _own_field_names(content_type: ContentType) -> set[str] | None:
    model = content_type.model_class()
    if model is None:
        return None
    return {f.name for f in model._meta.get_fields() if f.concrete or f.many_to_many and not f.auto_created}


def _readable_changes(e: LogEntry) -> dict[str, list]:
    """The record's own fields that changed: auditlog also lists reverse relations on create
    ("consents: None → patients.Consent.None") and unchanged empty values, which only add noise."""
    changes = e.changes_dict if hasattr(e, "changes_dict") else (e.changes or {})
    own = _own_field_names(e.content_type)
    out = {}
    for name, change in changes.items():
        if own is not None and name not in own:
            continue
        if isinstance(change, (list, tuple)) and len(change) == 2:
            old, new = change
            if old == new:
                continue
            # A new record: its primary key and the fields left empty say nothing.
            if e.action == LogEntry.Action.CREATE and (name == "id" or new in (None, "", "None")):
                continue
        out[name] = change
    return out


def _entry(e: LogEntry) -> HistoryEntry:
    return HistoryEntry(
        when=e.timestamp,
        action=ACTIONS.get(e.action, "accessed"),
        record=f"{e.content_type.name}: {e.object_repr}",
        actor=str(e.actor) if e.actor else (e.actor_email or "system"),
        changes=_readable_changes(e),
        remote_addr=e.remote_addr,
        request_id=e.cid,
    )
