"""Least privilege, checked by a matrix: every page and API route x every persona.

Routes come from the URL resolver and the OpenAPI document, so a new route is in the matrix at
once; expectations are data in ``tests/security/matrix.py``. A route with no row fails, naming
the row to add; a persona allowed where the row says deny fails (the unexpected allow), and so
does one denied where the row says allow (the row no longer says what the view does).

The world is the demo (a small one, loaded once for the module and rolled back), seen from
Birmingham: each persona holds one role at Birmingham, or the same role at Solihull
("<role>@other"); every record a route names is a Birmingham record.

``ANAGEN_MATRIX_OBSERVED=path`` writes what each route actually did, as rows, to that file.
"""

from __future__ import annotations

import datetime
import os

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from . import access
from .matrix import EXPECTED

pytestmark = pytest.mark.django_db

PAGE_PK = [  # the record that "<pk>" names, by the route's start
    ("/inbox/", "inquiry"), ("/patients/", "patient"), ("/calendar/appointments/", "appointment"),
    ("/treatments/plans/", "plan"), ("/treatments/proposals/", "proposal"), ("/treatments/procedures/", "procedure"),
    ("/treatments/adverse-events/", "adverse_event"), ("/treatments/lots/", "lot"), ("/treatments/samples/", "sample"),
    ("/assessments/visits/", "visit"), ("/assessments/images/", "image"), ("/assessments/photos/", "photo"),
    ("/outcomes/patients/", "patient"), ("/studies/", "study"),
    ("/assessments/devices/", "device"), ("/assessments/adjustments/", "adjustment"),
]


def _records():
    from anagen.accounts.models import Clinic, User
    from anagen.assessments.models import AssessmentVisit, GlobalPhoto, TrichogramImage
    from anagen.assessments.services import global_photo_upload
    from anagen.intake.models import Inquiry
    from anagen.patients.models import Consent, Patient, PriorTreatment
    from anagen.scheduling.models import Appointment
    from anagen.screening.models import RuleSet, Screening
    from anagen.studies.models import ProtocolVersion, Study, Subject
    from anagen.treatments.models import (AdverseEvent, AutologousSample, Lot, Modality, Procedure, ProposedBooking,
                                          TreatmentPlan)

    home = Clinic.objects.get(slug="birmingham")
    # A clinic patient's image: a locked study's subjects' visits no longer change.
    image = (TrichogramImage.objects.filter(visit__clinic=home).select_related("visit")
             .exclude(visit__patient_id__in=Subject.objects.values("patient_id")).order_by("pk").first())
    visit = image.visit
    patient = visit.patient
    clinician = User.objects.filter(email="clinician@anagen.example").get()
    global_photo_upload(actor=clinician, visit=visit, view="vertex", file=access.tiny_jpeg())
    study = Study.objects.order_by("pk").first()
    subject = Subject.objects.filter(study=study).order_by("pk").first()
    first = lambda qs: qs.order_by("pk").first()  # noqa: E731
    r = {
        "patient": patient.pk, "visit": visit.pk, "image": image.pk,
        "photo": GlobalPhoto.objects.filter(visit=visit).first().pk,
        "inquiry": first(Inquiry.objects.filter(preferred_clinic=home, converted_patient__isnull=True)).pk,
        "appointment": first(Appointment.objects.filter(clinic=home, patient=patient)).pk,
        "plan": first(TreatmentPlan.objects.filter(clinic=home)).pk,
        "proposal": first(ProposedBooking.objects.filter(plan__clinic=home)).pk,
        "procedure": first(Procedure.objects.filter(clinic=home)).pk,
        "adverse_event": (first(AdverseEvent.objects.filter(clinic=home)) or _adverse_event(home, clinician)).pk,
        "lot": first(Lot.objects.filter(clinic=home)).pk,
        "product": first(Lot.objects.filter(clinic=home)).product_id,
        "sample": first(AutologousSample.objects.filter(clinic=home)).pk,
        "study": study.pk, "subject": subject.pk if subject else 1,
        "version": first(ProtocolVersion.objects.filter(study=study)).number if study else 1,
        "consent": first(Consent.objects.filter(patient=patient)).pk,
        "prior_treatment": (first(PriorTreatment.objects.filter(patient=patient))
                            or PriorTreatment.objects.create(patient=patient, treatment="minoxidil")).pk,
        "run": first(Screening.objects.filter(patient=patient)).run_id,
        "rules": RuleSet.objects.order_by("-version").first().version,
        "clinician": clinician.pk, "code": Modality.objects.order_by("code").first().code, "home": home.pk,
        **_device_records(home),
    }
    values = {
        # page routes
        "patient_pk": r["patient"], "patient_id": r["patient"], "clinician_pk": r["clinician"],
        "treatment_pk": r["prior_treatment"], "consent_pk": r["consent"], "run_id": r["run"], "version": r["rules"],
        "number": r["version"], "subject_pk": r["subject"],
        # API routes
        "inquiry_id": r["inquiry"], "consent_id": r["consent"], "appointment_id": r["appointment"],
        "plan_id": r["plan"], "proposal_id": r["proposal"], "lot_id": r["lot"], "procedure_id": r["procedure"],
        "event_id": r["adverse_event"], "sample_id": r["sample"], "visit_id": r["visit"], "image_id": r["image"],
        "device_id": r["device"],
        "photo_id": r["photo"], "study_id": r["study"], "subject_id": r["subject"], "code": r["code"],
        "rtype": "Patient", "clinician": r["clinician"], "clinic": r["home"], "day": "2030-01-07",
        # study records only a study's team reaches (no persona is on one): any id reads 404
        "deviation_pk": 1, "query_id": 1,
        "key": "0b6f9f3e-4d1c-4c55-9a57-4f1f1c2d3e4f",  # a prepared document's key: nobody's
        "product": r["product"],  # a body's product_id: the ids depend on what ran before (PostgreSQL sequences)
    }
    for route in access.page_routes():
        if "<pk>" in route.pattern or "<int:pk>" in route.pattern:
            what = next(name for prefix, name in PAGE_PK if route.pattern.startswith(prefix))
            values[(route.pattern, "pk")] = r[what]
    return values


