"""The study dataset, built from the records (issue item 9): the evidence library's long shape
(:mod:`anagen.evidence.dataset`), one row per randomized subject (split-scalp: per scalp half),
follow-up visit and endpoint, plus what the CONSORT diagram, the baseline table, the
adverse-event table and the deviation listing need.

Where each column comes from:

- ``subject``, ``site``, ``sex``: the Subject (its code, its clinic's slug; the patient's sex as
  F / M, empty when not stated). Never the patient's name or number.
- ``arm``: parallel, the name of the arm of the subject's Allocation. Split-scalp: ``side`` is
  ``left`` / ``right`` and ``side_arm`` the arm that side received (the Allocation records the
  side that gets the active product).
- ``visit_week``: the protocol's follow-up visits (week > 0), in the subject's protocol version.
  An assessment visit counts for a protocol visit when it is dated within that visit's window
  (``schedule.visit_windows`` from the day of randomization); of several, the one nearest the
  target date. A visit outside every window is not used (the value is missing there, and the
  listing shows it is an out-of-window visit).
- ``value`` and ``baseline``: the target-area density (hairs/cm²). Parallel: the visit's
  ``Measurement`` (never one excluded from the series); when the image its count comes from
  (``Measurement.source_image``) was coded for this study and its blinded reading is final, the
  reading's count instead of the clinic's (:func:`anagen.studies.reading_services.final_counts`:
  the signed adjudication, else the mean of the signed readings once all the plan's readers
  signed), divided by the measurement's field area as the clinic's count is. Split-scalp: the
  per-side values (``SideMeasurement``), because the clinic's measurement holds one target
  area per visit; a half's value that names its photograph (``SideMeasurement.source_image``)
  takes that image's final blinded reading over the coded image's field area, any other half
  keeps the recorded value. The baseline is the latest measured visit from 42 days before randomization
  to the day of randomization.
- ``value_source`` / ``baseline_source``: where each value comes from (``adjudicated reading``,
  ``blinded reading (mean of N)``, ``clinic measurement``); empty when there is no value.
- ``itt``: every randomized subject. ``per_protocol``: not withdrawn or lost, no allocation
  correction recorded. ``unblinded``: an emergency code-break before the lock.
- received (``SubjectRecord.received``, for the CONSORT flow and the listing), per unit (the
  subject, or each scalp half): when the subject has study syringes on record
  (``models_delivery.Syringe``), a unit received its intervention when a syringe for it (its
  side, split-scalp) was injected; a subject without any syringe record (a study recorded before
  product delivery was) falls back to any procedure on or after the day of randomization, for
  every unit. ``received_rule`` says which applies.

Nothing here checks who asks: the callers (:mod:`anagen.studies.analysis_services`) do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.utils import timezone

from anagen.evidence.dataset import COLUMNS, PARALLEL, SPLIT_SCALP

from . import lock
from .reading import SOURCE_CLINIC
from .models import Allocation, Design, SideMeasurement, Study, Subject, SubjectStatus
from .schedule import visit_windows

ENDPOINT = "density_per_cm2"
# Beside the evidence library's columns: where each value and baseline comes from.
SOURCE_COLUMNS = ("value_source", "baseline_source")
BASELINE_LOOKBACK_DAYS = 42


@dataclass
class SubjectRecord:
    """What the tables need of one randomized subject (no identity)."""

    code: str
    site: str
    sex: str
    age: int | None
    stage_group: str
    arm: str  # parallel: the arm's name; split-scalp: "active on the left/right"
    active_side: str  # split-scalp: left/right; parallel: ""
    status: str
    randomized_on: date
    ended_on: date | None
    end_reason: str
    treated: bool  # any unit received (see ``received``)
    unblinded: bool
    corrected: bool
    baseline: dict[str, float | None] = field(default_factory=dict)  # per side, or {"": value}
    out_of_window: list[date] = field(default_factory=list)
    # Per unit ("" for a parallel subject, "left" / "right"): received the allocated intervention.
    received: dict[str, bool] = field(default_factory=dict)
    received_rule: str = "procedure"  # "syringe": study syringes on record; "procedure": the fallback


@dataclass
class StudyData:
    study: Study
    design: str  # the evidence library's spelling: parallel / split-scalp
    endpoint: str
    arms: list[dict]  # {code, name, is_placebo}
    active: str
    control: str
    visit_weeks: list[int]
    primary_week: int
    frame: pd.DataFrame
    subjects: list[SubjectRecord]
    screened: list[Subject]
    adverse_events: list[dict]
    locked: bool
    locked_at: object = None
    deviations: list[dict] = field(default_factory=list)  # protocol deviations on file, for the listing
    # The date of the assessment visit each value comes from: (subject code, side or "", visit week)
    # -> date; week 0 is the baseline. The ODM export names the visit and audits its source record.
    picked: dict[tuple[str, str, int], date] = field(default_factory=dict)

    @property
    def actives(self) -> list[str]:
        """The active arms, in the protocol's order (more than one in a multi-arm parallel study)."""
        return [a["name"] for a in self.arms if a["name"] != self.control] if self.design == PARALLEL else [self.active]

    @property
    def arm_names(self) -> list[str]:
        """Control first, then each active arm: the columns of the tables per arm."""
        return [self.control, *self.actives] if self.control else [a["name"] for a in self.arms]


