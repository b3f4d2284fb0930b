"""Deterministic demo data, so every page has something to show on first start.

Everything is written through the same services the pages use, so the demo also exercises the
rules (no double bookings, consents before procedures, lot expiry) and fills the audit trail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable

from django.db import transaction
from django.utils import timezone

DEMO_PASSWORD = "anagen-demo-2026"

STAFF = [
    ("admin", "admin@anagen.example", "Alex", "Morgan", ["birmingham", "solihull"]),
    ("coordinator", "coordinator@anagen.example", "Priya", "Shah", ["birmingham", "solihull"]),
    ("clinician", "clinician@anagen.example", "Dr Helen", "Okafor", ["birmingham", "solihull"]),
    ("clinician", "clinician2@anagen.example", "Dr James", "Whitfield", ["solihull"]),
    ("lab_scientist", "lab@anagen.example", "Tom", "Barker", ["birmingham"]),
    ("evaluator", "evaluator@anagen.example", "Grace", "Liu", ["birmingham", "solihull"]),
    ("statistician", "statistician@anagen.example", "Omar", "Haddad", ["birmingham", "solihull"]),
]


def demo_logins() -> list[tuple[str, str]]:
    return [(role, email) for role, email, *_ in STAFF]


def database_is_empty() -> bool:
    from anagen.accounts.models import Clinic

    return not Clinic.objects.exists()


@dataclass
class DemoContext:
    rng: random.Random
    today: date
    clinics: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    log: Callable[[str], None] = print


def _clinics_and_staff(ctx: DemoContext) -> None:
    from anagen.accounts.models import Clinic, Room
    from anagen.accounts.services import staff_create

    for slug, name, address in [
        ("birmingham", "Birmingham", "14 Newhall Street, Birmingham B3 3LX"),
        ("solihull", "Solihull", "2 Station Road, Solihull B91 3RX"),
    ]:
        clinic = Clinic.objects.create(name=name, slug=slug, address=address, phone="+44 121 496 0000",
                                       email=f"{slug}@anagen.example", timezone="Europe/London")
        Room.objects.create(clinic=clinic, name="Consulting room 1")
        Room.objects.create(clinic=clinic, name="Consulting room 2")
        Room.objects.create(clinic=clinic, name="Procedure room", is_procedure_room=True)
        ctx.clinics[slug] = clinic
    for role, email, first, last, clinic_slugs in STAFF:
        user = staff_create(email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, roles=[role],
                            clinics=[ctx.clinics[s] for s in clinic_slugs])
        ctx.staff.setdefault(role, []).append(user)


def load_demo(*, seed: int = 2026, n_patients: int = 220, log: Callable[[str], None] = print) -> str:
    """Load the demo; return a one-line summary."""
    ctx = DemoContext(rng=random.Random(seed), today=timezone.localdate(), log=log)
    with transaction.atomic():
        _clinics_and_staff(ctx)
    return f"{len(ctx.clinics)} clinics, {sum(len(v) for v in ctx.staff.values())} staff"
