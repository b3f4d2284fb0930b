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


def _entry(e: LogEntry) -> HistoryEntry:
    return HistoryEntry(
        when=e.timestamp,
        action=ACTIONS.get(e.action, "accessed"),
        record=f"{e.content_type.name}: {e.object_repr}",
        actor=str(e.actor) if e.actor else (e.actor_email or "system"),
        changes=e.changes_dict if hasattr(e, "changes_dict") else (e.changes or {}),
        remote_addr=e.remote_addr,
        request_id=e.cid,
    )