def evidence_design(study: Study) -> str:
    return SPLIT_SCALP if study.design == Design.SPLIT_SCALP else PARALLEL


def primary_week(study: Study, weeks: list[int]) -> int:
    """The primary visit: the week named in the primary endpoint when it is a protocol visit, else the last."""
    found = re.search(r"week\s*(\d+)", study.primary_endpoint or "", flags=re.IGNORECASE)
    if found and int(found.group(1)) in weeks:
        return int(found.group(1))
    return max(weeks) if weeks else 0


def _sex(value: str) -> str:
    return {"female": "F", "male": "M"}.get(value or "", "")


def _age(patient, on: date) -> int | None:
    dob = patient.date_of_birth
    if dob is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _pick(values: dict[date, float], earliest: date, latest: date, target: date) -> date | None:
    """The date of the value used for a protocol visit: within its window, nearest the target."""
    inside = [d for d in values if earliest <= d <= latest]
    if not inside:
        return None
    return min(inside, key=lambda d: (abs((d - target).days), d))


def _baseline(values: dict[date, float], anchor: date) -> date | None:
    """The date of the baseline value: the latest from 42 days before randomization to that day."""
    inside = [d for d in values if anchor - timedelta(days=BASELINE_LOOKBACK_DAYS) <= d <= anchor]
    return max(inside) if inside else None


def _parallel_values(study: Study, patient_ids: list[int]) -> tuple[dict[int, dict[date, float]],
                                                                    dict[int, dict[date, str]]]:
    """Per patient, the density of each measured visit and its source: the final blinded reading of
    the measurement's image when there is one, else the clinic's count (both over the field area)."""
    from anagen.assessments.models import Measurement

    from .reading_services import final_counts

    read = final_counts(study)
    out: dict[int, dict[date, float]] = {}
    sources: dict[int, dict[date, str]] = {}
    rows = (Measurement.objects.filter(visit__patient_id__in=patient_ids, excluded=False,
                                       hair_count__isnull=False, field_area_cm2__gt=0)
            .values_list("visit__patient_id", "visit__visit_date", "hair_count", "field_area_cm2", "source_image_id"))
    for patient_id, on, count, area, image_id in rows:
        count, source = read.get(image_id, (count, SOURCE_CLINIC))
        out.setdefault(patient_id, {})[on] = count / area
        sources.setdefault(patient_id, {})[on] = source
    return out, sources


def _side_values(study: Study, subject_ids: list[int]) -> tuple[dict[tuple[int, str], dict[date, float]],
                                                                dict[tuple[int, str], dict[date, str]]]:
    """Per subject and half, the recorded density of each visit and its source: the final blinded
    reading of the half's linked image over that image's field area when there is one, else the
    value recorded for the half."""
    from .models_reading import CodedImage
    from .reading_services import final_counts

    read = final_counts(study)
    areas = {source_id: (automatic or {}).get("field_area_cm2") for source_id, automatic in
             CodedImage.objects.filter(study=study, source_id__in=list(read)).values_list("source_id", "automatic")}
    out: dict[tuple[int, str], dict[date, float]] = {}
    sources: dict[tuple[int, str], dict[date, str]] = {}
    for subject_id, side, on, value, image_id in SideMeasurement.objects.filter(subject_id__in=subject_ids).values_list(
            "subject_id", "side", "visit__visit_date", "density_per_cm2", "source_image_id"):
        source = SOURCE_CLINIC
        if image_id in read and areas.get(image_id):
            count, source = read[image_id]
            value = count / areas[image_id]
        out.setdefault((subject_id, side), {})[on] = value
        sources.setdefault((subject_id, side), {})[on] = source
    return out, sources


