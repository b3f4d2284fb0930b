"""Each patient's story, planned up front and then replayed through the services, step by step."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from anagen.demo.assessments import AssessmentSteps
from anagen.demo.clock import HISTORY_WEEKS
from anagen.demo.context import DemoContext
from anagen.demo.intake import IntakeSteps, _contact_time
from anagen.demo.patients import PatientSteps
from anagen.demo.scheduling import SchedulingSteps
from anagen.demo.treatments import TreatmentSteps

# --- the stories ------------------------------------------------------------------------------

# Treated groups: the modalities of the plan and how many patients (of 220) have one.
TREATED = [
    (["hfsc_micrograft"], 7), (["hfsc_micrograft", "scaffold"], 4), (["adipose_svf"], 6), (["exosomes"], 8),
    (["prp"], 6), (["prp", "scaffold"], 3), (["hd_prp"], 5), (["minoxidil"], 6), (["finasteride"], 5),
    (["dutasteride"], 3), (["hair_transplant"], 3),
]
MALE_ONLY = {"finasteride", "dutasteride"}
UNTREATED_DIAGNOSES = [("male_aga", 40), ("female_aga", 24), ("traction", 8), ("telogen_effluvium", 11),
                       ("alopecia_areata", 8), ("other", 3), ("", 6)]


@dataclass
class Story:
    slug: str
    sex: str
    age: int
    diagnosis: str
    first_contact: datetime
    origin: str  # "web" or "phone"
    video: bool
    modalities: list[str] = field(default_factory=list)
    start_on: date | None = None
    contraindication: str = ""
    showcase: bool = False
    first_name: str = ""
    last_name: str = ""


def _weighted(rng: random.Random, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for value, w in pairs:
        x -= w
        if x <= 0:
            return value
    return pairs[-1][0]


def _plan_stories(ctx: DemoContext, n_patients: int) -> list[Story]:
    rng = ctx.rng
    stories: list[Story] = []
    scale = n_patients / 220
    groups = [(mods, max(1, round(count * scale))) for mods, count in TREATED]
    budget = max(1, n_patients // 3)
    treated: list[list[str]] = []
    for mods, count in groups:
        treated += [mods] * count
    # Keep at least one of each group, then drop extra ones if the demo is small.
    while len(treated) + 1 > budget and len(treated) > len(groups):
        for mods, _ in groups:
            if treated.count(mods) > 1 and len(treated) + 1 > budget:
                treated.remove(mods)
    # The showcase: a man with a thinning crown, micrograft with a scaffold, 58 weeks followed up.
    stories.append(Story(slug="birmingham", sex="male", age=41, diagnosis="male_aga",
                         first_contact=_contact_time(ctx, ctx.today - timedelta(weeks=69)), origin="web", video=True,
                         modalities=["hfsc_micrograft", "scaffold"],
                         start_on=ctx.today - timedelta(weeks=64), showcase=True,
                         first_name="Marcus", last_name="Bennett"))
    by_group: dict[tuple, int] = Counter()
    group_size = Counter(tuple(m) for m in treated)
    for mods in treated:
        key = tuple(mods)
        i = by_group[key]
        by_group[key] += 1
        n = group_size[key]
        # Spread starts over the 18 months, earlier ones first, so each treatment has patients
        # followed up to 58 weeks and others still in their course.
        frac = (i + rng.uniform(0.0, 0.6)) / n
        start = ctx.today - timedelta(weeks=74) + timedelta(days=int(frac ** 1.5 * 76 * 7))
        sex = "male" if set(mods) & MALE_ONLY or mods == ["hair_transplant"] else (
            "female" if rng.random() < 0.35 else "male")
        diagnosis = "male_aga" if sex == "male" else ("traction" if rng.random() < 0.15 else "female_aga")
        consult = start - timedelta(days=rng.randint(15, 40))
        contact = min(consult - timedelta(days=rng.randint(4, 25)), ctx.today - timedelta(days=10))
        stories.append(Story(slug=rng.choice(["birmingham", "solihull"]), sex=sex, age=rng.randint(24, 64),
                             diagnosis=diagnosis, first_contact=_contact_time(ctx, contact),
                             origin="web" if rng.random() < 0.65 else "phone", video=rng.random() < 0.3,
                             modalities=list(mods), start_on=start))
    while len(stories) < n_patients:
        diagnosis = _weighted(rng, UNTREATED_DIAGNOSES)
        sex = {"male_aga": "male", "female_aga": "female", "traction": "female"}.get(
            diagnosis, rng.choice(["male", "female"]))
        origin = "web" if rng.random() < 0.65 else "phone"
        # A web inquiry is converted within about a week; later ones are still in the inbox (see
        # _open_inquiries), so every story here becomes a patient.
        earliest = 9 if origin == "web" else 2
        # Some people got in touch in the last few weeks: their consultations are in the diary ahead.
        latest = 35 if rng.random() < 0.15 else HISTORY_WEEKS * 7 - 30
        contact = ctx.today - timedelta(days=rng.randint(earliest, latest))
        contra = ""
        if rng.random() < 0.12:
            contra = rng.choice(["anticoagulants", "active_scalp_infection", "cancer_under_treatment",
                                 "bleeding_disorder", "autoimmune_disease", "keloid_tendency"]
                                + (["pregnant_or_breastfeeding"] * 2 if sex == "female" else []))
        stories.append(Story(slug=rng.choice(["birmingham", "birmingham", "solihull"]), sex=sex,
                             age=rng.randint(19, 72), diagnosis=diagnosis, first_contact=_contact_time(ctx, contact),
                             origin=origin, video=rng.random() < 0.3,
                             contraindication=contra))
    stories.sort(key=lambda s: s.first_contact)
    return stories


# --- one patient, from first contact to the last visit ------------------------------------------


class PatientRun(IntakeSteps, PatientSteps, SchedulingSteps, TreatmentSteps, AssessmentSteps):
    """Replays one patient's story; ``t`` is the time of the latest thing that happened."""

    def __init__(self, ctx: DemoContext, story: Story):
        self.ctx = ctx
        self.rng = ctx.rng
        self.s = story
        self.clinic = ctx.clinics[story.slug]
        self.patient = None
        self.t = story.first_contact
        self.plan = None
        self.density = None  # true baseline density, hairs/cm²
        self.effect = 0.0
        self.regrowth = False
        self.visit_weeks_done: list[int] = []
        self.screenings: dict[str, str] = {}
        self.pending_events: list = []

    # -- helpers

    def advance(self, when: datetime) -> datetime:
        self.t = max(self.t + timedelta(minutes=1), when)
        return self.t

    # -- first contact and consultation

    def run(self) -> None:
        self.first_contact()
        if self.patient is None:
            return
        if not self.consultation():
            return
        if self.s.modalities:
            self.treat()
        elif self.rng.random() < 0.15:
            self.second_opinion()
