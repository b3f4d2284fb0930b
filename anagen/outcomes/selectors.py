"""Reads for outcomes: a patient's timeline and progress, and the outcome table across patients.

Everything starts from the user:

- a patient's timeline and progress go through :func:`anagen.patients.selectors.patient_get`
  (clinicians, coordinators and admins; 403 for other roles, 404 for another clinic's patient);
- the outcome table is aggregate (clinicians, admins and statisticians) and counts only the
  patients of the user's clinics. It carries no patient identity.

The timeline is assembled from the other apps' records. Each source is read through
:func:`_model`, so an app whose models are not installed is skipped instead of breaking the
page.

How the outcome table counts (also shown under the table):

- *treated*: patients with at least one procedure of the modality (in the period, when one is
  given). A patient treated with two modalities counts in both rows.
- *baseline*: the patient's baseline visit (the latest visit marked baseline on or before the
  first session of the modality; failing that, the latest measured visit on or before it).
- *follow-up week*: the visit's recorded weeks after the last session; failing that, the weeks
  from the latest session of the modality on or before the visit. Visits are matched to the
  scheduled weeks with the windows of :mod:`anagen.evidence.visits`, one per patient per week.
- *adverse events*: events linked to a procedure of the modality, and events linked to no
  procedure whose onset is on or after the patient's first session of the modality.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from django.apps import apps
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from anagen.accounts.models import Role
from anagen.assessments.selectors import MeasurementPoint, measurement_points, visit_matches
from anagen.assessments.selectors import patient_measurements as assessments_patient_measurements
from anagen.core.errors import ActionError
from anagen.core.permissions import check_role
from anagen.evidence import descriptive
from anagen.evidence import visits as visit_windows

from . import charts

log = logging.getLogger(__name__)

# Roles that see the aggregate outcome table (no patient identity in it).
OUTCOMES_ROLES = (Role.ADMIN, Role.CLINICIAN, Role.STATISTICIAN)
# Roles that see a patient's timeline and progress report (identity and clinical record).
TIMELINE_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN)


def _model(app_label: str, name: str):
    """The model, or None while that app has not (yet) defined it."""
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# --- one patient ------------------------------------------------------------------------------

def patient_for_outcomes(*, user, pk) -> object:
    """The patient, if the user may see their timeline: 403 for the wrong role, 404 for another clinic."""
    from anagen.patients.selectors import patient_get

    check_role(user, *TIMELINE_ROLES)
    return patient_get(user=user, pk=pk)


KIND_LABELS = {"inquiry": "inquiry", "registration": "registered", "consent": "consent", "staging": "staging",
               "screening": "screening", "plan": "plan", "appointment": "appointment", "procedure": "procedure",
               "adverse_event": "adverse event", "sample": "sample", "assessment": "assessment"}


@dataclass(frozen=True)
class TimelineEvent:
    on: dt.date
    at: dt.datetime | None  # None when only the day is known
    kind: str  # inquiry, registration, consent, staging, screening, plan, appointment, procedure, ...
    title: str
    detail: str = ""
    url: str = ""
    # Small pictures shown at the event (an assessment visit's photographs and target area).
    images: tuple = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def sort_key(self):
        return (self.on, self.at.timetz().replace(tzinfo=None) if self.at else dt.time.max, self.kind)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["on"] = self.on.isoformat()
        d["at"] = self.at.isoformat() if self.at else None
        return d


def _event_at(kind: str, at: dt.datetime, title: str, detail: str = "", url: str = "") -> TimelineEvent:
    local = timezone.localtime(at) if timezone.is_aware(at) else at
    return TimelineEvent(on=local.date(), at=local, kind=kind, title=title, detail=detail, url=url)


def _event_on(kind: str, on: dt.date, title: str, detail: str = "", url: str = "") -> TimelineEvent:
    return TimelineEvent(on=on, at=None, kind=kind, title=title, detail=detail, url=url)


def _fmt_num(v, decimals=1) -> str:
    return "–" if v is None else f"{v:.{decimals}f}"


def _inquiry_events(patient) -> list[TimelineEvent]:
    Inquiry = _model("intake", "Inquiry")
    if Inquiry is None:
        return []
    link = next((n for n in ("patient", "converted_patient", "converted_to") if _has_field(Inquiry, n)), None)
    if link is None:
        return []
    out = []
    for inq in Inquiry.objects.filter(**{link: patient}):
        at = getattr(inq, "created_at", None) or getattr(inq, "received_at", None)
        if at is None:
            continue
        kind = getattr(inq, "get_kind_display", lambda: "Inquiry")()
        out.append(_event_at("inquiry", at, f"Inquiry: {kind}", "Converted to this patient record"))
    return out


def _consent_events(patient) -> list[TimelineEvent]:
    out = []
    for c in patient.consents.all():
        out.append(_event_at("consent", c.given_at, f"{c.get_kind_display()} consent given",
                             f"Document {c.document_version}"))
        if c.withdrawn_at:
            out.append(_event_at("consent", c.withdrawn_at, f"{c.get_kind_display()} consent withdrawn",
                                 c.withdrawal_reason))
    return out


def _staging_events(patient) -> list[TimelineEvent]:
    return [_event_on("staging", s.assessed_on, f"Staged {s.get_scale_display()} {s.stage}", s.notes)
            for s in patient.stagings.all()]


def _screening_events(patient) -> list[TimelineEvent]:
    Screening = _model("screening", "Screening")
    if Screening is None:
        return []
    out = []
    for s in Screening.objects.filter(patient=patient):
        at = getattr(s, "performed_at", None) or getattr(s, "created_at", None)
        if at is None:
            continue
        reasons = [r.get("description", "") for r in (s.reasons or []) if isinstance(r, dict)]
        out.append(_event_at("screening", at, f"Screening {s.get_modality_display()}: {s.get_decision_display()}",
                             "; ".join(r for r in reasons[:3] if r)))
    return out


def _plan_events(patient) -> list[TimelineEvent]:
    Plan = _model("treatments", "TreatmentPlan")
    if Plan is None:
        return []
    out = []
    for plan in Plan.objects.filter(patient=patient).prefetch_related("modalities", "revisions"):
        url = _url("treatments:plan", plan.pk)
        out.append(_event_at("plan", plan.created_at, f"Treatment plan created: {plan.modality_names}",
                             f"{plan.sessions} session(s) every {plan.interval_days} days from {plan.start_on:%d/%m/%Y}; "
                             f"follow-up at weeks {', '.join(str(w) for w in plan.follow_up_weeks or [])}", url))
        for rev in plan.revisions.all():
            out.append(_event_at("plan", rev.changed_at, f"Treatment plan changed (revision {rev.number})",
                                 rev.reason, url))
    return out


def _appointment_events(patient) -> list[TimelineEvent]:
    out = []
    for a in patient.appointments.select_related("clinician", "clinic"):
        out.append(_event_at("appointment", a.starts_at, f"{a.get_kind_display()} ({a.get_status_display().lower()})",
                             f"{a.clinic.name}, {a.clinician}"))
    return out


def _procedure_events(patient) -> list[TimelineEvent]:
    Procedure = _model("treatments", "Procedure")
    if Procedure is None:
        return []
    out = []
    from anagen.treatments import blinded

    hidden_lots = set(blinded.hidden_lot_ids(None))
    qs = (Procedure.objects.filter(patient=patient).select_related("modality", "clinician", "sample")
          .prefetch_related("product_uses__lot__product", "zones"))
    for p in qs:
        # A blinded study's lots tell the arm: the timeline never shows them, to anyone.
        lots = ", ".join(f"{u.lot.product.name} lot {u.lot.lot_number}" for u in p.product_uses.all()
                         if u.lot_id not in hidden_lots)
        bits = []
        if p.session_number:
            bits.append(f"session {p.session_number}")
        bits.append(p.get_delivery_display().lower())
        if lots:
            bits.append(lots)
        if p.sample_id:
            bits.append(f"sample {p.sample.code}")
        bits.append(f"by {p.clinician}")
        out.append(_event_on("procedure", p.performed_on, f"Procedure: {p.modality.name}", "; ".join(bits),
                             _url("treatments:procedure", p.pk)))
    return out


def _adverse_event_events(patient) -> list[TimelineEvent]:
    AdverseEvent = _model("treatments", "AdverseEvent")
    if AdverseEvent is None:
        return []
    out = []
    for ae in AdverseEvent.objects.filter(patient=patient):
        serious = "serious, " if ae.serious else ""
        out.append(_event_on("adverse_event", ae.onset_on, f"Adverse event: {ae.description[:80]}",
                             f"{serious}{ae.get_severity_display()}, relation {ae.get_relation_display().lower()}, "
                             f"outcome {ae.get_outcome_display().lower()}"))
    return out


def _custody_events(patient) -> list[TimelineEvent]:
    CustodyEvent = _model("treatments", "CustodyEvent")
    if CustodyEvent is None:
        return []
    out = []
    for ev in CustodyEvent.objects.filter(sample__patient=patient).select_related("sample", "by"):
        out.append(_event_at("sample", ev.at, f"Sample {ev.sample.code}: {ev.get_step_display().lower()}",
                             f"by {ev.by}"))
    return out


def _visit_events(patient) -> list[TimelineEvent]:
    Visit = _model("assessments", "AssessmentVisit")
    if Visit is None:
        return []
    out = []
    visits = list(Visit.objects.filter(patient=patient).select_related("measurement"))
    matches = visit_matches([v.pk for v in visits])
    for v in visits:
        try:
            m = v.measurement
        except Exception:  # no measurement yet (RelatedObjectDoesNotExist)
            m = None
        label = "Baseline assessment" if v.is_baseline else "Follow-up assessment"
        if v.weeks_after_last_session is not None and not v.is_baseline:
            label += f" (week {v.weeks_after_last_session})"
        if m is not None and m.hair_count is not None:
            density = m.density_per_cm2
            detail = (f"{m.hair_count} hairs, density {_fmt_num(density)} hairs/cm², mean diameter "
                      f"{_fmt_num(m.mean_diameter_um)} µm" if density is not None else
                      f"{m.hair_count} hairs (density needs calibration), mean diameter {_fmt_num(m.mean_diameter_um)} µm")
        else:
            detail = "No measurement yet"
        match = matches.get(v.pk)
        if match is not None and m is not None and m.hair_count is not None:
            detail += (f"; change from baseline {match.change:+d} hairs, {change_source_of(match)} "
                       f"({match.kept} kept, {match.lost} lost, {match.new} new; independent counts "
                       f"{match.count_change:+d})")
        out.append((v.pk, _event_on("assessment", v.visit_date, label, detail, _url("assessments:visit", v.pk))))
    # The visit's pictures at its point of the timeline (photographs by view, target area).
    from anagen.assessments.selectors import visit_thumbnails

    thumbs = visit_thumbnails([pk for pk, _ in out])
    return [replace(e, images=tuple(thumbs.get(pk, ()))) for pk, e in out]


_SOURCES = (_inquiry_events, _consent_events, _staging_events, _screening_events, _plan_events,
            _appointment_events, _procedure_events, _adverse_event_events, _custody_events, _visit_events)


def patient_timeline(*, user, patient) -> list[TimelineEvent]:
    """Every event of the patient's journey, oldest first."""
    check_role(user, *TIMELINE_ROLES)
    if not user.can_see_clinic(patient.clinic_id):
        raise Http404("No such patient in a clinic you work at.")
    events = [_event_at("registration", patient.created_at, "Registered", f"Patient number {patient.patient_number}")]
    for source in _SOURCES:
        events.extend(source(patient))
    return sorted(events, key=lambda e: e.sort_key)


