"""What each role sees first after logging in: the day's work, read for the user asking.

Each ``*_worklist`` function reads only the clinics the user works at and returns plain lists
and counts for the home page; none writes anything. A section is built only for a role the user
holds (the view checks), so a lab scientist's home never touches patient names or photographs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from anagen.accounts.models import Clinic, Role, User

#: How many rows a home-page list shows before "and N more".
LIST_LIMIT = 12
#: Images analysed within this many days are offered for review.
REVIEW_WINDOW_DAYS = 14
#: A sample waiting this long for the lab's next step is overdue.
SAMPLE_DUE_HOURS = 24


@dataclass
class Section:
    """One list on a home page: a title, its rows, the total and where the full list lives."""

    kind: str
    title: str
    rows: list = field(default_factory=list)
    total: int = 0
    link: str = ""
    link_text: str = ""
    empty: str = "Nothing here."

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def _today_bounds(clinic: Clinic) -> tuple[datetime, datetime]:
    tz = clinic.tz
    day = timezone.localdate(timezone=tz)
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def _clinics(user: User) -> list[Clinic]:
    return list(Clinic.objects.filter(id__in=list(user.clinic_ids), is_active=True))


def _appointments_today(user: User, **filters) -> list:
    from anagen.scheduling.models import Appointment, AppointmentStatus

    rows = []
    for clinic in _clinics(user):
        start, end = _today_bounds(clinic)
        rows += list(Appointment.objects.filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end,
                                                status=AppointmentStatus.BOOKED, **filters)
                     .select_related("patient", "clinician", "room", "clinic"))
    rows.sort(key=lambda a: a.starts_at)
    return rows


def coordinator_worklist(user: User) -> list[Section]:
    from anagen.intake import selectors as intake
    from anagen.intake.models import InquiryStatus
    from anagen.scheduling.models import EmailKind, ScheduledEmail
    from anagen.treatments.models import ProposalStatus, ProposedBooking

    arrivals = _appointments_today(user)
    new = intake.inbox(user=user, status=InquiryStatus.NEW).order_by("created_at")
    proposals = (ProposedBooking.objects.filter(status=ProposalStatus.PROPOSED,
                                                plan__patient__clinic_id__in=list(user.clinic_ids))
                 .select_related("plan__patient").order_by("proposed_on", "id"))
    soon = timezone.now() + timedelta(days=1)
    reminders = (ScheduledEmail.objects.filter(kind=EmailKind.REMINDER, sent_at__isnull=True,
                                               cancelled_at__isnull=True, send_after__lt=soon,
                                               appointment__clinic_id__in=list(user.clinic_ids))
                 .select_related("appointment__patient", "appointment__clinic").order_by("send_after"))
    return [
        Section("arrivals", "Today's arrivals", arrivals[:LIST_LIMIT], len(arrivals), "scheduling:calendar", "Calendar",
                "No one is booked today."),
        Section("inquiries", "New inquiries", list(new[:LIST_LIMIT]), new.count(), "intake:inbox", "Inbox",
                "No new inquiries."),
        Section("proposals", "Proposed bookings to confirm", list(proposals[:LIST_LIMIT]), proposals.count(), "", "",
                "Every proposed visit is booked."),
        Section("reminders", "Reminders due (next 24 hours or overdue)", list(reminders[:LIST_LIMIT]), reminders.count(), "", "",
                "No reminders are due."),
    ]


def clinician_worklist(user: User) -> list[Section]:
    from anagen.assessments.models import AnalysisStatus, ImageKind, TrichogramAnalysis
    from anagen.treatments.models import AdverseEvent

    mine = list(user.clinic_ids)
    patients = _appointments_today(user, clinician=user)
    recent = timezone.now() - timedelta(days=REVIEW_WINDOW_DAYS)
    analyses = (TrichogramAnalysis.objects.filter(image__visit__clinic_id__in=mine, image__kind=ImageKind.TARGET,
                                                  image__uploaded_at__gte=recent)
                .select_related("image__visit__patient").order_by("-image__uploaded_at"))
    review, failed = [], []
    for a in analyses[:200]:
        if a.status == AnalysisStatus.FAILED:
            failed.append(a)
        elif a.status == AnalysisStatus.DONE and a.corrected is None:
            quality = (a.automatic or {}).get("quality") or {}
            flags = quality.get("flags") or []
            if flags or not (a.automatic or {}).get("usable", True):
                a.flags = flags
                review.append(a)
    follow_up = (AdverseEvent.objects.filter(clinic_id__in=mine, resolved_on__isnull=True)
                 .exclude(outcome__in=[AdverseEvent.Outcome.RECOVERED, AdverseEvent.Outcome.SEQUELAE,
                                       AdverseEvent.Outcome.FATAL])
                 .select_related("patient").order_by("-severity", "onset_on"))
    return [
        Section("arrivals", "Your patients today", patients[:LIST_LIMIT], len(patients), "scheduling:calendar", "Calendar",
                "No one is booked with you today."),
        Section("review", f"Images to review (quality warnings, last {REVIEW_WINDOW_DAYS} days)", review[:LIST_LIMIT],
                len(review), "", "", "No analysed image is waiting for a look."),
        Section("failed", "Analyses to re-run or correct", failed[:LIST_LIMIT], len(failed), "", "",
                "No analysis failed."),
        Section("adverse_events", "Adverse events to follow up", list(follow_up[:LIST_LIMIT]), follow_up.count(), "", "",
                "No open adverse events."),
    ]


def lab_worklist(user: User) -> list[Section]:
    from anagen.treatments import rules
    from anagen.treatments.models import AutologousSample

    open_samples = (AutologousSample.objects.filter(clinic_id__in=list(user.clinic_ids))
                    .exclude(status__in=rules.FINAL).select_related("patient", "clinic")
                    .only("id", "code", "kind", "status", "harvested_at", "clinic__name", "clinic__id",
                          "patient__patient_number", "patient_id", "clinic_id"))
    counts = {row["status"]: row["n"] for row in open_samples.order_by().values("status").annotate(n=Count("id"))}
    by_step = [(label, counts.get(code, 0), code) for code, label in rules.STATUSES
               if code not in rules.FINAL]
    due_before = timezone.now() - timedelta(hours=SAMPLE_DUE_HOURS)
    due = [s for s in open_samples.order_by("harvested_at")[:200]
           if s.status != rules.QC_FAILED and rules.allowed_steps(s.status)]
    for s in due:
        s.next_steps = [rules.STATUS_LABELS[x].lower() for x in rules.allowed_steps(s.status) if x != rules.DISCARDED]
        s.overdue = s.harvested_at < due_before and s.status == rules.HARVESTED
    due.sort(key=lambda s: (not s.overdue, s.harvested_at))
    sections = [
        Section("custody", "Samples by custody step", by_step, sum(counts.values()), "treatments:samples", "All samples",
                "No sample is in the lab."),
        Section("samples_due", "What is due (oldest first)", due[:LIST_LIMIT], len(due), "treatments:samples", "All samples",
                "Nothing is waiting for the lab."),
    ]
    # A lab scientist may be a study's unblinded preparer (the micrograft suspension is made in
    # the lab): the subjects whose study product they prepare.
    from anagen.studies.delivery import to_prepare

    study_rows = to_prepare(user=user)
    if study_rows:
        sections.append(Section("study_product", "Study product to prepare", study_rows[:LIST_LIMIT],
                                len(study_rows), "", "", "No subject is waiting for study product."))
    return sections


def statistician_worklist(user: User) -> list[Section]:
    from anagen.assessments.models import Measurement

    mine = list(user.clinic_ids)
    recent = timezone.now() - timedelta(days=30)
    measured = Measurement.objects.filter(visit__clinic_id__in=mine)
    rows = [
        ("Visits with a measurement", measured.count()),
        ("Measured in the last 30 days", measured.filter(visit__created_at__gte=recent).count()),
        ("Patients with a measurement", measured.values("visit__patient_id").distinct().count()),
    ]
    return [
        Section("counts", "Outcomes and exports", rows, len(rows), "outcomes:table", "Outcomes across patients",
                "No measurement yet."),
    ]


def admin_worklist(user: User) -> list[Section]:
    from anagen.assessments.models import DeviceProfile
    from anagen.screening.models import RuleSet

    mine = list(user.clinic_ids)
    clinics = (Clinic.objects.filter(id__in=mine)
               .annotate(n_staff=Count("staff", filter=Q(staff__is_active=True), distinct=True),
                         n_rooms=Count("rooms", filter=Q(rooms__is_active=True), distinct=True),
                         n_devices=Count("device_profiles", filter=Q(device_profiles__is_active=True),
                                         distinct=True)))
    problems = []
    active_rules = RuleSet.objects.filter(is_active=True).first()
    if active_rules is None:
        problems.append("No screening rule set is active: screenings cannot run.")
    uncalibrated = list(DeviceProfile.objects.filter(clinic_id__in=mine, is_active=True, px_per_mm__isnull=True)
                        .select_related("clinic"))
    for d in uncalibrated:
        problems.append(f"Device profile “{d.name}” at {d.clinic.name} has no px_per_mm: its images get no "
                        "density or diameters until it is calibrated.")
    for c in clinics:
        if c.is_active and not c.n_devices:
            problems.append(f"{c.name} has no device profile: phototrichograms there are analysed uncalibrated.")
        if c.is_active and not c.n_rooms:
            problems.append(f"{c.name} has no active room: in-person bookings cannot be made.")
    staff = User.objects.filter(is_active=True, clinics__in=mine).distinct()
    no_role = [u for u in staff.annotate(n=Count("role_grants")).filter(n=0)]
    for u in no_role:
        problems.append(f"{u} has no role: they can log in but see nothing.")
    return [
        Section("problems", "Set-up health", problems, len(problems), "admin:index", "Admin",
                "Everything is set up: rules active, every device calibrated, every clinic has rooms."),
        Section("clinics", "Clinics", list(clinics), len(clinics), "admin:accounts_clinic_changelist", "Clinics in admin",
                "You work at no clinic."),
        Section("rules", "Screening rules", [active_rules] if active_rules else [], 1 if active_rules else 0,
                "screening:rules", "Screening rules", "No active rule set."),
    ]


#: The home sections in the order a person holding several roles sees them.
WORKLISTS = (
    (Role.COORDINATOR, "Front desk", coordinator_worklist),
    (Role.CLINICIAN, "Clinic", clinician_worklist),
    (Role.LAB_SCIENTIST, "Lab", lab_worklist),
    (Role.STATISTICIAN, "Outcomes", statistician_worklist),
    (Role.ADMIN, "Set-up", admin_worklist),
)


def worklists_for(user: User) -> list[tuple[str, str, list[Section]]]:
    """``(role, heading, sections)`` for each role of the user that has a home worklist."""
    return [(role, heading, build(user)) for role, heading, build in WORKLISTS if user.has_role(role)]
