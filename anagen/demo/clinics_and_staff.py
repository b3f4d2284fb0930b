"""Clinics, rooms and one staff member per role (plus a second clinician and a second evaluator)."""

from __future__ import annotations

from anagen.demo.context import DemoContext

DEMO_PASSWORD = "anagen-demo-2026"

STAFF = [
    ("admin", "admin@anagen.example", "Alex", "Morgan", ["birmingham", "solihull"]),
    ("coordinator", "coordinator@anagen.example", "Priya", "Shah", ["birmingham", "solihull"]),
    ("clinician", "clinician@anagen.example", "Dr Helen", "Okafor", ["birmingham", "solihull"]),
    ("clinician", "clinician2@anagen.example", "Dr James", "Whitfield", ["solihull"]),
    # One lab serves both clinics: samples from Solihull are couriered to it.
    ("lab_scientist", "lab@anagen.example", "Tom", "Barker", ["birmingham", "solihull"]),
    ("evaluator", "evaluator@anagen.example", "Grace", "Liu", ["birmingham", "solihull"]),
    # The split-scalp study's images are read twice, blind: a second evaluator.
    ("evaluator", "evaluator2@anagen.example", "Dr Samuel", "Adeyemi", ["birmingham", "solihull"]),
    ("statistician", "statistician@anagen.example", "Omar", "Haddad", ["birmingham", "solihull"]),
]

def demo_logins() -> list[tuple[str, str]]:
    return [(role, email) for role, email, *_ in STAFF]


def database_is_empty() -> bool:
    from anagen.accounts.models import Clinic

    return not Clinic.objects.exists()

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