def _points(patient_ids: Sequence[int]) -> dict[int, list[MeasurementPoint]]:
    """Measured visits per patient, oldest first."""
    return measurement_points(patient_ids)


def patient_measurements(*, user, patient) -> list[MeasurementPoint]:
    """The patient's measured visits (the assessments app's selector, with the timeline's roles)."""
    check_role(user, *TIMELINE_ROLES)
    if not user.can_see_clinic(patient.clinic_id):
        raise Http404("No such patient in a clinic you work at.")
    return list(assessments_patient_measurements(user=user, patient=patient))


#: How a visit's change from baseline was measured (shown on the timeline and in the report).
CHANGE_MATCHED = "matched"
CHANGE_MATCHED_CONFIRMED = "matched (confirmed)"
CHANGE_INDEPENDENT = "independent counts"


@dataclass(frozen=True)
class ProgressRow:
    point: object
    density_change: descriptive.Change | None
    count_change: descriptive.Change | None
    diameter_change: descriptive.Change | None
    # The count and density changes come from the hairs matched to the baseline image when the
    # visit's image was matched to it ("matched"), else from the two independent counts.
    change_source: str = CHANGE_INDEPENDENT
    independent_count_change: descriptive.Change | None = None
    match: object | None = None


def _matched_change(match, baseline) -> tuple[descriptive.Change | None, descriptive.Change | None]:
    """Count and density change from the hairs matched to the baseline: new minus lost over the
    field both images cover, as a share of the baseline hairs in that field, set against the
    baseline visit's own count and density."""
    pct = match.change_pct
    count = descriptive.Change(baseline=float(baseline.hair_count), value=float(baseline.hair_count + match.change),
                               absolute=float(match.change), percent=pct)
    density = None
    if match.density_change is not None and baseline.density_per_cm2 is not None:
        density = descriptive.Change(baseline=baseline.density_per_cm2,
                                     value=baseline.density_per_cm2 + match.density_change,
                                     absolute=match.density_change, percent=pct)
    return count, density


