"""Deterministic demo data, so every page has something to show on first start.

``anagen demo`` (and ``make run`` on an empty database) loads two clinics, Birmingham and
Solihull, with video consultations, one staff member per role plus a second clinician, and
about 220 patients whose last 18 months are replayed as they would have happened: an inquiry
from the public form or a phone call, a consultation (in person or by video, sometimes
cancelled or missed), staging, histories, consents and a candidacy screening; for about a
quarter of them a treatment plan with its sessions (product lots, autologous samples taken
through the lab's chain of custody, a few adverse events) and assessment visits at baseline
and 4, 12, 23, 44 and 58 weeks, each with a synthetic target-area phototrichogram counted by
the image engine. The next few weeks hold booked consultations, sessions and follow-ups.

How history is written
----------------------
Everything goes through the same services the pages use, so the demo exercises the rules (no
double bookings, consent before a procedure, lots in date, custody order) and fills the audit
trail with the staff member who acted. The services refuse to book in the past or to record
what has not happened yet, as they must; the demo therefore *replays* history on a simulated
clock: :class:`SimulatedClock` makes ``django.utils.timezone.now()`` answer the moment being
replayed (and stamps audit entries with it), so a consultation is booked "three days before"
it takes place and completed "after" it. The clock is only ever set to moments before today,
so nothing is written with a time that has not happened; it is restored when the demo ends.
E-mails queued by bookings are sent to Django's in-memory backend while the demo runs.

Determinism: everything is drawn from ``random.Random(seed)`` and dated relative to today, so
the same seed on the same day gives the same patients, numbers, dates and measurements (sample
codes and video meeting links are random by design). Names come from small built-in lists;
phone numbers are in Ofcom's drama range (07700 900000 to 900999) and e-mail addresses end in
``@example.com``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
import time as _time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone


DEMO_PASSWORD = "anagen-demo-2026"

STAFF = [
    ("admin", "admin@anagen.example", "Alex", "Morgan", ["birmingham", "solihull"]),
    ("coordinator", "coordinator@anagen.example", "Priya", "Shah", ["birmingham", "solihull"]),
    ("clinician", "clinician@anagen.example", "Dr Helen", "Okafor", ["birmingham", "solihull"]),
    ("clinician", "clinician2@anagen.example", "Dr James", "Whitfield", ["solihull"]),
    # One lab serves both clinics: samples from Solihull are couriered to it.
    ("lab_scientist", "lab@anagen.example", "Tom", "Barker", ["birmingham", "solihull"]),
    ("evaluator", "evaluator@anagen.example", "Grace", "Liu", ["birmingham", "solihull"]),
    ("statistician", "statistician@anagen.example", "Omar", "Haddad", ["birmingham", "solihull"]),
]

LONDON = ZoneInfo("Europe/London")
HISTORY_WEEKS = 78  # 18 months
FOLLOW_UP_WEEKS = [4, 12, 23, 44, 58]

# --- image settings -------------------------------------------------------------------------
# A 20x dermoscope calibrated at 90 px/mm; 432 x 576 px is a 4.8 x 6.4 mm field (0.307 cm²),
# small enough that a synthetic image is drawn and counted in well under a second.
DERMOSCOPE_PX_PER_MM = 90.0
IMAGE_SHAPE = (432, 576)
FIELD_AREA_CM2 = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] / DERMOSCOPE_PX_PER_MM ** 2 / 100.0
# The regrowth pair (clipped image and the same area 2 days later) needs room for each hair to
# grow, so the generator can only place it on sparser scalps.
REGROWTH_MAX_DENSITY = 105.0

# Mean change in true density (hairs/cm²) at the end of follow-up, per modality. The engine
# misses some vellus and crossing hairs (it reports about 86 % of the true count), so measured
# changes come out a little smaller: micrografts about +22, exosomes/PRP +16 to +19, minoxidil
# +18 (cf. +18.6, SD 25.4, at 48 weeks in the 5 % minoxidil trial), placebo-like about 0.
EFFECT_MEAN = {
    "hfsc_micrograft": 26.0, "adipose_svf": 22.0, "exosomes": 20.0, "prp": 19.0, "hd_prp": 22.0,
    "minoxidil": 21.0, "finasteride": 15.0, "dutasteride": 19.0, "hair_transplant": 45.0, "scaffold": 3.0,
}
EFFECT_SD = 20.0
VISIT_NOISE_SD = 6.0  # re-positioning on the tattooed target area


def _response_fraction(code: str, week: int) -> float:
    """Share of the final effect reached ``week`` weeks after the last session."""
    curve = {4: 0.05, 12: 0.45, 23: 0.8, 44: 1.0, 58: 1.0}
    if code == "minoxidil":
        curve = {4: -0.25, 12: 0.4, 23: 0.8, 44: 1.0, 58: 0.95}  # early shedding
    if code in ("prp", "hd_prp", "exosomes"):
        curve = {4: 0.1, 12: 0.55, 23: 0.9, 44: 1.0, 58: 0.9}  # fades a little without top-ups
    if code == "hair_transplant":
        curve = {4: -0.1, 12: 0.2, 23: 0.7, 44: 1.0, 58: 1.0}  # graft shedding, then growth
    return curve.get(week, 1.0)


# --- names ----------------------------------------------------------------------------------

MALE_FIRST = ["Oliver", "Jack", "Harry", "George", "Thomas", "James", "William", "Daniel", "Matthew", "Ryan",
              "Adam", "Luke", "Callum", "Connor", "Jamie", "Liam", "Nathan", "Ben", "Samuel", "Joseph", "Mohammed",
              "Imran", "Hassan", "Arjun", "Ravi", "Sanjay", "Kwame", "Tunde", "Chidi", "Marek", "Piotr", "Tomasz",
              "Sean", "Patrick", "Gareth", "Rhys", "Owen", "Craig", "Stuart", "Neil", "Gary", "Mark", "Paul",
              "Simon", "Andrew", "Stephen", "Richard", "David", "Michael", "Christopher", "Aaron", "Dean", "Lewis",
              "Kieran", "Rohan", "Yusuf", "Bilal", "Tariq", "Kofi", "Emeka"]
FEMALE_FIRST = ["Olivia", "Amelia", "Isla", "Emily", "Sophie", "Jessica", "Charlotte", "Hannah", "Lucy", "Grace",
                "Chloe", "Megan", "Rebecca", "Laura", "Sarah", "Emma", "Rachel", "Claire", "Nicola", "Joanne",
                "Karen", "Helen", "Amanda", "Louise", "Victoria", "Gemma", "Natalie", "Zara", "Aisha", "Fatima",
                "Amina", "Priya", "Anjali", "Simran", "Nadia", "Yasmin", "Ngozi", "Abena", "Chiamaka", "Precious",
                "Kezia", "Shanice", "Tia", "Keisha", "Agnieszka", "Magdalena", "Siobhan", "Niamh", "Ffion", "Bethan",
                "Kirsty", "Leanne", "Stacey", "Danielle", "Jade", "Rosie", "Eleanor", "Harriet", "Alice", "Maryam"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
              "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
              "Patel", "Khan", "Begum", "Ahmed", "Hussain", "Ali", "Singh", "Kaur", "Sharma", "Chauhan", "Mistry",
              "Okafor", "Adeyemi", "Mensah", "Boateng", "Campbell", "Francis", "Grant", "Reid", "Bailey", "Edwards",
              "Hughes", "Lewis", "Morgan", "Price", "Griffiths", "Lloyd", "Harris", "Martin", "Cooper", "Ward",
              "Turner", "Hill", "Moore", "King", "Baker", "Harrison", "Morris", "Bennett", "Cook", "Shaw", "Mason",
              "Holmes", "Parker", "Kennedy", "Murphy", "O'Brien", "Doyle", "Kowalski", "Nowak", "Wiśniewski",
              "Chen", "Wong", "Nguyen", "Osei", "Asante", "Bibi", "Iqbal", "Rahman", "Chowdhury", "Dhillon",
              "Sandhu", "Gill", "Fletcher", "Marsh", "Pearce", "Chapman", "Fox", "Lane", "Webb", "Barnes", "Knight"]
STREETS = {
    "birmingham": [("Harborne Road", "Birmingham", "B15 3"), ("Pershore Road", "Birmingham", "B30 2"),
                   ("Bristol Road", "Birmingham", "B29 6"), ("Soho Road", "Birmingham", "B21 9"),
                   ("Chester Road", "Sutton Coldfield", "B73 5"), ("Hagley Road", "Edgbaston", "B16 8"),
                   ("Stratford Road", "Sparkhill", "B11 4"), ("Alcester Road", "Moseley", "B13 8"),
                   ("Kings Road", "Kingstanding", "B44 0"), ("High Street", "Erdington", "B23 6")],
    "solihull": [("Warwick Road", "Solihull", "B91 1"), ("Lode Lane", "Solihull", "B92 8"),
                 ("Stratford Road", "Shirley", "B90 3"), ("High Street", "Knowle", "B93 0"),
                 ("Station Road", "Dorridge", "B93 8"), ("Coventry Road", "Sheldon", "B26 3"),
                 ("Streetsbrook Road", "Solihull", "B91 1"), ("Blossomfield Road", "Solihull", "B91 1"),
                 ("Hampton Lane", "Catherine-de-Barnes", "B92 0"), ("Kenilworth Road", "Balsall Common", "CV7 7")],
}
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

CONCERNS = {
    "male_aga": ["My hairline has been receding for a few years and the crown is getting thin. What can you offer?",
                 "Thinning on top since my late twenties; I have tried minoxidil. Is stem-cell treatment an option?",
                 "I'd like to discuss alternatives to a transplant for my thinning crown."],
    "female_aga": ["My parting has widened over the last two years and I can see my scalp under bright lights.",
                   "Diffuse thinning on top since the menopause. I would like to know about PRP or exosomes.",
                   "My ponytail is half the thickness it used to be. Can you help?"],
    "traction": ["Years of tight braids have thinned my edges. Is it too late to regrow them?",
                 "Thinning at the temples from wearing my hair pulled back for work."],
    "telogen_effluvium": ["I have been shedding a lot of hair since an illness three months ago.",
                          "Lots of hair in the shower since I had my baby; should I be worried?"],
    "alopecia_areata": ["I have two round bald patches that appeared over a few weeks.",
                        "A coin-sized bald patch at the back of my head, my GP suggested a specialist."],
    "other": ["I'm not sure what is causing my hair loss and would like an assessment."],
}
QUESTIONS = ["How much does a PRP course cost, and how many sessions are needed?",
             "Do you offer finance for stem-cell treatments?",
             "Is the micrograft procedure painful, and how long is the recovery?",
             "Can I have exosome treatment while breastfeeding?",
             "How soon would I see results from PRP?",
             "Do you treat alopecia areata?",
             "Is there parking at the Solihull clinic?",
             "Can I combine exosomes with my finasteride?"]
ANSWERS = ["Thank you for your question. A course is usually three sessions a month apart; the price list is on our "
           "website and the free consultation includes a personalised quote.",
           "Thank you for getting in touch. The procedure is done under local anaesthetic and most people return to "
           "work the next day. We would be happy to explain more at a free consultation.",
           "Thanks for asking. Results are usually visible after three to six months; we measure hair density at "
           "each follow-up so you can see the change.",
           "Thank you. Yes, there is free parking behind the clinic, and step-free access."]
CLOSE_REASONS = ["Duplicate of an earlier request", "Chose another clinic", "No reply after two attempts to call",
                 "Asked about a service we do not offer"]


# --- the simulated clock ----------------------------------------------------------------------


class SimulatedClock:
    """While active, ``django.utils.timezone.now()`` answers the moment being replayed.

    Services read the time through ``timezone.now()`` / ``timezone.localdate()`` and models stamp
    ``auto_now_add`` fields with it, so a replayed booking is made, and recorded, on the day it
    was made. Audit entries get the same time. ``at=None`` falls back to the real time.
    """

    def __init__(self) -> None:
        self.at: datetime | None = None
        self._real = None

    def now(self) -> datetime:
        return self.at if self.at is not None else self._real()

    def _stamp(self, sender, instance, **kwargs) -> None:
        if instance.pk is None and self.at is not None:
            instance.timestamp = self.at

    def __enter__(self) -> "SimulatedClock":
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save
        from django.utils import timezone as tz_module

        self._real = tz_module.now
        tz_module.now = self.now
        pre_save.connect(self._stamp, sender=LogEntry, dispatch_uid="anagen-demo-clock", weak=False)
        return self

    def __exit__(self, *exc) -> None:
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save
        from django.utils import timezone as tz_module

        pre_save.disconnect(sender=LogEntry, dispatch_uid="anagen-demo-clock")
        tz_module.now = self._real
        self.at = None


def demo_logins() -> list[tuple[str, str]]:
    return [(role, email) for role, email, *_ in STAFF]


def database_is_empty() -> bool:
    from anagen.accounts.models import Clinic

    return not Clinic.objects.exists()


# --- the diary: free slots, so nobody is ever double-booked -----------------------------------

# Weekly rota (clinic's local time): each session is held in one room, consulting or procedure;
# the booking takes its room from the session. Video consultations fit into any session.
AM, PM = (time(9), time(13)), (time(14), time(17, 30))
HOURS = [
    # clinician e-mail, clinic, weekdays, session, room ("consult" = room 1, "consult2" = room 2, "procedure")
    ("clinician@anagen.example", "birmingham", (0, 1, 3), AM, "consult"),
    ("clinician@anagen.example", "birmingham", (0, 1, 3), PM, "procedure"),
    ("clinician@anagen.example", "birmingham", (2,), AM, "procedure"),
    ("clinician@anagen.example", "birmingham", (2,), PM, "consult"),
    ("clinician@anagen.example", "solihull", (4,), AM, "consult2"),
    ("clinician@anagen.example", "solihull", (4,), PM, "procedure"),
    ("clinician2@anagen.example", "solihull", (0, 2), AM, "consult"),
    ("clinician2@anagen.example", "solihull", (0, 2), PM, "procedure"),
    ("clinician2@anagen.example", "solihull", (1, 3), AM, "procedure"),
    ("clinician2@anagen.example", "solihull", (1, 3), PM, "consult"),
]


@dataclass
class Slot:
    clinician: object
    room: object | None
    starts: datetime  # naive, clinic's local time


class Diary:
    """The clinicians' weekly hours and what is already taken, in local time, per day."""

    def __init__(self) -> None:
        self.hours: dict[tuple[int, int, int], list[tuple[time, time, object]]] = defaultdict(list)
        self.busy: dict[tuple[str, int, date], list[tuple[datetime, datetime]]] = defaultdict(list)

    def add_hours(self, clinician, clinic, weekday: int, start: time, end: time, room) -> None:
        self.hours[(clinician.pk, clinic.pk, weekday)].append((start, end, room))

    def _free(self, key: tuple, day: date, s: datetime, e: datetime) -> bool:
        return all(e <= bs or s >= be for bs, be in self.busy[(*key, day)])

    def take(self, clinician, room, s: datetime, minutes: int) -> None:
        e = s + timedelta(minutes=minutes)
        self.busy[("c", clinician.pk, s.date())].append((s, e))
        if room is not None:
            self.busy[("r", room.pk, s.date())].append((s, e))

    def find(self, *, rng: random.Random, clinic, clinicians: list, kind: str, minutes: int, earliest: date,
             days: int = 45) -> Slot | None:
        """A free slot on the first day from ``earliest`` that has one; a random one of that day's.

        A procedure goes into a procedure-room session, a consultation or follow-up into a
        consulting-room session, a video consultation into any session (and no room).
        """
        video = kind == "video_consultation"
        for offset in range(days):
            day = earliest + timedelta(days=offset)
            options = []
            for clinician in clinicians:
                for start, end, room in self.hours.get((clinician.pk, clinic.pk, day.weekday()), []):
                    if not video and room.is_procedure_room != (kind == "procedure"):
                        continue
                    room = None if video else room
                    s = datetime.combine(day, start)
                    last = datetime.combine(day, end) - timedelta(minutes=minutes)
                    while s <= last:
                        e = s + timedelta(minutes=minutes)
                        if self._free(("c", clinician.pk), day, s, e) and (
                                room is None or self._free(("r", room.pk), day, s, e)):
                            options.append(Slot(clinician, room, s))
                        s += timedelta(minutes=30)
            if options:
                slot = options[rng.randrange(len(options))]
                self.take(slot.clinician, slot.room, slot.starts, minutes)
                return slot
        return None