def _device_records(home) -> dict:
    """A device profile of the clinic and a (fitted, inactive) adjustment of it."""
    from anagen.assessments.models import DeviceAdjustment, DeviceProfile

    device = (DeviceProfile.objects.filter(clinic=home).order_by("pk").first()
              or DeviceProfile.objects.create(clinic=home, name="Matrix dermoscope", px_per_mm=100.0))
    adj = DeviceAdjustment.objects.create(device=device, engine_version="matrix", version=9000, intercept=1.0,
                                          intercept_low=0.0, intercept_high=2.0, slope=1.0, slope_low=0.9,
                                          slope_high=1.1, residual_sd=1.0, n=10)
    return {"device": device.pk, "adjustment": adj.pk}


def _adverse_event(home, clinician):
    """The small demo may have no adverse event at Birmingham: record one."""
    from anagen.outcomes.tests import factories
    from anagen.treatments.models import Procedure

    procedure = Procedure.objects.filter(clinic=home).order_by("pk").first()
    return factories.adverse_event(clinician=clinician, patient=procedure.patient, procedure=procedure,
                                   on=procedure.performed_on)


def _personas():
    from anagen.accounts.models import Clinic, User
    from anagen.accounts.services import staff_create, token_create

    home, other = Clinic.objects.get(slug="birmingham"), Clinic.objects.get(slug="solihull")
    users = {}
    for role in access.ROLES:
        users[role] = staff_create(email=f"m-{role}@birmingham.test", password="matrix-persona-passphrase",
                                   roles=[role], clinics=[home])
        users[f"{role}@other"] = staff_create(email=f"m-{role}@solihull.test", password="matrix-persona-passphrase",
                                              roles=[role], clinics=[other])
    users["stranger"] = User.objects.create_user(email="m-stranger@nowhere.test", password="matrix-persona-passphrase")
    tokens = {name: token_create(email=u.email)[1] for name, u in users.items()}
    # Holds every role at Birmingham: tells a POST-only page (405 to a GET) from a refusal.
    users["every-role"] = staff_create(email="m-every-role@birmingham.test", password="matrix-persona-passphrase",
                                       roles=list(access.ROLES), clinics=[home])
    return users, tokens


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from anagen.demo import load_demo

    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(
            MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            INTAKE_RATE_LIMIT_PER_HOUR=10**6, ANAGEN_LOGIN_FAILURES_PER_ADDRESS=10**6, ANAGEN_TASKS_EAGER=True):
        with transaction.atomic():
            load_demo(seed=3, n_patients=14, max_images=2, log=lambda _: None)
            values = _records()
            users, tokens = _personas()
            world = {"values": values, "users": users, "tokens": tokens, "media": str(media)}
            for persona in (*access.PERSONAS, "every-role"):  # sessions made here outlive each route's rollback
                _client(world, persona, "page")
                if persona in tokens or persona == "anonymous":
                    _client(world, persona, "api")
            yield world
            transaction.set_rollback(True)