def change_source_of(match) -> str:
    if match is None:
        return CHANGE_INDEPENDENT
    return CHANGE_MATCHED_CONFIRMED if match.is_confirmed else CHANGE_MATCHED


@dataclass
class Progress:
    patient: object
    points: list
    visits: list
    baseline: object | None
    latest: object | None
    rows: list[ProgressRow]
    sessions: list[charts.Marker]
    charts: list[charts.Chart]
    treatments: list[dict] = field(default_factory=list)
    calibrated: bool = True

    @property
    def flagged(self) -> list:
        """Points in the series whose values the plausibility rules question."""
        return [p for p in self.points if getattr(p, "flags", ())]

    @property
    def adjusted(self) -> bool:
        """Whether a device calibration adjusts some of the series' automatic counts (shown beside them)."""
        return any(getattr(p, "adjustment_version", None) for p in self.points)

    @property
    def excluded(self) -> list:
        """Measured visits a clinician excluded from the series, with their reasons."""
        return [p for p in self.visits if getattr(p, "excluded", False) and p.hair_count is not None]

    def to_dict(self) -> dict:
        def point_dict(p):
            d = asdict(p) if hasattr(p, "__dataclass_fields__") else dict(vars(p))
            d["visit_date"] = p.visit_date.isoformat()
            return d

        return {
            "patient_number": self.patient.patient_number,
            "calibrated": self.calibrated,
            "baseline_visit_id": self.baseline.visit_id if self.baseline else None,
            "sessions": [{"on": m.on.isoformat(), "label": m.label} for m in self.sessions],
            "measurements": [
                {**point_dict(r.point),
                 "density_change": r.density_change.to_dict() if r.density_change else None,
                 "hair_count_change": r.count_change.to_dict() if r.count_change else None,
                 "mean_diameter_change": r.diameter_change.to_dict() if r.diameter_change else None,
                 "change_source": r.change_source,
                 "independent_hair_count_change": r.independent_count_change.to_dict()
                 if r.independent_count_change else None}
                for r in self.rows
            ],
        }