# --- context ----------------------------------------------------------------------------------


@dataclass
class DemoContext:
    rng: random.Random
    today: date
    clock: SimulatedClock
    max_images: int
    log: Callable[[str], None] = print
    clinics: dict = field(default_factory=dict)
    rooms: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    modalities: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    diary: Diary = field(default_factory=Diary)
    durations: dict = field(default_factory=dict)
    stats: Counter = field(default_factory=Counter)
    recall: tuple | None = None  # (lot pk, date recalled)
    phones: list = field(default_factory=list)
    emails: set = field(default_factory=set)
    showcase: object | None = None
    image_seconds: float = 0.0
    # Image seeds come from their own stream, so capping the images leaves the rest unchanged.
    image_rng: random.Random = field(default_factory=random.Random)

    @property
    def present(self) -> datetime:
        """Midnight at the start of today: everything replayed happens before it."""
        return timezone.make_aware(datetime.combine(self.today, time(0)), LONDON)

    @contextlib.contextmanager
    def act(self, actor, when: datetime):
        """Replay one action of ``actor`` (None for the public) at ``when``."""
        from auditlog.context import set_actor

        if when >= self.present:
            raise ValueError(f"demo: an action at {when} would be in the future")
        self.clock.at = when
        if actor is None:
            yield
        else:
            with set_actor(actor):
                yield

    def user(self, email: str):
        return next(u for users in self.staff.values() for u in users if u.email == email)

    @property
    def admin(self):
        return self.staff["admin"][0]

    @property
    def coordinator(self):
        return self.staff["coordinator"][0]

    @property
    def lab(self):
        return self.staff["lab_scientist"][0]

    def clinicians_of(self, clinic) -> list:
        return [u for u in self.staff["clinician"] if u.can_see_clinic(clinic.pk)]


