"""The rules of treatment delivery, as plain functions on plain data.

Nothing here imports Django, so each rule is tested in milliseconds and the services, the API
and any command enforce the same rule:

- a plan's schedule: session dates from a start date and an interval, follow-up assessments
  N weeks after the last session (:func:`plan_schedule`);
- whether a product lot may be used today, in a given quantity (:func:`lot_refusal`);
- the chain of custody of an autologous sample, as a state machine
  (:func:`custody_refusal`, :func:`implant_refusal`);
- the scalp zones of a procedure and the volume injected into each (:func:`zone_volume_errors`);
- which screenings a plan needs (:func:`screening_refusals`).

Each ``*_refusal`` function returns ``None`` when the action is allowed, or a message that
says what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

# --- scalp zones ----------------------------------------------------------------------------

#: The six zones of the scalp map (top view), front to back.
ZONES: tuple[tuple[str, str], ...] = (
    ("frontal", "Frontal"),
    ("mid_scalp", "Mid-scalp"),
    ("vertex", "Vertex (crown)"),
    ("left_temporal", "Left temporal"),
    ("right_temporal", "Right temporal"),
    ("occipital", "Occipital"),
)
ZONE_CODES = tuple(code for code, _ in ZONES)
ZONE_LABELS = dict(ZONES)

#: Largest volume injected into one zone in one session. Micrograft suspensions and PRP are
#: given at about 0.1 ml per cm²; a zone is at most about 60 cm², so more than 20 ml is a typo.
MAX_ZONE_VOLUME_ML = Decimal("20")


def zone_volume_errors(volumes_ml: dict[str, object]) -> list[str]:
    """Messages for zones or volumes that cannot be right; empty when all are valid.

    ``volumes_ml`` maps a zone code to the volume in ml (number or numeric string).
    """
    errors: list[str] = []
    if not volumes_ml:
        errors.append("Mark at least one treated zone on the scalp map and enter its volume in ml.")
    for zone, raw in volumes_ml.items():
        label = ZONE_LABELS.get(zone)
        if label is None:
            errors.append(f"'{zone}' is not a scalp zone; use one of: {', '.join(ZONE_CODES)}.")
            continue
        try:
            ml = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            errors.append(f"{label}: '{raw}' is not a volume; enter millilitres, e.g. 2.5.")
            continue
        if not ml.is_finite() or ml <= 0:
            errors.append(f"{label}: the volume must be more than 0 ml; untick the zone if it was not treated.")
        elif ml > MAX_ZONE_VOLUME_ML:
            errors.append(f"{label}: {ml} ml is more than the {MAX_ZONE_VOLUME_ML} ml allowed per zone; check the volume.")
    return errors


# --- plan schedule --------------------------------------------------------------------------

MAX_SESSIONS = 24
MAX_INTERVAL_DAYS = 365
MAX_FOLLOW_UP_WEEKS = 260


@dataclass(frozen=True)
class ProposedVisit:
    """One visit a plan proposes: a treatment session or a follow-up assessment."""

    kind: str  # "session" or "follow_up"
    sequence: int  # session number (1, 2, ...) or weeks after the last session
    on: date

    @property
    def label(self) -> str:
        if self.kind == "session":
            return f"Session {self.sequence}"
        return f"Follow-up, week {self.sequence}"


def schedule_errors(*, sessions: int, interval_days: int, follow_up_weeks: list[int]) -> list[str]:
    errors = []
    if not 1 <= sessions <= MAX_SESSIONS:
        errors.append(f"A plan has between 1 and {MAX_SESSIONS} sessions; {sessions} was given.")
    if sessions > 1 and not 1 <= interval_days <= MAX_INTERVAL_DAYS:
        errors.append(f"The interval between sessions must be 1 to {MAX_INTERVAL_DAYS} days; {interval_days} was given.")
    bad = [w for w in follow_up_weeks if not 1 <= w <= MAX_FOLLOW_UP_WEEKS]
    if bad:
        errors.append(f"Follow-up assessments are 1 to {MAX_FOLLOW_UP_WEEKS} weeks after the last session; "
                      f"{', '.join(map(str, bad))} cannot be right.")
    if len(set(follow_up_weeks)) != len(follow_up_weeks):
        errors.append("A follow-up week is listed twice; list each week once.")
    return errors


def plan_schedule(*, start: date, sessions: int, interval_days: int, follow_up_weeks: list[int]) -> list[ProposedVisit]:
    """The visits of a plan, in date order.

    Session *k* (1-based) is on ``start + (k - 1) * interval_days``; each follow-up assessment is
    ``weeks`` weeks after the last session.

    >>> [v.on.isoformat() for v in plan_schedule(start=date(2025, 1, 6), sessions=3, interval_days=28,
    ...                                            follow_up_weeks=[4])]
    ['2025-01-06', '2025-02-03', '2025-03-03', '2025-03-31']
    """
    errors = schedule_errors(sessions=sessions, interval_days=interval_days, follow_up_weeks=follow_up_weeks)
    if errors:
        raise ValueError(" ".join(errors))
    visits = [ProposedVisit("session", k, start + timedelta(days=(k - 1) * interval_days)) for k in range(1, sessions + 1)]
    last = visits[-1].on
    visits += [ProposedVisit("follow_up", w, last + timedelta(weeks=w)) for w in sorted(follow_up_weeks)]
    return visits


def parse_weeks(text: str) -> list[int]:
    """``"4, 12, 23"`` -> ``[4, 12, 23]``; raises ValueError with a message a person can act on."""
    weeks = []
    for part in str(text).replace(";", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"'{part}' is not a number of weeks; list whole weeks separated by commas, e.g. 4, 12, 23.")
        weeks.append(int(part))
    return weeks


# --- product lots ---------------------------------------------------------------------------


def lot_refusal(*, lot_number: str, product: str, expires_on: date, recalled: bool, recall_reason: str = "",
                quantity_on_hand: Decimal, quantity: Decimal, unit: str, on: date) -> str | None:
    """Why a lot may not be used on ``on`` in ``quantity``, or None when it may.

    A lot is usable up to and including its expiry date.
    """
    name = f"{product} lot {lot_number}"
    if recalled:
        why = f" ({recall_reason})" if recall_reason else ""
        return f"{name} has been recalled{why} and must not be used; take a lot that is not recalled and quarantine this one."
    if expires_on < on:
        return f"{name} expired on {expires_on.isoformat()}; take an in-date lot and dispose of this one."
    if quantity <= 0:
        return f"Enter the quantity of {product} used, more than 0 {unit}."
    if quantity > quantity_on_hand:
        return (f"{name} has {quantity_on_hand} {unit} left, less than the {quantity} {unit} entered; "
                f"check the quantity or use another lot.")
    return None


# --- autologous sample chain of custody ------------------------------------------------------

HARVESTED = "harvested"
RECEIVED = "received"
PROCESSED = "processed"
CULTURED = "cultured"
QC_PASSED = "qc_passed"
QC_FAILED = "qc_failed"
RELEASED = "released"
IMPLANTED = "implanted"
DISCARDED = "discarded"

STATUSES: tuple[tuple[str, str], ...] = (
    (HARVESTED, "Harvested"),
    (RECEIVED, "Received in the lab"),
    (PROCESSED, "Processed"),
    (CULTURED, "Cultured"),
    (QC_PASSED, "QC passed"),
    (QC_FAILED, "QC failed"),
    (RELEASED, "Released"),
    (IMPLANTED, "Implanted"),
    (DISCARDED, "Discarded"),
)
STATUS_LABELS = dict(STATUSES)
FINAL = frozenset({IMPLANTED, DISCARDED})

#: Each custody step moves the sample into the status of the same name. Discarding is allowed
#: from any state that is not final; culture may be repeated (one event per passage).
TRANSITIONS: dict[str, frozenset[str]] = {
    HARVESTED: frozenset({RECEIVED}),
    RECEIVED: frozenset({PROCESSED}),
    PROCESSED: frozenset({CULTURED, QC_PASSED, QC_FAILED}),
    CULTURED: frozenset({CULTURED, QC_PASSED, QC_FAILED}),
    QC_PASSED: frozenset({RELEASED}),
    QC_FAILED: frozenset(),
    RELEASED: frozenset({IMPLANTED}),
    IMPLANTED: frozenset(),
    DISCARDED: frozenset(),
}

#: Custody steps a lab records by hand. Implantation is recorded by the procedure.
LAB_STEPS = (RECEIVED, PROCESSED, CULTURED, QC_PASSED, QC_FAILED, RELEASED, DISCARDED)


def allowed_steps(status: str) -> list[str]:
    """The steps that may follow ``status``, in chain order."""
    if status in FINAL:
        return []
    nxt = set(TRANSITIONS.get(status, frozenset())) | {DISCARDED}
    return [s for s, _ in STATUSES if s in nxt]


def custody_refusal(status: str, step: str) -> str | None:
    """Why ``step`` may not follow ``status``, or None when it may."""
    if step not in STATUS_LABELS or step == HARVESTED:
        return f"'{step}' is not a custody step; use one of: {', '.join(LAB_STEPS + (IMPLANTED,))}."
    if status in FINAL:
        return f"The sample is already {STATUS_LABELS[status].lower()}; no further step can be recorded."
    if step in allowed_steps(status):
        return None
    nxt = ", ".join(STATUS_LABELS[s].lower() for s in allowed_steps(status))
    return (f"A sample that is {STATUS_LABELS[status].lower()} cannot be marked {STATUS_LABELS[step].lower()}; "
            f"the next step can be: {nxt}.")


def custody_detail_errors(step: str, details: dict) -> list[str]:
    """Checks on the details a step carries: passage number, cell count, viability."""
    errors = []
    if step == PROCESSED and not str(details.get("processing_method") or "").strip():
        errors.append("Enter the processing method (e.g. mechanical disaggregation in saline).")
    if step == CULTURED:
        p = details.get("passage")
        if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 50:
            errors.append("Enter the culture passage number (0 to 50).")
    if step in (QC_PASSED, QC_FAILED):
        count = details.get("cell_count")
        viability = details.get("viability_pct")
        if count is not None and (not isinstance(count, (int, float)) or isinstance(count, bool) or count < 0):
            errors.append("The cell count is a number of cells, 0 or more.")
        if viability is not None and (not isinstance(viability, (int, float)) or isinstance(viability, bool)
                                      or not 0 <= viability <= 100):
            errors.append("Viability is a percentage from 0 to 100.")
        if step == QC_PASSED and (count is None or viability is None):
            errors.append("Quality control needs the cell count and the viability % before it can pass.")
    return errors


def implant_refusal(*, sample_code: str, sample_patient_id: int, patient_id: int, status: str) -> str | None:
    """Why a sample may not be implanted into ``patient_id``, or None when it may.

    Autologous material goes back only into the patient it came from, and only once quality
    control has passed and the lab has released it.
    """
    if sample_patient_id != patient_id:
        return (f"Sample {sample_code} was taken from another patient and can only be implanted into that patient; "
                f"check the label and take this patient's sample.")
    if status != RELEASED:
        return (f"Sample {sample_code} is {STATUS_LABELS.get(status, status).lower()}; only a sample that has passed "
                f"quality control and been released by the lab can be implanted.")
    return None


# --- screening ------------------------------------------------------------------------------


def screening_refusals(required: dict[str, str], decisions: dict[str, str]) -> list[str]:
    """Messages for modalities the patient has not been screened a candidate for.

    ``required`` maps each screening code the plan needs to the modality's name;
    ``decisions`` maps a screening code to the patient's latest decision for it.
    """
    out = []
    for code, name in sorted(required.items()):
        decision = decisions.get(code)
        if decision is None:
            out.append(f"{name} needs a candidacy screening first; screen the patient for it, then plan.")
        elif decision != "candidate":
            shown = {"not_candidate": "not a candidate", "review": "to be reviewed"}.get(decision, decision)
            out.append(f"The latest screening found the patient {shown} for {name}; a plan needs a screening that "
                       f"found the patient a candidate.")
    return out


# --- plan defaults --------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseDefaults:
    sessions: int
    interval_days: int
    follow_up_weeks: tuple[int, ...]
    aftercare: str


def combined_defaults(courses: list[CourseDefaults]) -> CourseDefaults:
    """Defaults for a plan combining several modalities.

    The longest course sets the sessions and interval (adjuncts ride along with it); the
    follow-up weeks are the union of all, so no modality's assessment is dropped; aftercare
    instructions are joined without repeats.
    """
    if not courses:
        raise ValueError("Choose at least one treatment.")
    lead = max(courses, key=lambda c: (c.sessions, c.interval_days))
    weeks = sorted({w for c in courses for w in c.follow_up_weeks})
    seen: list[str] = []
    for c in courses:
        text = c.aftercare.strip()
        if text and text not in seen:
            seen.append(text)
    return CourseDefaults(lead.sessions, lead.interval_days, tuple(weeks), "\n\n".join(seen))