def _procedures_of(patient_ids: Sequence[int]) -> list:
    Procedure = _model("treatments", "Procedure")
    if Procedure is None:
        return []
    return list(Procedure.objects.filter(patient_id__in=list(patient_ids)).select_related("modality")
                .order_by("performed_on", "id"))


def _treatment_summary(procedures) -> list[dict]:
    by_modality: dict[str, dict] = {}
    for p in procedures:
        s = by_modality.setdefault(p.modality.code, {"modality": p.modality.name, "sessions": 0,
                                                      "first": p.performed_on, "last": p.performed_on})
        s["sessions"] += 1
        s["first"] = min(s["first"], p.performed_on)
        s["last"] = max(s["last"], p.performed_on)
    return list(by_modality.values())


def patient_progress(*, user, patient) -> Progress:
    """Measurements with their change from baseline, treatment sessions and the charts."""
    visits = patient_measurements(user=user, patient=patient)
    # Visits without a hair count (images not yet analysed) and measurements a clinician excluded
    # from the series are left out of the chart and the changes; the timeline still lists them.
    points = [p for p in visits if p.hair_count is not None and not getattr(p, "excluded", False)]
    procedures = _procedures_of([patient.pk])
    baseline = next((p for p in reversed(points) if p.is_baseline), None) or (points[0] if points else None)
    matches = visit_matches([p.visit_id for p in points])
    rows = []
    for p in points:
        later = baseline is not None and p is not baseline
        count_change = descriptive.change_from_baseline(getattr(baseline, "hair_count", None), p.hair_count) if later else None
        density_change = (descriptive.change_from_baseline(getattr(baseline, "density_per_cm2", None), p.density_per_cm2)
                          if later else None)
        match = matches.get(p.visit_id) if later else None
        # Only a match to the very baseline the changes are taken from counts.
        if match is not None and match.baseline_analysis.image.visit_id != baseline.visit_id:
            match = None
        independent = count_change
        if match is not None:
            count_change, matched_density = _matched_change(match, baseline)
            density_change = matched_density if matched_density is not None else (
                None if baseline.density_per_cm2 is not None else density_change)
        rows.append(ProgressRow(
            point=p,
            density_change=density_change,
            count_change=count_change,
            diameter_change=descriptive.change_from_baseline(getattr(baseline, "mean_diameter_um", None), p.mean_diameter_um)
            if later else None,
            change_source=change_source_of(match) if later else "",
            independent_count_change=independent,
            match=match,
        ))
    sessions = [charts.Marker(p.performed_on, p.modality.name) for p in procedures]
    latest = points[-1] if points and points[-1] is not baseline else None
    return Progress(patient=patient, points=points, visits=visits, baseline=baseline, latest=latest, rows=rows, sessions=sessions,
                    charts=charts.measurement_charts(points, sessions), treatments=_treatment_summary(procedures),
                    calibrated=all(p.density_per_cm2 is not None for p in points) if points else True)