def _aware(naive: datetime) -> datetime:
    return timezone.make_aware(naive, LONDON)


def _office(ctx: DemoContext, day: date, earliest: time = time(9), latest: time = time(17)) -> datetime:
    """A moment in office hours on ``day``."""
    span = (latest.hour * 60 + latest.minute) - (earliest.hour * 60 + earliest.minute)
    minutes = earliest.hour * 60 + earliest.minute + ctx.rng.randrange(max(1, span))
    return _aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


def _before_present(ctx: DemoContext, when: datetime) -> datetime:
    return min(when, ctx.present - timedelta(hours=7))


# --- clinics, staff, stock ----------------------------------------------------------------------


def _clinics_and_staff(ctx: DemoContext) -> None:
    from django.contrib.auth.hashers import make_password

    from anagen.accounts.models import Clinic, Room, User
    from anagen.accounts.services import staff_create

    for slug, name, address in [
        ("birmingham", "Birmingham", "14 Newhall Street, Birmingham B3 3LX"),
        ("solihull", "Solihull", "2 Station Road, Solihull B91 3RX"),
    ]:
        clinic = Clinic.objects.create(name=name, slug=slug, address=address, phone="+44 121 496 0000",
                                       email=f"{slug}@anagen.example", timezone="Europe/London")
        consult = [Room.objects.create(clinic=clinic, name="Consulting room 1"),
                   Room.objects.create(clinic=clinic, name="Consulting room 2")]
        procedure = Room.objects.create(clinic=clinic, name="Procedure room", is_procedure_room=True)
        ctx.clinics[slug] = clinic
        ctx.rooms[slug] = {"consult": consult, "procedure": [procedure]}
    # Argon2 is slow by design (and memory-hard): hash the shared demo password once, not per person.
    hashed = make_password(DEMO_PASSWORD)
    for role, email, first, last, clinic_slugs in STAFF:
        user = staff_create(email=email, password=None, first_name=first, last_name=last, roles=[role],
                            clinics=[ctx.clinics[s] for s in clinic_slugs])
        User.objects.filter(pk=user.pk).update(password=hashed)
        user.password = hashed
        ctx.staff.setdefault(role, []).append(user)


def _hours(ctx: DemoContext) -> None:
    from anagen.scheduling.services import availability_add, duration_for

    valid_from = ctx.today - timedelta(weeks=HISTORY_WEEKS + 10)
    with ctx.act(ctx.coordinator, _aware(datetime.combine(valid_from - timedelta(days=7), time(10)))):
        for email, slug, weekdays, (start, end), room_name in HOURS:
            clinician, clinic = ctx.user(email), ctx.clinics[slug]
            rooms = ctx.rooms[slug]
            room = {"consult": rooms["consult"][0], "consult2": rooms["consult"][1],
                    "procedure": rooms["procedure"][0]}[room_name]
            for weekday in weekdays:
                availability_add(actor=ctx.coordinator, clinician=clinician, clinic=clinic, weekday=weekday,
                                 start_time=start, end_time=end, valid_from=valid_from, room=room)
                ctx.diary.add_hours(clinician, clinic, weekday, start, end, room)
    from anagen.scheduling.models import AppointmentKind

    ctx.durations = {k: duration_for(k) for k in AppointmentKind.values}


PRODUCTS = [
    # code, name, manufacturer, kind, unit, quantity used per session
    ("micrograft_kit", "Micrograft disaggregation cartridge", "Medica Regenerative Devices", "other", "kit", 1),
    ("svf_kit", "SVF closed processing kit", "Stromal Systems", "other", "kit", 1),
    ("exosome", "ExoRenew lyophilised exosomes 5 ml", "Meridian Biologics", "exosome", "vial", 1),
    ("prp_kit", "PRP single-spin tube kit", "Centrix Medical", "prp_kit", "kit", 1),
    ("hd_prp_kit", "HD-PRP double-spin kit", "Centrix Medical", "prp_kit", "kit", 1),
    ("scaffold", "Collagen scaffold matrix 2 ml", "Dermagen Matrix", "scaffold", "ml", 2),
    ("minoxidil", "Minoxidil 5% cutaneous foam 60 g", "Halden Pharma", "drug", "can", 3),
    ("finasteride", "Finasteride 1 mg tablets (28)", "Halden Pharma", "drug", "pack", 3),
    ("dutasteride", "Dutasteride 0.5 mg capsules (30)", "Halden Pharma", "drug", "pack", 3),
]
MODALITY_PRODUCT = {"hfsc_micrograft": "micrograft_kit", "adipose_svf": "svf_kit", "exosomes": "exosome",
                    "prp": "prp_kit", "hd_prp": "hd_prp_kit", "scaffold": "scaffold", "minoxidil": "minoxidil",
                    "finasteride": "finasteride", "dutasteride": "dutasteride"}


def _stock(ctx: DemoContext) -> None:
    """Products and lots: long-dated lots at both clinics, one exosome lot that has expired on the
    shelf, and a PRP kit lot at Solihull that the manufacturer will recall (at the end)."""
    from anagen.treatments.services import lot_receive, product_create

    start = ctx.today - timedelta(weeks=HISTORY_WEEKS + 8)
    with ctx.act(ctx.admin, _office(ctx, start)):
        for code, name, manufacturer, kind, unit, _ in PRODUCTS:
            ctx.products[code] = product_create(actor=ctx.admin, name=name, manufacturer=manufacturer, kind=kind,
                                                unit=unit)
    received = start + timedelta(days=3)
    for n, (code, *_rest) in enumerate(PRODUCTS):
        for slug in ("birmingham", "solihull"):
            with ctx.act(ctx.admin, _office(ctx, received)):
                lot_receive(actor=ctx.admin, product=ctx.products[code], clinic=ctx.clinics[slug],
                            lot_number=f"{code[:3].upper()}{slug[0].upper()}-{2400 + n * 7}",
                            expires_on=ctx.today + timedelta(weeks=40 + n), quantity=250, received_on=received)
    # Short-dated exosomes: used first (first expiry, first out), expired five weeks ago with stock left.
    day = ctx.today - timedelta(weeks=40)
    with ctx.act(ctx.admin, _office(ctx, day)):
        lot_receive(actor=ctx.admin, product=ctx.products["exosome"], clinic=ctx.clinics["birmingham"],
                    lot_number="EXO-2419-B", expires_on=ctx.today - timedelta(weeks=5), quantity=30, received_on=day)
    day = ctx.today - timedelta(weeks=30)
    with ctx.act(ctx.admin, _office(ctx, day)):
        lot = lot_receive(actor=ctx.admin, product=ctx.products["prp_kit"], clinic=ctx.clinics["solihull"],
                          lot_number="PRP-2431-S", expires_on=ctx.today + timedelta(weeks=20), quantity=40,
                          received_on=day)
    ctx.recall = (lot.pk, ctx.today - timedelta(weeks=3))