def _all_visit_dates(patient_ids: list[int]) -> dict[int, list[date]]:
    from anagen.assessments.models import AssessmentVisit

    out: dict[int, list[date]] = {}
    for patient_id, on in AssessmentVisit.objects.filter(patient_id__in=patient_ids).values_list(
            "patient_id", "visit_date"):
        out.setdefault(patient_id, []).append(on)
    return out


def _treated(patient_ids: list[int]) -> dict[int, list[date]]:
    from anagen.treatments.models import Procedure

    out: dict[int, list[date]] = {}
    for patient_id, on in Procedure.objects.filter(patient_id__in=patient_ids).values_list("patient_id", "performed_on"):
        out.setdefault(patient_id, []).append(on)
    return out


RULE_SYRINGE, RULE_PROCEDURE = "syringe", "procedure"
SIDE_OF_CODE = {"L": "left", "R": "right"}


def _injected(subject_ids: list[int]) -> dict[int, dict[str, bool]]:
    """Per subject with study syringes on record: per unit ("" parallel, "left" / "right"),
    whether a syringe for it was injected (its procedure recorded)."""
    from .models_delivery import Syringe

    out: dict[int, dict[str, bool]] = {}
    for subject_id, side, procedure_id in Syringe.objects.filter(
            preparation__subject_id__in=subject_ids).values_list("preparation__subject_id", "side", "procedure_id"):
        unit = SIDE_OF_CODE.get(side, "")
        units = out.setdefault(subject_id, {})
        units[unit] = units.get(unit, False) or procedure_id is not None
    return out


def _received(units: list[str], injected: dict[str, bool] | None, procedure_dates: list[date],
              anchor: date) -> tuple[dict[str, bool], str]:
    """Per unit, whether it received its allocated intervention, and the rule that says so."""
    if injected is not None:
        return {u: injected.get(u, False) for u in units}, RULE_SYRINGE
    treated = any(d >= anchor for d in procedure_dates)
    return {u: treated for u in units}, RULE_PROCEDURE


def _adverse_events(subjects: list[tuple[Subject, SubjectRecord]], until: date | None) -> list[dict]:
    from anagen.treatments.models import AdverseEvent

    by_patient = {s.patient_id: (s, r) for s, r in subjects}
    out = []
    for ae in AdverseEvent.objects.filter(patient_id__in=list(by_patient)).order_by("onset_on", "id"):
        subject, record = by_patient[ae.patient_id]
        if ae.onset_on < record.randomized_on or (until is not None and ae.onset_on > until):
            continue
        out.append({"id": ae.pk, "subject": record.code, "arm": record.arm, "onset_on": ae.onset_on,
                    "severity": ae.severity, "severity_label": ae.get_severity_display(), "serious": ae.serious,
                    "relation": ae.get_relation_display(), "description": ae.description})
    return out