# --- across patients --------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeFilters:
    clinic_id: int | None = None
    sex: str = ""
    scale: str = ""
    stage: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    visit_weeks: tuple[int, ...] = visit_windows.DEFAULT_VISIT_WEEKS


def min_cell() -> int:
    """Fewest patients a shown count or statistic may rest on (settings.ANAGEN_OUTCOMES_MIN_CELL)."""
    from django.conf import settings

    return max(1, int(getattr(settings, "ANAGEN_OUTCOMES_MIN_CELL", 5)))


def suppressed_marker() -> str:
    """What a suppressed cell shows instead of its number, in the page, the CSV and the API."""
    return f"<{min_cell()}"


def _small(count: int) -> bool:
    return 0 < count < min_cell()


@dataclass(frozen=True)
class VisitOutcome:
    week: int
    followed_up: int
    density_change: descriptive.MeanCI
    suppressed: bool = False  # fewer than min_cell() patients: numbers blanked, marker shown

    def to_dict(self) -> dict:
        if self.suppressed:
            return {"week": self.week, "window_weeks": visit_windows.window_weeks(self.week),
                    "followed_up": suppressed_marker(), "density_change": None, "suppressed": True}
        return {"week": self.week, "window_weeks": visit_windows.window_weeks(self.week), "followed_up": self.followed_up,
                "density_change": self.density_change.to_dict(), "suppressed": False}


@dataclass(frozen=True)
class ModalityOutcome:
    code: str
    name: str
    treated: int
    visits: list[VisitOutcome]
    adverse_events: descriptive.Rate
    adverse_event_count: int
    serious_adverse_events: int
    suppressed: bool = False  # fewer than min_cell() patients treated
    adverse_events_suppressed: bool = False  # an adverse-event count of 1 to min_cell() - 1

    def to_dict(self) -> dict:
        marker = suppressed_marker()
        ae_hidden = self.suppressed or self.adverse_events_suppressed
        return {"modality": self.code, "name": self.name, "treated": marker if self.suppressed else self.treated,
                "suppressed": self.suppressed,
                "visits": [v.to_dict() for v in self.visits],
                "adverse_event_patients": None if ae_hidden else self.adverse_events.to_dict(),
                "adverse_event_count": marker if ae_hidden else self.adverse_event_count,
                "serious_adverse_events": marker if ae_hidden else self.serious_adverse_events,
                "adverse_events_suppressed": ae_hidden}


_EMPTY_MEAN = descriptive.mean_ci([])