def _pick_lot(ctx: DemoContext, product_code: str, clinic, on: date, quantity):
    from anagen.treatments.models import Lot

    lots = (Lot.objects.filter(product=ctx.products[product_code], clinic=clinic, recalled=False,
                               received_on__lte=on, expires_on__gte=on, quantity_on_hand__gte=quantity)
            .order_by("expires_on", "pk"))
    if ctx.recall and on >= ctx.recall[1]:
        lots = lots.exclude(pk=ctx.recall[0])
    return lots.first()


def _recall(ctx: DemoContext) -> None:
    from anagen.treatments.models import Lot
    from anagen.treatments.services import lot_recall

    lot_pk, day = ctx.recall
    with ctx.act(ctx.admin, _office(ctx, day)):
        lot_recall(actor=ctx.admin, lot=Lot.objects.get(pk=lot_pk),
                   reason="Manufacturer's field safety notice: anticoagulant tubes of this lot may not be sterile.")


def _device_profiles(ctx: DemoContext) -> None:
    # Calibrated dermoscopes: configuration an admin enters (there is no service for it).
    from anagen.assessments.models import DeviceProfile

    day = ctx.today - timedelta(weeks=HISTORY_WEEKS + 8)
    for slug, clinic in ctx.clinics.items():
        with ctx.act(ctx.admin, _office(ctx, day)):
            DeviceProfile.objects.create(clinic=clinic, name="Consulting room 1 dermoscope (20x)",
                                         engine_profile="dermoscope-20x", px_per_mm=DERMOSCOPE_PX_PER_MM,
                                         is_default=True)


# --- people -----------------------------------------------------------------------------------


@dataclass
class Person:
    first_name: str
    last_name: str
    sex: str
    date_of_birth: date
    email: str
    phone: str
    address: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _person(ctx: DemoContext, slug: str, sex: str, age: int, first_name: str = "", last_name: str = "") -> Person:
    rng = ctx.rng
    first = first_name or rng.choice(MALE_FIRST if sex == "male" else FEMALE_FIRST)
    last = last_name or rng.choice(LAST_NAMES)
    born = ctx.today - timedelta(days=int(age * 365.25) + rng.randrange(365))
    folded = unicodedata.normalize("NFKD", f"{first}.{last}".lower()).encode("ascii", "ignore").decode()
    local = "".join(c for c in folded if c.isalpha() or c == ".")
    email = f"{local}@example.com"
    n = 2
    while email in ctx.emails:
        email = f"{local}{n}@example.com"
        n += 1
    ctx.emails.add(email)
    if rng.random() < 0.08:
        email = ""  # some people give only a phone number
    phone = f"07700 900{ctx.phones.pop():03d}"
    street, town, district = rng.choice(STREETS[slug])
    postcode = f"{district}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
    address = f"{rng.randint(1, 240)} {street}, {town} {postcode}"
    return Person(first, last, sex, born, email, phone, address)


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
NORWOOD_TREATABLE = ["II", "III", "III vertex", "III vertex", "IV", "IV", "V"]


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


def _contact_time(ctx: DemoContext, day: date) -> datetime:
    # The public writes at any time of day; most between 7 am and 11 pm.
    minutes = ctx.rng.randrange(7 * 60, 23 * 60)
    return _aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


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