def build(study: Study) -> StudyData:
    """The study's dataset and tables from its records (see the module's notes)."""
    design = evidence_design(study)
    arms = [{"code": a.code, "name": a.name, "is_placebo": a.is_placebo} for a in study.arms.all()]
    by_code = {a["code"]: a for a in arms}
    control = next((a["name"] for a in arms if a["is_placebo"]), arms[-1]["name"] if arms else "")
    active = next((a["name"] for a in arms if a["name"] != control), "")
    screened = list(Subject.objects.filter(study=study).order_by("code"))
    allocations = list(Allocation.objects.filter(study=study).select_related("subject__patient", "subject__site",
                                                                              "subject__protocol_version")
                       .prefetch_related("corrections").order_by("sequence_number"))
    locked_at = lock.locked_at(study)
    study_code = study.registry_id or f"STUDY-{study.pk}"
    patient_ids = [a.subject.patient_id for a in allocations]
    values, sources = _parallel_values(study, patient_ids) if design == PARALLEL else ({}, {})
    side_values, side_sources = (_side_values(study, [a.subject_id for a in allocations]) if design == SPLIT_SCALP
                                 else ({}, {}))
    visit_dates = _all_visit_dates(patient_ids)
    procedures = _treated(patient_ids)
    injected = _injected([a.subject_id for a in allocations])
    weeks_all: set[int] = set()
    rows: list[dict] = []
    records: list[tuple[Subject, SubjectRecord]] = []
    picked: dict[tuple[str, str, int], date] = {}
    for allocation in allocations:
        subject = allocation.subject
        anchor = timezone.localtime(allocation.randomized_at).date()
        visits = [v for v in subject.protocol_version.content.get("visits", []) if int(v.get("week", 0)) > 0]
        windows = visit_windows(visits, anchor)
        weeks_all.update(w.week for w in windows)
        if design == PARALLEL:
            arm_name = by_code.get(allocation.arm_code, {"name": allocation.arm_code})["name"]
            units = [("", "", arm_name, values.get(subject.patient_id, {}), sources.get(subject.patient_id, {}))]
            active_side = ""
        else:
            active_side = "left" if allocation.arm_code == "L" else "right"
            arm_name = f"active on the {active_side}"
            units = [(side, side, active if side == active_side else control, side_values.get((subject.pk, side), {}),
                      side_sources.get((subject.pk, side), {})) for side in ("left", "right")]
        ended = subject.status in (SubjectStatus.WITHDRAWN, SubjectStatus.LOST)
        unblinded = subject.unblinded_at is not None and (locked_at is None or subject.unblinded_at < locked_at)
        corrected = bool(list(allocation.corrections.all()))
        received, rule = _received([u[0] for u in units], injected.get(subject.pk),
                                   procedures.get(subject.patient_id, []), anchor)
        in_window = {d for d in visit_dates.get(subject.patient_id, [])
                     if any(w.earliest_on <= d <= w.latest_on for w in windows)}
        record = SubjectRecord(
            code=subject.code, site=subject.site.slug, sex=_sex(subject.patient.sex),
            age=_age(subject.patient, anchor), stage_group=subject.factors.get("stage_group", "unknown"),
            arm=arm_name, active_side=active_side, status=subject.status, randomized_on=anchor,
            ended_on=subject.ended_on, end_reason=subject.end_reason,
            treated=any(received.values()), received=received, received_rule=rule,
            unblinded=unblinded, corrected=corrected,
            out_of_window=sorted(d for d in visit_dates.get(subject.patient_id, [])
                                 if d > anchor and d not in in_window))
        for key, side, unit_arm, unit_values, unit_sources in units:
            base_on = _baseline(unit_values, anchor)
            base = None if base_on is None else unit_values[base_on]
            record.baseline[key] = base
            if base_on is not None:
                picked[(subject.code, side, 0)] = base_on
            for w in windows:
                on = _pick(unit_values, w.earliest_on, w.latest_on, w.target_on)
                if on is not None:
                    picked[(subject.code, side, w.week)] = on
                rows.append({
                    "study": study_code, "design": design, "subject": subject.code, "site": subject.site.slug,
                    "sex": record.sex, "arm": unit_arm if design == PARALLEL else "", "side": side,
                    "side_arm": unit_arm if design == SPLIT_SCALP else "", "visit_week": w.week,
                    "endpoint": ENDPOINT, "value": None if on is None else unit_values[on],
                    "baseline": base, "itt": True, "per_protocol": not ended and not corrected,
                    "unblinded": unblinded,
                    "value_source": "" if on is None else unit_sources.get(on, SOURCE_CLINIC),
                    "baseline_source": "" if base_on is None else unit_sources.get(base_on, SOURCE_CLINIC),
                })
        records.append((subject, record))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *SOURCE_COLUMNS])
    if not frame.empty:
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
        frame["baseline"] = pd.to_numeric(frame["baseline"], errors="coerce").astype(float)
        frame["visit_week"] = frame["visit_week"].astype(int)
        for c in ("itt", "per_protocol", "unblinded"):
            frame[c] = frame[c].astype(bool)
    weeks = sorted(weeks_all) or sorted(int(v["week"]) for v in study.visits if int(v.get("week", 0)) > 0)
    until = timezone.localtime(locked_at).date() if locked_at else None
    return StudyData(study=study, design=design, endpoint=ENDPOINT, arms=arms, active=active, control=control,
                     visit_weeks=weeks, primary_week=primary_week(study, weeks), frame=frame,
                     subjects=[r for _, r in records], screened=screened,
                     adverse_events=_adverse_events(records, until), locked=locked_at is not None,
                     locked_at=locked_at, deviations=_deviations(study), picked=picked)