def _suppress_small_cells(row: ModalityOutcome) -> ModalityOutcome:
    """Blank every count and statistic that rests on 1 to min_cell() - 1 patients, so no one
    patient's result can be read from an aggregate (the numbers are replaced, not just hidden)."""
    if _small(row.treated):
        return ModalityOutcome(
            code=row.code, name=row.name, treated=0,
            visits=[VisitOutcome(week=v.week, followed_up=0, density_change=_EMPTY_MEAN, suppressed=True)
                    for v in row.visits],
            adverse_events=descriptive.rate(0, 0), adverse_event_count=0, serious_adverse_events=0,
            suppressed=True, adverse_events_suppressed=True)
    visits = [VisitOutcome(week=v.week, followed_up=0, density_change=_EMPTY_MEAN, suppressed=True)
              if _small(v.followed_up) or _small(v.density_change.n) else v for v in row.visits]
    ae_small = _small(row.adverse_events.events) or _small(row.serious_adverse_events) or _small(row.adverse_event_count)
    return ModalityOutcome(
        code=row.code, name=row.name, treated=row.treated, visits=visits,
        adverse_events=descriptive.rate(0, 0) if ae_small else row.adverse_events,
        adverse_event_count=0 if ae_small else row.adverse_event_count,
        serious_adverse_events=0 if ae_small else row.serious_adverse_events,
        adverse_events_suppressed=ae_small)


@dataclass
class OutcomeTable:
    filters: OutcomeFilters
    rows: list[ModalityOutcome]
    window_rule: str
    counting_notes: list[str]

    def to_dict(self) -> dict:
        f = self.filters
        return {
            "filters": {"clinic": f.clinic_id, "sex": f.sex or None, "scale": f.scale or None,
                        "stage": f.stage or None, "date_from": f.date_from.isoformat() if f.date_from else None,
                        "date_to": f.date_to.isoformat() if f.date_to else None, "visit_weeks": list(f.visit_weeks)},
            "window_rule": self.window_rule,
            "notes": self.counting_notes,
            "rows": [r.to_dict() for r in self.rows],
        }


COUNTING_NOTES = [
    "Treated: patients with at least one procedure of the modality (in the period, when one is set). "
    "A patient treated with two modalities counts in both rows.",
    "Change in density is hairs/cm² at the visit minus the patient's baseline, for patients whose baseline and "
    "visit images were both calibrated; the 95 % confidence interval uses Student's t.",
    "No interval is shown for fewer than two patients: one value says nothing about the spread.",
    "Adverse-event rate: patients with at least one adverse event after their first session of the modality, "
    "out of those treated, with a Wilson 95 % interval.",
    "Measurements a clinician excluded from the patient's series (with a reason, on the visit page) are left out.",
    "Study product given in a blinded study (active or placebo, unknown here) is not a treatment session in this "
    "table: it is analysed in its study.",
]


def _suppression_note() -> str:
    return (f"A count of 1 to {min_cell() - 1} patients, and every figure computed from so few, is shown as "
            f"\"{suppressed_marker()}\": so small a group could identify a patient.")