class PatientRun:
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

    def book(self, kind: str, earliest: date, *, clinician=None, via_proposal=None, notes: str = ""):
        """Find a free slot from ``earliest`` and book it (through a plan proposal when given).

        Returns the appointment, or None when no slot was found. The booking is made at ``self.t``.
        """
        from anagen.scheduling.services import appointment_book
        from anagen.treatments.services import proposal_confirm

        ctx = self.ctx
        minutes = ctx.durations[kind]
        clinicians = [clinician] if clinician else ctx.clinicians_of(self.clinic)
        earliest = max(earliest, (self.t + timedelta(days=1)).date())
        slot = ctx.diary.find(rng=self.rng, clinic=self.clinic, clinicians=clinicians, kind=kind, minutes=minutes,
                              earliest=earliest)
        if slot is None:
            return None
        with ctx.act(ctx.coordinator, self.t):
            if via_proposal is not None:
                proposal = proposal_confirm(actor=ctx.coordinator, proposal=via_proposal, starts_at=slot.starts,
                                            clinician=slot.clinician, room=slot.room)
                appointment = proposal.appointment
            else:
                appointment = appointment_book(actor=ctx.coordinator, patient=self.patient, clinician=slot.clinician,
                                               clinic=self.clinic, kind=kind, starts_at=slot.starts, room=slot.room,
                                               notes=notes)
        ctx.stats[f"appointment:{kind}"] += 1
        return appointment

    def is_past(self, appointment) -> bool:
        return appointment.ends_at < self.ctx.present

    def complete(self, appointment) -> None:
        from anagen.scheduling.services import appointment_complete

        with self.ctx.act(appointment.clinician, self.advance(appointment.ends_at + timedelta(minutes=5))):
            appointment_complete(actor=appointment.clinician, appointment=appointment)

    def no_show(self, appointment) -> None:
        from anagen.scheduling.services import appointment_mark_no_show

        with self.ctx.act(self.ctx.coordinator, self.advance(appointment.starts_at + timedelta(minutes=20))):
            appointment_mark_no_show(actor=self.ctx.coordinator, appointment=appointment)
        self.ctx.stats["no_shows"] += 1

    def cancel(self, appointment, reason: str) -> None:
        from anagen.scheduling.services import appointment_cancel

        when = appointment.starts_at - timedelta(days=self.rng.randint(1, 3), hours=self.rng.randint(1, 6))
        when = max(when, self.t + timedelta(minutes=30))
        if when >= appointment.starts_at:
            return
        with self.ctx.act(self.ctx.coordinator, self.advance(when)):
            appointment_cancel(actor=self.ctx.coordinator, appointment=appointment, reason=reason)
        self.ctx.stats["cancellations"] += 1

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

    def first_contact(self) -> None:
        from anagen.intake.services import client_hash, inquiry_answer, inquiry_convert, inquiry_submit
        from anagen.patients.services import patient_register

        ctx, s, rng = self.ctx, self.s, self.rng
        person = _person(ctx, s.slug, s.sex, s.age, s.first_name, s.last_name)
        self.person = person
        consult_kind = "video_consultation" if s.video else "free_consultation"
        if s.origin == "web":
            question = rng.random() < 0.2 and not s.showcase
            concern = rng.choice(QUESTIONS) if question else rng.choice(CONCERNS[s.diagnosis or "other"])
            with ctx.act(None, self.t):
                inquiry = inquiry_submit(
                    kind="question" if question else "consultation", name=person.full_name, email=person.email,
                    phone=person.phone, concern=concern, preferred_clinic=None if s.video else self.clinic,
                    prefers_video=s.video, preferred_times=rng.choice(["", "Weekday mornings", "After 3 pm",
                                                                      "Any time on Fridays"]),
                    consent_to_contact=True, client=client_hash(f"demo-{person.phone}"))
            ctx.stats["inquiries"] += 1
            reply = _office(ctx, (self.t + timedelta(days=rng.randint(1, 2))).date(), time(9), time(12))
            if question:
                with ctx.act(ctx.coordinator, self.advance(reply)):
                    inquiry_answer(actor=ctx.coordinator, inquiry=inquiry, answer=rng.choice(ANSWERS))
                reply = _office(ctx, (self.t + timedelta(days=rng.randint(1, 5))).date(), time(12), time(17))
            self.advance(reply)
            slot = ctx.diary.find(rng=rng, clinic=self.clinic, clinicians=ctx.clinicians_of(self.clinic),
                                  kind=consult_kind, minutes=ctx.durations[consult_kind],
                                  earliest=(self.t + timedelta(days=rng.randint(3, 14))).date())
            if slot is None:
                return
            with ctx.act(ctx.coordinator, self.t):
                self.patient, self.consult = inquiry_convert(
                    actor=ctx.coordinator, inquiry=inquiry, clinic=self.clinic, clinician=slot.clinician,
                    starts_at=slot.starts, video=s.video, first_name=person.first_name, last_name=person.last_name,
                    date_of_birth=person.date_of_birth)
            ctx.stats[f"appointment:{consult_kind}"] += 1
            ctx.stats["inquiries_converted"] += 1
            if self.patient.address != person.address:
                from anagen.patients.services import patient_update

                with ctx.act(ctx.coordinator, self.advance(self.t + timedelta(minutes=2))):
                    patient_update(actor=ctx.coordinator, patient=self.patient, address=person.address)
        else:
            call = _office(ctx, self.t.date())
            if call <= self.t:  # called in the evening: registered the next morning
                call = _office(ctx, self.t.date() + timedelta(days=1), time(9), time(11))
            self.advance(call)
            if self.t >= ctx.present:
                return
            with ctx.act(ctx.coordinator, self.t):
                self.patient = patient_register(actor=ctx.coordinator, clinic=self.clinic, first_name=person.first_name,
                                                last_name=person.last_name, date_of_birth=person.date_of_birth,
                                                sex=person.sex, email=person.email, phone=person.phone,
                                                address=person.address, allow_duplicate=True)
            self.consult = self.book(consult_kind, (self.t + timedelta(days=rng.randint(3, 14))).date(),
                                     notes="Booked by phone.")
        if self.patient.sex != s.sex:
            from anagen.patients.services import patient_update

            with ctx.act(ctx.coordinator, self.advance(self.t + timedelta(minutes=1))):
                patient_update(actor=ctx.coordinator, patient=self.patient, sex=s.sex)
        if s.showcase:
            ctx.showcase = self.patient
        ctx.stats["patients"] += 1

    def consultation(self) -> bool:
        """Hold the consultation (after a cancellation or a no-show, perhaps). True when it took place."""
        ctx, rng, s = self.ctx, self.rng, self.s
        appointment = self.consult
        for attempt in range(3):
            if appointment is None or not self.is_past(appointment):
                return False  # booked in the coming weeks
            roll = rng.random() if not s.showcase and not s.modalities and attempt < 2 else 1.0
            if roll < 0.07:
                self.cancel(appointment, rng.choice(["Patient asked to move it (work).", "Patient unwell.",
                                                     "Clinician's list changed; patient rebooked."]))
                appointment = self.book(appointment.kind, (appointment.starts_at + timedelta(days=5)).date())
                continue
            if roll < 0.13:
                self.no_show(appointment)
                if rng.random() < 0.5:
                    return False
                appointment = self.book(appointment.kind, (self.t + timedelta(days=4)).date(),
                                        notes="Rebooked after a missed appointment.")
                continue
            self.complete(appointment)
            self.consult = appointment
            self.clinical_record(appointment)
            return True
        return False

    def clinical_record(self, appointment) -> None:
        """What the clinician records at the consultation: diagnosis, stage, histories, consents, screening."""
        from anagen.patients.services import (
            consent_record,
            hair_loss_history_update,
            medical_history_update,
            patient_update,
            prior_treatment_add,
            staging_record,
        )

        ctx, rng, s, patient = self.ctx, self.rng, self.s, self.patient
        clinician = appointment.clinician
        day = timezone.localtime(appointment.starts_at, LONDON).date()
        with ctx.act(clinician, self.advance(appointment.ends_at - timedelta(minutes=12))):
            if s.diagnosis:
                detail = {"traction": "From tight braids and extensions", "other": "Lichen planopilaris suspected"}
                patient_update(actor=clinician, patient=patient, diagnosis=s.diagnosis,
                               diagnosis_detail=detail.get(s.diagnosis, ""))
            scale, stage = self.stage()
            if scale:
                staging_record(actor=clinician, patient=patient, scale=scale, stage=stage, assessed_on=day,
                               notes="Assessed at the consultation" + (" from video" if appointment.is_video else ""))
            flags = {flag: False for flag in ("active_scalp_infection", "scalp_inflammation", "cancer_under_treatment",
                                              "pregnant_or_breastfeeding", "bleeding_disorder", "anticoagulants",
                                              "autoimmune_disease", "keloid_tendency")}
            meds = []
            if s.contraindication:
                flags[s.contraindication] = True
                meds.append({"anticoagulants": "Apixaban 5 mg twice daily", "autoimmune_disease": "Levothyroxine 75 µg",
                             "cancer_under_treatment": "Tamoxifen 20 mg"}.get(s.contraindication, ""))
            if rng.random() < 0.2:
                meds.append(rng.choice(["Ramipril 5 mg", "Sertraline 50 mg", "Atorvastatin 20 mg", "Metformin 500 mg",
                                        "Combined oral contraceptive" if s.sex == "female" else "Omeprazole 20 mg"]))
            allergies = rng.choice(["", "", "", "", "Penicillin", "Elastoplast", "Nuts"])
            medical_history_update(actor=clinician, patient=patient, medications="\n".join(m for m in meds if m),
                                   allergies=allergies, **flags)
            onset = max(patient.date_of_birth.year + 17, day.year - rng.randint(1, 12))
            hair_loss_history_update(
                actor=clinician, patient=patient, onset_year=min(onset, day.year),
                progression=rng.choice(["Slow, steady thinning", "Faster over the last year",
                                        "Stable for two years, worse again since last winter",
                                        "Sudden shedding after an illness"]),
                family_history=rng.choice([True, True, False, None]),
                pattern_notes={"male_aga": "Temporal recession and vertex thinning",
                               "female_aga": "Widening of the central parting, frontal hairline kept",
                               "traction": "Thinning at the temples and nape",
                               "telogen_effluvium": "Diffuse shedding, positive pull test",
                               "alopecia_areata": "Two well-defined patches, exclamation-mark hairs"}.get(s.diagnosis, ""))
            for _ in range(rng.choice([0, 0, 1, 1, 2]) if not s.showcase else 1):
                treatment = "minoxidil" if s.showcase else rng.choice(
                    ["minoxidil", "minoxidil", "finasteride", "prp", "transplant", "other"]
                    if s.sex == "male" else ["minoxidil", "minoxidil", "prp", "other"])
                started = max(day - timedelta(days=rng.randint(300, 2500)),
                              patient.date_of_birth + timedelta(days=17 * 365))
                if started > day - timedelta(days=60):
                    continue
                stopped = started + timedelta(days=rng.randint(90, 700))
                prior_treatment_add(actor=clinician, patient=patient, treatment=treatment, started_on=started,
                                    stopped_on=stopped if stopped < day else None,
                                    response=rng.choice(["good", "partial", "partial", "none", "unknown"]),
                                    notes={"other": "Biotin and a caffeine shampoo"}.get(treatment, ""))
            consents = ["photography", "contact"]
            if s.modalities or rng.random() < 0.5:
                consents.insert(0, "treatment")
            if s.showcase or rng.random() < 0.3:
                consents.append("research")
            for kind in consents:
                if kind == "contact" and patient.consents.filter(kind="contact", withdrawn_at__isnull=True).exists():
                    continue
                consent_record(actor=clinician, patient=patient, kind=kind, document_version=f"{kind} v3 2024-09")
                ctx.stats["consents"] += 1
        if s.diagnosis and (s.modalities or rng.random() < 0.85):
            self.screen(clinician)
        if rng.random() < 0.04 and not s.modalities:
            self.withdraw_a_consent()

    def stage(self) -> tuple[str, str]:
        rng, s = self.rng, self.s
        if s.diagnosis == "male_aga":
            if s.showcase:
                return "norwood", "III vertex"
            stages = NORWOOD_TREATABLE if s.modalities else NORWOOD_TREATABLE + ["VI", "VII"]
            return "norwood", rng.choice(stages)
        if s.diagnosis in ("female_aga", "traction") or (s.sex == "female" and s.diagnosis == ""):
            if rng.random() < 0.6:
                return "ludwig", rng.choice(["I", "I", "II", "II", "III"])
            return "sinclair", rng.choice(["2", "2", "3", "3", "4"])
        return "", ""

    def screen(self, clinician) -> None:
        from anagen.screening.services import screening_run

        rng, s = self.rng, self.s
        pattern = {"male_aga": rng.choice(["receding", "receding_and_thinning", "thinning"]),
                   "female_aga": "thinning", "traction": "receding"}.get(s.diagnosis, "other")
        answers = {
            "pattern": pattern,
            "target_area_bald": False if s.modalities else rng.random() < 0.08,
            "generalized_thinning": s.diagnosis == "female_aga",
            "traction_area_thinning": s.diagnosis == "traction",
            "hesitant_about_transplant": rng.random() < 0.4,
            "bmi": round(rng.uniform(20.5, 31.0) if s.modalities else rng.uniform(17.5, 37.0), 1),
        }
        with self.ctx.act(clinician, self.advance(self.t + timedelta(minutes=4))):
            results = screening_run(actor=clinician, patient=self.patient, answers=answers)
        self.screenings = {r.modality: r.decision for r in results}
        self.ctx.stats["screenings"] += 1

    def withdraw_a_consent(self) -> None:
        from anagen.patients.services import consent_withdraw

        consent = self.patient.consents.filter(kind__in=["research", "contact", "photography"]).first()
        when = self.t + timedelta(days=self.rng.randint(5, 60))
        if consent is None or when >= self.ctx.present:
            return
        with self.ctx.act(self.ctx.coordinator, self.advance(_office(self.ctx, when.date()))):
            consent_withdraw(actor=self.ctx.coordinator, consent=consent,
                             reason=self.rng.choice(["Patient asked by phone.", "Patient wrote to withdraw.",
                                                     "Withdrawn at the front desk."]))
        self.ctx.stats["consents_withdrawn"] += 1

    def second_opinion(self) -> None:
        """Some patients come back by video to talk it over; a few miss it."""
        appointment = self.book("video_consultation", (self.t + timedelta(days=self.rng.randint(10, 40))).date(),
                                notes="Second conversation about the options.")
        if appointment is None or not self.is_past(appointment):
            return
        if self.rng.random() < 0.15:
            self.no_show(appointment)
        else:
            self.complete(appointment)

    # -- treatment

    def treat(self) -> None:
        from anagen.treatments.services import plan_create

        ctx, rng, s = self.ctx, self.rng, self.s
        clinician = self.consult.clinician
        mods = [ctx.modalities[c] for c in s.modalities]
        needed = {m.screening_code for m in mods if m.screening_code}
        if any(self.screenings.get(code) != "candidate" for code in needed):
            ctx.stats["not_planned_after_screening"] += 1
            return
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=3))):
            self.plan = plan_create(actor=clinician, patient=self.patient, modalities=mods, start_on=s.start_on,
                                    follow_up_weeks=FOLLOW_UP_WEEKS,
                                    notes="Target area: tattooed dot 2 cm behind the vertex whorl." if s.sex == "male"
                                    else "Target area: tattooed dot 1 cm beside the central parting.")
        ctx.stats["plans"] += 1
        lead = s.modalities[0]
        base = {"male": 128.0, "female": 138.0}[s.sex] - (10 if s.diagnosis == "traction" else 0)
        self.density = 62.0 if s.showcase else min(195.0, max(62.0, rng.gauss(base, 28)))
        self.effect = 24.0 if s.showcase else rng.gauss(EFFECT_MEAN[lead], EFFECT_SD)
        self.regrowth = self.density <= REGROWTH_MAX_DENSITY - 25 and (s.showcase or rng.random() < 0.6)
        self.lead = lead
        self.vellus_fraction = rng.uniform(0.1, 0.2)
        self.skin_tone = "light" if s.showcase or rng.random() < 0.6 else rng.choice(["medium", "olive", "dark"])
        self.plan_clinician = clinician
        # Sessions, then follow-ups, in date order; each booked by the coordinator ahead of time.
        proposals = list(self.plan.proposals.filter(status="proposed").order_by("proposed_on", "kind", "sequence"))
        sessions = [p for p in proposals if p.kind == "session"]
        follow_ups = [p for p in proposals if p.kind == "follow_up"]
        self.last_session_on = None
        self.baseline_done = False
        booked_ahead = self.advance(_before_present(ctx, _office(ctx, (self.t + timedelta(days=1)).date())))
        session_appointments = []
        for proposal in sessions:
            if proposal.proposed_on >= ctx.today + timedelta(weeks=6):
                break
            self.t = booked_ahead
            appointment = self.book("procedure", proposal.proposed_on, clinician=None, via_proposal=proposal)
            if appointment is None:
                break
            session_appointments.append((proposal, appointment))
        for proposal, appointment in session_appointments:
            if not self.is_past(appointment):
                return
            self.session(proposal, appointment)
        if self.last_session_on is None:
            return
        for proposal in follow_ups:
            target = self.last_session_on + timedelta(weeks=proposal.sequence)
            if target >= ctx.today + timedelta(weeks=6):
                return
            ahead = _office(ctx, target - timedelta(days=rng.randint(14, 28)))
            self.advance(_before_present(ctx, ahead))
            appointment = self.book("follow_up", target, via_proposal=proposal)
            if appointment is None or not self.is_past(appointment):
                return
            if not s.showcase and rng.random() < 0.05:
                self.no_show(appointment)
                appointment = self.book("follow_up", (self.t + timedelta(days=3)).date(),
                                        notes=f"Rebooked week-{proposal.sequence} follow-up after a missed visit.")
                if appointment is None or not self.is_past(appointment):
                    return
            self.follow_up(proposal.sequence, appointment)
        if self.visit_weeks_done and self.visit_weeks_done[-1] == FOLLOW_UP_WEEKS[-1]:
            from anagen.treatments.services import plan_revise

            with ctx.act(self.plan_clinician, self.advance(self.t + timedelta(minutes=10))):
                plan_revise(actor=self.plan_clinician, plan=self.plan, status="completed",
                            reason="Course and 58-week follow-up complete.")

    def session(self, proposal, appointment) -> None:
        from anagen.treatments.services import procedure_record

        ctx, rng, s = self.ctx, self.rng, self.s
        clinician = appointment.clinician
        day = timezone.localtime(appointment.starts_at, LONDON).date()
        self.advance(appointment.starts_at)
        if not self.baseline_done:
            self.visit(appointment, day, baseline=True, clinician=clinician)
            self.baseline_done = True
        first_session = proposal.sequence == 1
        for code in s.modalities:
            modality = ctx.modalities[code]
            sample = None
            if modality.sample_kind:
                sample = self.harvest(modality, clinician, appointment)
            if code == "scaffold" and not first_session:
                continue
            lots = []
            product = MODALITY_PRODUCT.get(code)
            if product:
                quantity = next(q for c, *_rest, q in PRODUCTS if c == product)
                lot = _pick_lot(ctx, product, self.clinic, day, quantity)
                if lot is not None:
                    lots.append((lot, quantity))
            with ctx.act(clinician, self.advance(self.t + timedelta(minutes=25))):
                procedure = procedure_record(actor=clinician, patient=self.patient, modality=modality,
                                             performed_on=day, plan=self.plan,
                                             session_number=proposal.sequence, lots=lots, sample=sample,
                                             **self.procedure_details(code))
            ctx.stats[f"procedure:{code}"] += 1
            if rng.random() < 0.09 and not s.showcase:
                self.pending_events.append(procedure)
        self.complete(appointment)
        self.last_session_on = day
        for procedure in self.pending_events:
            self.adverse_event(procedure, clinician, day)
        self.pending_events = []

    def procedure_details(self, code: str) -> dict:
        rng, female = self.rng, self.s.sex == "female"
        zones = ["mid_scalp", "frontal"] if female else ["vertex", "mid_scalp", "frontal"]
        if code == "hair_transplant":
            return {"delivery": "surgical", "anaesthesia": "local", "anaesthesia_detail": "Lidocaine 1% with adrenaline, 20 ml",
                    "zones": {"frontal": "12", "mid_scalp": "8"}, "device": "FUE motorised punch 0.9 mm",
                    "notes": f"{rng.randint(1800, 2800)} grafts implanted."}
        if code in ("minoxidil", "finasteride", "dutasteride"):
            return {"delivery": "topical" if code == "minoxidil" else "oral",
                    "notes": "Started today; three months' supply dispensed."}
        chosen = zones[: rng.choice([1, 2, len(zones)])]
        if code == "exosomes" and rng.random() < 0.5:
            return {"delivery": "microneedling", "microneedling_depth_mm": "1.0", "device": "Motorised micro-needling pen",
                    "zones": {z: f"{rng.choice([1.0, 1.5, 2.0]):.1f}" for z in chosen}}
        per_zone = {"hfsc_micrograft": (1.0, 2.0), "adipose_svf": (2.0, 4.0), "scaffold": (0.5, 1.0)}.get(code, (1.5, 3.0))
        details = {"delivery": "injection", "needle": "30G 4 mm",
                   "zones": {z: f"{rng.uniform(*per_zone):.1f}" for z in chosen}}
        if code in ("hfsc_micrograft", "adipose_svf"):
            details.update(anaesthesia="local", anaesthesia_detail="Lidocaine 1% with adrenaline, 5 ml")
        elif rng.random() < 0.5:
            details.update(anaesthesia="topical", anaesthesia_detail="Lidocaine/prilocaine cream, 30 minutes")
        return details

    def harvest(self, modality, clinician, appointment):
        """Harvest at the start of the session; the lab receives, processes, checks and releases it."""
        from anagen.treatments.services import custody_record, sample_harvest

        ctx, rng = self.ctx, self.rng
        biopsy = modality.sample_kind == "biopsy"
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=5))):
            sample = sample_harvest(actor=clinician, patient=self.patient, kind=modality.sample_kind,
                                    biopsy_count=3 if biopsy else None, biopsy_diameter_mm="2.0" if biopsy else None,
                                    lipoaspirate_ml=None if biopsy else str(rng.randint(40, 90)),
                                    donor_site="Occipital scalp" if biopsy else "Lower abdomen")
        steps = [("received", {}, 10),
                 ("processed", {"processing_method": "Mechanical disaggregation in saline (closed cartridge)" if biopsy
                                else "Enzymatic digestion and centrifugation to the stromal vascular fraction"}, 25),
                 ("qc_passed", {"cell_count": rng.randint(800, 2500) * (1000 if biopsy else 10000),
                                "viability_pct": round(rng.uniform(82, 97), 1)}, 20),
                 ("released", {}, 5)]
        for step, details, minutes in steps:
            with ctx.act(ctx.lab, self.advance(self.t + timedelta(minutes=minutes))):
                custody_record(actor=ctx.lab, sample=sample, step=step, details=details)
        ctx.stats["samples"] += 1
        return sample

    def adverse_event(self, procedure, clinician, day: date) -> None:
        from anagen.treatments.services import adverse_event_record

        ctx, rng = self.ctx, self.rng
        events = [
            dict(description="Erythema and tenderness over the injected area", severity=1, relation="probable",
                 outcome="recovered", days=(1, 4)),
            dict(description="Headache the evening after the session", severity=1, relation="possible",
                 outcome="recovered", days=(0, 1)),
            dict(description="Folliculitis around two injection points", severity=2, relation="probable",
                 action="treated", action_detail="Topical fusidic acid for 7 days", outcome="recovered", days=(3, 10)),
            dict(description="Swelling of the forehead and eyelids", severity=2, relation="definite",
                 outcome="recovered", days=(2, 5)),
        ]
        if procedure.sample_id and rng.random() < 0.5:
            events.append(dict(description="Infection at the harvest site needing intravenous antibiotics",
                               severity=3, serious=True, relation="definite", action="hospitalised",
                               action_detail="Admitted overnight; intravenous flucloxacillin", outcome="recovered",
                               days=(7, 14)))
        e = dict(events[rng.randrange(len(events))])
        onset = day + timedelta(days=rng.randint(0, 3))
        lo, hi = e.pop("days")
        resolved = onset + timedelta(days=rng.randint(lo, hi))
        reported = _office(ctx, onset + timedelta(days=1))
        if reported >= ctx.present:
            return
        with ctx.act(clinician, self.advance(reported)):
            adverse_event_record(actor=clinician, patient=self.patient, procedure=procedure, onset_on=onset,
                                 resolved_on=resolved if resolved < ctx.today - timedelta(days=1) else None, **e)
        ctx.stats["adverse_events"] += 1

    def follow_up(self, weeks: int, appointment) -> None:
        clinician = appointment.clinician
        day = timezone.localtime(appointment.starts_at, LONDON).date()
        self.advance(appointment.starts_at)
        self.visit(appointment, day, baseline=False, clinician=clinician, weeks=weeks)
        self.complete(appointment)
        self.visit_weeks_done.append(weeks)

    # -- assessment visits and images

    def true_density(self, weeks: int | None) -> float:
        change = 0.0 if weeks is None else self.effect * _response_fraction(self.lead, weeks)
        noise = self.rng.gauss(0, VISIT_NOISE_SD) if not self.s.showcase else self.rng.gauss(0, 2.5)
        return max(20.0, self.density + change + noise)

    def visit(self, appointment, day: date, *, baseline: bool, clinician, weeks: int | None = None) -> None:
        from anagen.assessments.services import visit_create, visit_update

        ctx, rng = self.ctx, self.rng
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=3))):
            visit = visit_create(actor=clinician, patient=self.patient, visit_date=day, is_baseline=baseline,
                                 appointment=appointment, plan=self.plan)
        ctx.stats["visits"] += 1
        density = self.true_density(None if baseline else weeks)
        if ctx.stats["images"] < ctx.max_images or self.s.showcase:
            self.upload_images(visit, clinician, density, weeks)
        if not baseline:
            change = density - self.density
            investigator = max(-3, min(3, round(change / 12 + rng.gauss(0, 0.5))))
            patient_global = max(-3, min(3, round(change / 12 + rng.gauss(0.3, 0.9))))
            with ctx.act(clinician, self.advance(self.t + timedelta(minutes=6))):
                visit_update(actor=clinician, visit=visit, investigator_global=investigator,
                             patient_global=patient_global,
                             adverse_events_since_last_visit="" if rng.random() < 0.9 else
                             "Mild tenderness for two days after the last session.")

    def upload_images(self, visit, clinician, density: float, weeks: int | None) -> None:
        """A target-area phototrichogram drawn with a known hair count, counted by the engine.

        Regrowth patients also get the same area photographed 2 days after clipping (anagen %).
        """
        from django.core.files.uploadedfile import SimpleUploadedFile

        from anagen.assessments.services import trichogram_image_upload
        from anagen.trichoscopy.synthetic import generate_regrowth_pair, generate_scalp

        ctx, rng = self.ctx, self.rng
        started = _time.perf_counter()
        n_hairs = max(6, round(density * FIELD_AREA_CM2))
        seed = ctx.image_rng.randrange(2**31)
        change = 0.0 if weeks is None else density - self.density
        tone = self.skin_tone
        hair = ("black", "dark_brown", "brown") if tone == "light" else ("black", "dark_brown")
        images = []
        if self.regrowth and density <= REGROWTH_MAX_DENSITY:
            anagen = min(0.92, max(0.6, 0.76 + 0.004 * change))
            try:
                clipped, regrown = generate_regrowth_pair(seed, n_hairs=n_hairs, px_per_mm=DERMOSCOPE_PX_PER_MM,
                                                          shape=IMAGE_SHAPE, anagen_fraction=anagen, days=2.0,
                                                          skin_tone=tone)
                images = [("target", clipped.image), ("regrowth", regrown.image)]
            except ValueError:  # too dense to leave room for growth: a single image instead
                images = []
        if not images:
            # The vellus share stays the patient's own: the engine misses some vellus hairs, so a
            # share that changed between visits would show as a change in the count.
            scalp = generate_scalp(seed, n_hairs=n_hairs, px_per_mm=DERMOSCOPE_PX_PER_MM, shape=IMAGE_SHAPE,
                                   skin_tone=tone, vellus_fraction=self.vellus_fraction, crossings=1, parallel_pairs=1,
                                   length_mm=(0.3, 0.7), hair_colours=hair)
            images = [("target", scalp.image)]
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=8))):
            for kind, pixels in images:
                upload = SimpleUploadedFile(f"{kind}-{visit.visit_date:%Y%m%d}.jpg", _jpeg(pixels), "image/jpeg")
                trichogram_image_upload(actor=clinician, visit=visit, file=upload, kind=kind)
                ctx.stats["images"] += 1
        ctx.image_seconds += _time.perf_counter() - started