def _client(world, persona: str, kind: str, fresh: bool = False) -> Client:
    """A client per persona, signed in once (its session lives in the module's transaction);
    ``fresh`` for a route that may end the session (logout)."""
    cache = world.setdefault("clients", {})
    if not fresh and (persona, kind) in cache:
        return cache[(persona, kind)]
    if persona == "anonymous":
        client = Client(raise_request_exception=False)
    elif kind == "api":
        client = Client(HTTP_AUTHORIZATION=f"Bearer {world['tokens'][persona]}", raise_request_exception=False)
    else:
        client = Client(raise_request_exception=False)
        client.force_login(world["users"][persona], backend="django.contrib.auth.backends.ModelBackend")
    if not fresh:
        cache[(persona, kind)] = client
    return client


def _page_method(world, route: access.Route, url: str) -> str:
    """GET, unless the view takes POST only (a 405 to a persona holding every role)."""
    return "POST" if _client(world, "every-role", "page").get(url).status_code == 405 else "GET"


def _observe(world, route: access.Route) -> dict[str, str]:
    values = world["values"]
    outcomes = {}
    with transaction.atomic():  # every route starts from the same records
        if route.kind == "page":
            url = access.fill(route.pattern, {**values, **{k: v for k, v in values.items() if isinstance(k, tuple)}})
            method = _page_method(world, route, url)
            for persona in access.PERSONAS:
                sid = transaction.savepoint()
                client = _client(world, persona, "page", fresh=route.pattern == "/logout/")
                response = client.post(url, {}) if method == "POST" else client.get(url)
                transaction.savepoint_rollback(sid)
                assert response.status_code < 500, f"{route.key} as {persona}: {response.status_code}"
                outcomes[persona] = access.classify(response)
        else:
            url = access.fill(route.pattern, values) + access.query_string(route, values)
            for persona in access.PERSONAS:
                sid = transaction.savepoint()
                client = _client(world, persona, "api")
                kwargs = access.api_request_kwargs(route, values)
                response = getattr(client, route.method.lower())(url, **kwargs)
                transaction.savepoint_rollback(sid)  # a write by one persona does not change the next one's answer
                assert response.status_code < 500, f"{route.key} as {persona}: {response.status_code}"
                outcomes[persona] = access.classify(response)
        transaction.set_rollback(True)
    return outcomes


ROUTES = access.all_routes()


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_route_allows_exactly_the_expected_personas(world, route, settings):
    settings.MEDIA_ROOT = world["media"]  # the demo's images (the root conftest gives each test its own)
    outcomes = _observe(world, route)
    allowed = {p for p, o in outcomes.items() if o == "allow"}
    path = os.environ.get("ANAGEN_MATRIX_OBSERVED")
    if path:
        with open(path, "a") as fh:
            fh.write(f"    {route.key!r}: {sorted(allowed, key=access.PERSONAS.index)!r},\n")
    assert route.key in EXPECTED, (
        f"No row for {route.key} in tests/security/matrix.py. Add one saying who may use it, e.g.\n"
        f"    {route.key!r}: allow({', '.join(repr(p) for p in sorted(allowed, key=access.PERSONAS.index))}),")
    expected = EXPECTED[route.key]
    unexpected = sorted(allowed - expected, key=access.PERSONAS.index)
    assert not unexpected, f"{route.key} lets in {unexpected}: the matrix says deny"
    refused = sorted(expected - allowed, key=access.PERSONAS.index)
    assert not refused, f"{route.key} refuses {refused}: the matrix says allow"


def test_every_matrix_row_names_a_route():
    keys = {r.key for r in ROUTES}
    assert not set(EXPECTED) - keys, f"rows for routes that no longer exist: {sorted(set(EXPECTED) - keys)}"
