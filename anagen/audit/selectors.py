"""Reading the audit trail, for people: names instead of ids, labels instead of field names,
the clinic's local time, values as the pages show them, internal fields left out. The stored
entry (field names and stored values, address, request id) stays beside each readable one."""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timezone as dt_timezone

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Model, QuerySet
from django.utils import timezone

#: Fields that say nothing to a reader of the history: keys, bookkeeping and progress.
INTERNAL_FIELDS = frozenset({"id", "search_text", "progress", "step", "sequence", "key_hash", "password",
                             "created_at", "updated_at", "started_at", "client_hash"})
EMPTY = "—"
#: Units spelt out where a label comes from a field name (``diameter_um`` -> "diameter um").
UNIT_SUFFIXES = ((" um", " (µm)"), (" cm2", " (cm²)"), (" mm", " (mm)"), (" ml", " (ml)"), (" pct", " (%)"))
#: Related records named in full in the history: staff, places, devices and catalogue entries.
#: A patient is named by their number (the history shows on pages that lab staff and blinded
#: staff may see, who must not learn who a patient is); any other record by its kind and number,
#: since its name may carry the patient's (an inquiry is "Question from <name>").
NAMED_MODELS = frozenset({"accounts.user", "accounts.clinic", "accounts.room", "assessments.deviceprofile",
                          "treatments.modality", "treatments.product", "treatments.lot", "screening.ruleset",
                          "scheduling.appointmenttype"})

ACTIONS = {LogEntry.Action.CREATE: "created", LogEntry.Action.UPDATE: "updated", LogEntry.Action.DELETE: "deleted"}


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    action: str
    record: str
    actor: str
    changes: dict[str, list]          # as stored: field name -> [old, new]
    remote_addr: str | None
    request_id: str | None
    local_when: str = ""              # in the clinic's timezone, e.g. "2 Dec 2026 18:16 GMT"
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (label, old, new) for people


def _clinic_tz(obj: Model | None):
    """The timezone of the clinic a record belongs to (through its patient or visit), else the site's."""
    for path in ("self", "clinic", "preferred_clinic", "patient.clinic", "visit.clinic", "image.visit.clinic",
                 "plan.patient.clinic", "sample.clinic", "appointment.clinic"):
        target = obj
        try:
            for part in path.split("."):
                target = target if part == "self" else getattr(target, part)
        except Exception:  # a missing relation or attribute: try the next path
            continue
        tz_name = getattr(target, "timezone", None)
        if isinstance(tz_name, str):
            try:
                return zoneinfo.ZoneInfo(tz_name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                break
    return timezone.get_current_timezone()


def record_history(obj: Model, *, related: list[Model] | tuple = ()) -> list[HistoryEntry]:
    """Changes to ``obj`` (and to the given related records), newest first, in the clinic's time."""
    entries: QuerySet[LogEntry] = LogEntry.objects.none()
    for o in (obj, *related):
        ct = ContentType.objects.get_for_model(type(o))
        entries = entries | LogEntry.objects.filter(content_type=ct, object_pk=str(o.pk))
    reader = _Reader(_clinic_tz(obj))
    return [reader.entry(e) for e in entries.select_related("actor", "content_type").order_by("-timestamp", "-id")[:500]]


def history_for_records(model: type[Model], pks, *, tz=None) -> list[HistoryEntry]:
    ct = ContentType.objects.get_for_model(model)
    qs = LogEntry.objects.filter(content_type=ct, object_pk__in=[str(p) for p in pks])
    reader = _Reader(tz or timezone.get_current_timezone())
    return [reader.entry(e) for e in qs.select_related("actor", "content_type").order_by("-timestamp", "-id")[:500]]


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
            if e.action == LogEntry.Action.CREATE and (name == "id" or new in (None, "", "None", "null")):
                continue
        out[name] = change
    return out


def _entry(e: LogEntry) -> HistoryEntry:
    return _Reader(timezone.get_current_timezone()).entry(e)


def _format_number(value: float) -> str:
    text = f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Reader:
    """Turns stored entries into readable ones; remembers the related names it has looked up."""

    def __init__(self, tz):
        self.tz = tz
        self._names: dict[tuple[type, str], str] = {}

    def when(self, value: datetime) -> str:
        local = value.astimezone(self.tz)
        return f"{local:%d/%m/%Y %H:%M} {local.tzname()}"

    def _parse_datetime(self, text: str) -> datetime | None:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt_timezone.utc)  # stored in UTC
        return value

    def _related(self, model: type[Model], pk: str) -> str:
        key = (model, pk)
        if key not in self._names:
            obj = model._default_manager.filter(pk=pk).first() if pk.isdigit() else None
            if obj is None:
                name = f"{model._meta.verbose_name} #{pk} (deleted)"
            elif model._meta.label_lower in NAMED_MODELS:
                name = str(obj)
            elif getattr(obj, "patient_number", ""):
                name = obj.patient_number
            else:
                name = f"{model._meta.verbose_name} #{pk}"
            self._names[key] = name
        return self._names[key]

    def value(self, f, raw) -> str:
        if raw in (None, "", "None", "null"):
            return EMPTY
        if f is None:
            return str(raw)
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        if f.choices:
            labels = {str(k): str(v) for k, v in f.flatchoices}
            return labels.get(text, text)
        if isinstance(f, models.BooleanField):
            return {"True": "yes", "False": "no", "true": "yes", "false": "no"}.get(text, text)
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is not None:
            return self._related(f.related_model, text)
        if isinstance(f, models.DateTimeField):
            parsed = self._parse_datetime(text)
            return self.when(parsed) if parsed else text
        if isinstance(f, models.DateField):
            try:
                d = date.fromisoformat(text[:10])
            except ValueError:
                return text
            return f"{d:%d/%m/%Y}"
        if isinstance(f, (models.FloatField, models.DecimalField)):
            try:
                return _format_number(float(text))
            except ValueError:
                return text
        if isinstance(f, models.FileField):
            return text.rsplit("/", 1)[-1]
        if isinstance(f, models.JSONField):
            return text if len(text) <= 200 else text[:197] + "…"
        return text

    def rows(self, e: LogEntry, changes: dict) -> list[tuple[str, str, str]]:
        model = e.content_type.model_class()
        out = []
        for name, change in changes.items():
            if name in INTERNAL_FIELDS or not (isinstance(change, (list, tuple)) and len(change) == 2):
                continue
            try:
                f = model._meta.get_field(name) if model is not None else None
            except Exception:  # a field since removed from the model: show it as stored
                f = None
            if f is not None and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
                continue
            label = str(f.verbose_name) if f is not None and hasattr(f, "verbose_name") else name.replace("_", " ")
            for suffix, unit in UNIT_SUFFIXES:
                if label.endswith(suffix):
                    label = label[: -len(suffix)] + unit
            out.append((label[:1].upper() + label[1:], self.value(f, change[0]), self.value(f, change[1])))
        return out

    def entry(self, e: LogEntry) -> HistoryEntry:
        changes = _readable_changes(e)
        return HistoryEntry(
            when=e.timestamp,
            action=ACTIONS.get(e.action, "accessed"),
            record=f"{e.content_type.name}: {e.object_repr}",
            actor=str(e.actor) if e.actor else (e.actor_email or "system"),
            changes=changes,
            remote_addr=e.remote_addr,
            request_id=e.cid,
            local_when=self.when(e.timestamp),
            rows=self.rows(e, changes),
        )