def _jpeg(pixels) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


# --- inquiries that never became patients -----------------------------------------------------


def _open_inquiries(ctx: DemoContext, n: int) -> None:
    """Questions and requests in the inbox: some new, some answered, some closed."""
    from anagen.intake.models import Inquiry
    from anagen.intake.services import client_hash, inquiry_answer, inquiry_close, inquiry_submit

    rng = ctx.rng
    for i in range(n):
        recent = i < n * 0.4
        day = ctx.today - timedelta(days=rng.randint(1, 9) if recent else rng.randint(10, HISTORY_WEEKS * 7))
        sex = rng.choice(["male", "female"])
        slug = rng.choice(["birmingham", "solihull"])
        person = _person(ctx, slug, sex, rng.randint(22, 65))
        kind = "question" if rng.random() < 0.55 else "consultation"
        video = kind == "consultation" and rng.random() < 0.35
        diagnosis = "male_aga" if sex == "male" else rng.choice(["female_aga", "traction", "telogen_effluvium"])
        when = _contact_time(ctx, day)
        with ctx.act(None, when):
            inquiry = inquiry_submit(kind=kind, name=person.full_name, email=person.email, phone=person.phone,
                                     concern=rng.choice(QUESTIONS if kind == "question" else CONCERNS[diagnosis]),
                                     preferred_clinic=None if video else ctx.clinics[slug], prefers_video=video,
                                     consent_to_contact=True, client=client_hash(f"demo-open-{i}"))
        ctx.stats["inquiries"] += 1
        if recent and rng.random() < 0.8:
            continue  # new, waiting in the inbox
        reply = _before_present(ctx, _office(ctx, day + timedelta(days=rng.randint(1, 3))))
        if reply <= when:
            continue
        if kind == "question" and rng.random() < 0.75 and inquiry.email:
            with ctx.act(ctx.coordinator, reply):
                inquiry_answer(actor=ctx.coordinator, inquiry=inquiry, answer=rng.choice(ANSWERS))
            if rng.random() < 0.5:
                continue
            later = _before_present(ctx, reply + timedelta(days=rng.randint(3, 20)))
            if later <= reply:
                continue
            reply = later
        inquiry = Inquiry.objects.get(pk=inquiry.pk)
        with ctx.act(ctx.coordinator, reply):
            inquiry_close(actor=ctx.coordinator, inquiry=inquiry, reason=rng.choice(CLOSE_REASONS))