def _deviations(study: Study, *, blinded: bool = False) -> list[dict]:
    """The deviation listing's rows; ``blinded`` masks the details of a report that would reveal
    the allocation (as the deviations page does for a blinded member)."""
    from .deviations import MASKED
    from .models import Deviation

    def detail(d) -> str:
        if blinded and d.reveals_allocation:
            return MASKED
        return ((f"{d.visit_code}: " if d.visit_code else "") + d.description
                + ("" if d.closed_at is None else f" (closed: {d.closing_note})"))

    return [{"subject": d.subject.code, "kind": f"Protocol deviation: {d.get_category_display()}", "detail": detail(d)}
            for d in Deviation.objects.filter(subject__study=study).select_related("subject")
            .order_by("subject__code", "reported_at", "pk")]


def has_values(frame: pd.DataFrame) -> bool:
    return not frame.empty and bool(np.isfinite(frame["value"].to_numpy(dtype=float)).any())


# The data dictionary of the CSV export: (column, type, meaning). The columns are the evidence
# library's dataset (docs/evidence.md) and the two source columns after them (the library reads
# the file and ignores them); a blinded export leaves out ``arm`` and ``side_arm``.
DICTIONARY: tuple[tuple[str, str, str], ...] = (
    ("study", "text", "Study code: the registry id, or STUDY-<number>"),
    ("design", "text", "parallel or split-scalp, the same on every row"),
    ("subject", "text", "Subject code (S-001...); never the patient's name or number"),
    ("site", "text", "Clinic (site) code"),
    ("sex", "text", "F or M; empty when not recorded"),
    ("arm", "text", "Parallel: the name of the arm the subject was randomized to; split-scalp: empty"),
    ("side", "text", "Split-scalp: left or right scalp half; parallel: empty"),
    ("side_arm", "text", "Split-scalp: the arm that scalp half received; parallel: empty"),
    ("visit_week", "integer", "Protocol follow-up visit, weeks after randomization"),
    ("endpoint", "text", "density_per_cm2: target-area hair density"),
    ("value", "number (hairs/cm²)", "The density at that visit (the assessment visit within the protocol window, "
                                     "nearest the target date); empty when none was measured in the window. "
                                     "A target-area image read blind gives its final reading's count over the "
                                     "field area (see value_source)"),
    ("baseline", "number (hairs/cm²)", "The density at baseline (latest measured visit from 42 days before "
                                        "randomization to the day of randomization); empty when none"),
    ("itt", "1/0", "In the intention-to-treat set: every randomized subject"),
    ("per_protocol", "1/0", "In the per-protocol set: not withdrawn or lost, no allocation correction"),
    ("unblinded", "1/0", "The subject's allocation was revealed by an emergency code-break before the lock"),
    ("value_source", "text", "Where value comes from: 'adjudicated reading' (the signed adjudication's count), "
                             "'blinded reading (mean of N)' (the mean count of the N signed blinded readings, "
                             "all the readers the study's plan asks for), or 'clinic measurement' (the clinic's "
                             "count, or split-scalp the recorded per-side value); empty when value is empty"),
    ("baseline_source", "text", "Where baseline comes from, in the same words as value_source"),
)


def export_rows(data: StudyData, *, blinded: bool) -> tuple[list[str], list[list]]:
    """The dataset as CSV rows (header, rows): numbers to 4 decimals, missing values empty, flags 1/0.
    ``blinded`` leaves out the arm columns (the rest does not depend on the arm)."""
    columns = [c for c in (*COLUMNS, *SOURCE_COLUMNS) if not (blinded and c in ("arm", "side_arm"))]
    rows = []
    for rec in data.frame.to_dict("records"):
        row = []
        for c in columns:
            v = rec[c]
            if c in ("itt", "per_protocol", "unblinded"):
                row.append(int(bool(v)))
            elif c in ("value", "baseline"):
                row.append("" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.4f}")
            else:
                row.append(v)
        rows.append(row)
    return columns, rows