def _parse_date(value, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ActionError(f"The {name} date '{value}' is not a date; use YYYY-MM-DD.", field=name) from None


def outcome_filters(*, user, clinic=None, sex="", scale="", stage="", date_from=None, date_to=None,
                    visit_weeks=None) -> OutcomeFilters:
    """Checked filters from raw input (query string or API parameters)."""
    from anagen.patients.models import Sex, StagingScale

    clinic_id = None
    if clinic not in (None, ""):
        try:
            clinic_id = int(clinic)
        except (TypeError, ValueError):
            raise ActionError(f"Clinic '{clinic}' is not a clinic id.", field="clinic") from None
        if not user.can_see_clinic(clinic_id):
            raise Http404("No such clinic among the clinics you work at.")
    sex = sex or ""
    if sex and sex not in Sex.values:
        raise ActionError(f"Sex '{sex}' is not one of {', '.join(Sex.values)}.", field="sex")
    scale = scale or ""
    if scale and scale not in StagingScale.values:
        raise ActionError(f"Scale '{scale}' is not one of {', '.join(StagingScale.values)}.", field="scale")
    stage = (stage or "").strip()
    if stage and not scale:
        raise ActionError("Choose the staging scale as well as the stage (Norwood, Ludwig or Sinclair).", field="scale")
    start, end = _parse_date(date_from, "from"), _parse_date(date_to, "to")
    if start and end and start > end:
        raise ActionError("The period starts after it ends; swap the dates.", field="date_from")
    weeks = visit_windows.DEFAULT_VISIT_WEEKS
    if visit_weeks:
        try:
            weeks = tuple(sorted({int(w) for w in visit_weeks}))
        except (TypeError, ValueError):
            raise ActionError("Visit weeks must be whole numbers, e.g. 4,12,23.", field="weeks") from None
        if any(w < 1 or w > 520 for w in weeks):
            raise ActionError("Visit weeks must be between 1 and 520.", field="weeks")
    return OutcomeFilters(clinic_id=clinic_id, sex=sex, scale=scale, stage=stage, date_from=start, date_to=end,
                          visit_weeks=weeks)


def _current_stage(patient_ids) -> dict[int, tuple[str, str]]:
    from anagen.patients.models import StagingAssessment

    latest: dict[int, tuple[str, str]] = {}
    for s in (StagingAssessment.objects.filter(patient_id__in=list(patient_ids))
              .order_by("patient_id", "-assessed_on", "-id").values("patient_id", "scale", "stage")):
        latest.setdefault(s["patient_id"], (s["scale"], s["stage"]))
    return latest


def _weeks_between(later: dt.date, earlier: dt.date) -> float:
    return (later - earlier).days / 7.0


def outcome_table(*, user, filters: OutcomeFilters | None = None) -> OutcomeTable:
    """Per catalogue modality (all of them, even with no patients): treated, followed up, change, safety."""
    check_role(user, *OUTCOMES_ROLES)
    f = filters or OutcomeFilters()
    Modality = _model("treatments", "Modality")
    Procedure = _model("treatments", "Procedure")
    AdverseEvent = _model("treatments", "AdverseEvent")
    Visit = _model("assessments", "AssessmentVisit")
    table = OutcomeTable(filters=f, rows=[], window_rule=visit_windows.window_description(f.visit_weeks),
                         counting_notes=list(COUNTING_NOTES) + ([_suppression_note()] if min_cell() > 1 else []))
    if Modality is None or Procedure is None:
        return table

    clinic_ids = [f.clinic_id] if f.clinic_id else list(user.clinic_ids)
    procs = Procedure.objects.filter(patient__clinic_id__in=clinic_ids)
    if any(getattr(field, "related_name", None) == "study_syringe" or field.name == "study_syringe"
           for field in Procedure._meta.get_fields()):
        # A blinded study's injections are active or placebo: they are analysed in their study.
        procs = procs.filter(study_syringe__isnull=True)
    if f.sex:
        procs = procs.filter(patient__sex=f.sex)
    procs = list(procs.values("id", "patient_id", "modality_id", "performed_on").order_by("performed_on", "id"))

    if f.scale:
        stages = _current_stage({p["patient_id"] for p in procs})
        wanted = (f.scale, f.stage.lower())
        procs = [p for p in procs
                 if p["patient_id"] in stages and stages[p["patient_id"]][0] == f.scale
                 and (not f.stage or stages[p["patient_id"]][1].lower() == wanted[1])]

    # Sessions per (modality, patient), all dates; treated = a session inside the period.
    sessions: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    proc_modality: dict[int, int] = {}
    for p in procs:
        sessions[(p["modality_id"], p["patient_id"])].append(p["performed_on"])
        proc_modality[p["id"]] = p["modality_id"]

    def in_period(d: dt.date) -> bool:
        return (f.date_from is None or d >= f.date_from) and (f.date_to is None or d <= f.date_to)

    treated: dict[int, set[int]] = defaultdict(set)
    for (mod_id, pat_id), dates in sessions.items():
        if any(in_period(d) for d in dates):
            treated[mod_id].add(pat_id)
    all_patients = set().union(*treated.values()) if treated else set()

    points = _points(all_patients)
    visits: dict[int, list] = defaultdict(list)
    if Visit is not None and all_patients:
        for v in Visit.objects.filter(patient_id__in=all_patients).order_by("visit_date", "id").values(
                "id", "patient_id", "visit_date", "is_baseline", "weeks_after_last_session"):
            visits[v["patient_id"]].append(v)
    aes: dict[int, list] = defaultdict(list)
    if AdverseEvent is not None and all_patients:
        for ae in AdverseEvent.objects.filter(patient_id__in=all_patients).values(
                "id", "patient_id", "procedure_id", "onset_on", "serious"):
            aes[ae["patient_id"]].append(ae)

    flagged: set[tuple[int, int]] = set()
    for modality in Modality.objects.order_by("name"):
        patients = treated.get(modality.pk, set())
        changes: dict[int, list[float]] = defaultdict(list)
        followed: dict[int, int] = defaultdict(int)
        ae_patients = 0
        ae_count = serious = 0
        for pat_id in patients:
            dates = sorted(sessions[(modality.pk, pat_id)])
            first = dates[0]
            pts = {p.visit_id: p for p in points.get(pat_id, [])}
            before = [p for p in points.get(pat_id, []) if p.visit_date <= first]
            baseline = next((p for p in reversed(before) if p.is_baseline), None) or (before[-1] if before else None)

            candidates = []
            for v in visits.get(pat_id, []):
                if v["visit_date"] <= first or v["is_baseline"]:
                    continue
                if v["weeks_after_last_session"] is not None:
                    weeks = float(v["weeks_after_last_session"])
                else:
                    last = max(d for d in dates if d <= v["visit_date"])
                    weeks = _weeks_between(v["visit_date"], last)
                candidates.append((weeks, v))
            for week, v in visit_windows.assign_visits(candidates, f.visit_weeks).items():
                followed[week] += 1
                point = pts.get(v["id"])
                if baseline is not None and point is not None:
                    change = descriptive.change_from_baseline(baseline.density_per_cm2, point.density_per_cm2)
                    if change is not None:
                        changes[week].append(change.absolute)
                        if baseline.flags or point.flags:
                            flagged.add((baseline.visit_id, point.visit_id))

            patient_aes = [ae for ae in aes.get(pat_id, [])
                           if (ae["procedure_id"] is not None and proc_modality.get(ae["procedure_id"]) == modality.pk)
                           or (ae["procedure_id"] is None and ae["onset_on"] >= first)]
            if patient_aes:
                ae_patients += 1
                ae_count += len(patient_aes)
                serious += sum(1 for ae in patient_aes if ae["serious"])

        table.rows.append(_suppress_small_cells(ModalityOutcome(
            code=modality.code, name=modality.name, treated=len(patients),
            visits=[VisitOutcome(week=w, followed_up=followed.get(w, 0), density_change=descriptive.mean_ci(changes.get(w, [])))
                    for w in f.visit_weeks],
            adverse_events=descriptive.rate(ae_patients, len(patients)),
            adverse_event_count=ae_count, serious_adverse_events=serious)))
    if flagged:
        table.counting_notes.append(
            f"{len(flagged)} change{'s' if len(flagged) != 1 else ''} from baseline use{'s' if len(flagged) == 1 else ''} "
            "a measurement flagged as implausible (density far from the patient's series, a field area unlike the "
            "other visits, or diameters outside the human range); check them on the patients' timelines and "
            "exclude them there if they are wrong.")
    return table


def outcome_csv_rows(table: OutcomeTable) -> list[list]:
    """The table as CSV rows: one line per modality and scheduled week, aggregates only."""

    def num(v, d=2):
        return "" if v is None else f"{v:.{d}f}"

    header = ["modality_code", "modality", "patients_treated", "visit_week", "visit_window_weeks", "followed_up",
              "density_change_n", "density_change_mean", "density_change_ci95_lower", "density_change_ci95_upper",
              "density_change_sd", "ci_note", "ae_patients", "ae_rate", "ae_rate_ci95_lower", "ae_rate_ci95_upper",
              "ae_count", "serious_ae_count"]
    rows = [header]
    marker = suppressed_marker()
    for r in table.rows:
        ae_hidden = r.suppressed or r.adverse_events_suppressed
        ae = ([marker, "", "", "", marker, marker] if ae_hidden else
              [r.adverse_events.events, num(r.adverse_events.rate, 4), num(r.adverse_events.lower, 4),
               num(r.adverse_events.upper, 4), r.adverse_event_count, r.serious_adverse_events])
        for v in r.visits:
            c = v.density_change
            cells = ([marker, marker, "", "", "", "", ""] if v.suppressed else
                     [v.followed_up, c.n, num(c.mean), num(c.lower), num(c.upper), num(c.sd),
                      c.reason if c.n == 1 else ""])
            rows.append([r.code, r.name, marker if r.suppressed else r.treated, v.week,
                         visit_windows.window_weeks(v.week), *cells, *ae])
    return rows


def can_see_outcomes(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(*OUTCOMES_ROLES))


def can_see_timeline(user, patient) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(*TIMELINE_ROLES)
                and user.can_see_clinic(patient.clinic_id))