# --- the whole demo -----------------------------------------------------------------------------


@dataclass
class DemoSummary:
    counts: dict
    elapsed_s: float
    image_s: float
    showcase: str
    showcase_pk: int | None
    failures: int

    def __str__(self) -> str:
        c = self.counts
        return (f"{c['clinics']} clinics, {c['staff']} staff, {c['patients']} patients, {c['inquiries']} inquiries, "
                f"{c['appointments']} appointments ({c['future_appointments']} ahead), {c['screenings']} screenings, "
                f"{c['plans']} plans, {c['procedures']} procedures, {c['samples']} samples, "
                f"{c['adverse_events']} adverse events, {c['visits']} assessment visits, {c['images']} images "
                f"({c['measurements']} measurements) in {self.elapsed_s:.0f} s "
                f"(images {self.image_s:.0f} s). Showcase patient: {self.showcase}")


def _counts(ctx: DemoContext) -> dict:
    from anagen.accounts.models import Clinic, User
    from anagen.assessments.models import AssessmentVisit, Measurement, TrichogramImage
    from anagen.intake.models import Inquiry
    from anagen.patients.models import Patient
    from anagen.scheduling.models import Appointment
    from anagen.screening.models import Screening
    from anagen.treatments.models import AdverseEvent, AutologousSample, Procedure, TreatmentPlan

    return {
        "clinics": Clinic.objects.count(), "staff": User.objects.count(), "patients": Patient.objects.count(),
        "inquiries": Inquiry.objects.count(), "appointments": Appointment.objects.count(),
        "future_appointments": Appointment.objects.filter(starts_at__gte=ctx.present, status="booked").count(),
        "screenings": Screening.objects.values("run_id").distinct().count(),
        "plans": TreatmentPlan.objects.count(), "procedures": Procedure.objects.count(),
        "samples": AutologousSample.objects.count(), "adverse_events": AdverseEvent.objects.count(),
        "visits": AssessmentVisit.objects.count(), "images": TrichogramImage.objects.count(),
        "measurements": Measurement.objects.count(),
    }


def load_demo(*, seed: int = 2026, n_patients: int = 220, max_images: int = 300,
              log: Callable[[str], None] = print) -> DemoSummary:
    """Load the demo; see the module docstring. ``max_images`` caps the analysed images (the
    showcase patient's are always made), which is what the time goes on."""
    from django.test.utils import override_settings

    from anagen.core.errors import ActionError
    from anagen.treatments.models import Modality

    started = _time.perf_counter()
    rng = random.Random(seed)
    ctx = DemoContext(rng=rng, today=timezone.localdate(), clock=SimulatedClock(), max_images=max_images, log=log,
                      image_rng=random.Random(seed + 1))
    phones = list(range(1000))
    rng.shuffle(phones)
    ctx.phones = phones
    # Analyses run inline (not on the worker thread), and e-mails to patients stay in memory.
    with ctx.clock, override_settings(ANAGEN_TASKS_EAGER=True,
                                      EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with transaction.atomic():
            with ctx.act(None, _aware(datetime.combine(ctx.today - timedelta(weeks=HISTORY_WEEKS + 12), time(9)))):
                _clinics_and_staff(ctx)
            ctx.modalities = {m.code: m for m in Modality.objects.all()}
            _hours(ctx)
            _stock(ctx)
            _device_profiles(ctx)
        stories = _plan_stories(ctx, n_patients)
        log(f"Replaying {len(stories)} patients' histories (this takes a minute or two)...")
        failures = 0
        for i, story in enumerate(stories, start=1):
            try:
                with transaction.atomic():
                    PatientRun(ctx, story).run()
            except ActionError as exc:
                # A rule refused something in this story: leave the whole patient out, go on.
                failures += 1
                log(f"  patient {i} left out: {exc}")
            if i % 50 == 0:
                log(f"  {i} patients, {ctx.stats['images']} images, {_time.perf_counter() - started:.0f} s")
        with transaction.atomic():
            _open_inquiries(ctx, max(4, n_patients // 6))
            _recall(ctx)
        _mail_outbox_clear()
    log("  " + ", ".join(f"{k} {v}" for k, v in sorted(ctx.stats.items())))
    showcase = ctx.showcase
    summary = DemoSummary(counts=_counts(ctx), elapsed_s=_time.perf_counter() - started, image_s=ctx.image_seconds,
                          showcase=f"{showcase.full_name} ({showcase.patient_number})" if showcase else "none",
                          showcase_pk=showcase.pk if showcase else None, failures=failures)
    return summary


def _mail_outbox_clear() -> None:
    from django.core import mail

    if hasattr(mail, "outbox"):
        mail.outbox = []


def demo_digest() -> str:
    """A digest of who is in the database: for checking that a seed gives the same demo."""
    from anagen.patients.models import Patient
    from anagen.scheduling.models import Appointment

    h = hashlib.sha256()
    for row in Patient.objects.order_by("patient_number").values_list("patient_number", "first_name", "last_name",
                                                                       "date_of_birth", "clinic__slug", "diagnosis"):
        h.update(repr(row).encode())
    for row in Appointment.objects.order_by("starts_at", "clinician__email").values_list(
            "patient__patient_number", "kind", "status", "starts_at", "clinician__email"):
        h.update(repr(row).encode())
    return h.hexdigest()
