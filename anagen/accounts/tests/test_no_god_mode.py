"""Administration without god mode: an admin is not a superuser, sees only their clinics, cannot
grant themselves access, and staff are deactivated, never deleted. Each test tries the attack."""

import pytest
from django.db import transaction
from django.core.exceptions import PermissionDenied

from anagen.accounts.models import ApiToken, User
from anagen.accounts.services import staff_create, staff_deactivate, staff_grant, token_create
from anagen.accounts.signals import StaffAreNeverDeleted
from anagen.audit.context import acting_as
from anagen.audit.models import AuditEvent
from anagen.patients.tests.factories import make_patient
from conftest import PASSWORD


@pytest.fixture
def admin_b(clinic_b):
    return staff_create(email="admin@solihull.test", password=PASSWORD, roles=["admin"], clinics=[clinic_b])


@pytest.fixture
def admin_both(clinic, clinic_b):
    return staff_create(email="chief@anagen.test", password=PASSWORD, roles=["admin"], clinics=[clinic, clinic_b])


def _events(kind, **filters):
    return list(AuditEvent.objects.filter(kind=kind, **filters))


def test_admins_are_not_superusers(admin_user):
    assert admin_user.is_staff and not admin_user.is_superuser
    assert admin_user.has_perm("patients.view_patient")
    assert not admin_user.has_perm("auditlog.delete_logentry")


def test_the_demo_admin_is_not_a_superuser(db):
    import random
    from datetime import date
    from unittest.mock import MagicMock

    from anagen.demo.clinics_and_staff import _clinics_and_staff
    from anagen.demo.context import DemoContext

    ctx = DemoContext(rng=random.Random(1), today=date(2026, 1, 5), clock=MagicMock(), max_images=0, log=lambda _: None)
    _clinics_and_staff(ctx)
    admins = User.objects.filter(role_grants__role="admin")
    assert admins.exists() and not admins.filter(is_superuser=True).exists()
    assert not User.objects.filter(is_superuser=True).exists()


def test_an_admin_does_not_see_another_clinics_patients_in_the_django_admin(login, admin_user, clinic, clinic_b,
                                                                           coordinator, coordinator_b):
    ours = make_patient(coordinator, clinic, last_name="Ourside")
    theirs = make_patient(coordinator_b, clinic_b, last_name="Theirside")
    c = login(admin_user)
    page = c.get("/admin/patients/patient/")
    assert page.status_code == 200
    assert b"Ourside" in page.content and b"Theirside" not in page.content
    assert c.get(f"/admin/patients/patient/{ours.pk}/change/").status_code == 200
    r = c.get(f"/admin/patients/patient/{theirs.pk}/change/")
    assert r.status_code == 302 and b"Theirside" not in r.content  # "does not exist", back to the index
    assert b"Solihull" not in c.get("/admin/accounts/clinic/").content
    assert c.get(f"/admin/accounts/clinic/{clinic_b.pk}/change/").status_code == 302
    staff = c.get("/admin/accounts/user/").content
    assert coordinator.email.encode() in staff and coordinator_b.email.encode() not in staff


def test_an_admin_cannot_add_a_clinic_to_their_own_account_in_the_django_admin(login, admin_user, clinic, clinic_b):
    c = login(admin_user)
    form = c.get(f"/admin/accounts/user/{admin_user.pk}/change/")
    assert form.status_code == 200 and b"Solihull" not in form.content
    c.post(f"/admin/accounts/user/{admin_user.pk}/change/", {
        "email": admin_user.email, "first_name": "Ada", "last_name": "Admin", "job_title": "",
        "is_active": "on", "is_staff": "on", "is_superuser": "on", "clinics": [clinic.pk, clinic_b.pk],
        "role_grants-TOTAL_FORMS": "1", "role_grants-INITIAL_FORMS": "0", "role_grants-MIN_NUM_FORMS": "0",
        "role_grants-MAX_NUM_FORMS": "1000", "role_grants-0-role": "statistician",
    })
    admin_user.refresh_from_db()
    admin_user.forget_cached_access()
    assert admin_user.clinic_ids == {clinic.pk}
    assert admin_user.roles == {"admin"}
    assert not admin_user.is_superuser


def test_self_grants_are_refused_whatever_the_path(admin_user, clinic, clinic_b):
    with pytest.raises(PermissionDenied):
        staff_grant(actor=admin_user, user=admin_user, clinics_add=[clinic_b])
    with pytest.raises(PermissionDenied), transaction.atomic(), acting_as(admin_user):
        admin_user.clinics.add(clinic_b)
    from anagen.accounts.models import StaffRole

    with pytest.raises(PermissionDenied), transaction.atomic(), acting_as(admin_user):
        StaffRole.objects.create(user=admin_user, role="statistician")
    with pytest.raises(PermissionDenied), transaction.atomic(), acting_as(admin_user):
        admin_user.is_superuser = True
        admin_user.save()
    admin_user.refresh_from_db()
    assert set(admin_user.clinics.values_list("pk", flat=True)) == {clinic.pk} and not admin_user.is_superuser


def test_another_admin_grants_and_the_grant_is_an_audited_event(admin_both, coordinator, clinic_b):
    staff_grant(actor=admin_both, user=coordinator, clinics_add=[clinic_b], roles_add=["statistician"])
    assert clinic_b.pk in coordinator.clinic_ids and "statistician" in coordinator.roles
    granted = _events("clinic_granted", subject=f"user:{coordinator.pk}", clinic_id=clinic_b.pk)
    assert len(granted) == 1
    from auditlog.models import LogEntry

    entry = LogEntry.objects.get_for_object(granted[0]).get()
    assert entry.actor == admin_both
    assert _events("role_granted", subject=f"user:{coordinator.pk}")[0].detail == {"role": "statistician"}


def test_an_admin_cannot_grant_a_clinic_they_do_not_administer(admin_user, coordinator, clinic_b):
    with pytest.raises(PermissionDenied):
        staff_grant(actor=admin_user, user=coordinator, clinics_add=[clinic_b])
    assert clinic_b.pk not in set(coordinator.clinics.values_list("pk", flat=True))


def test_staff_are_never_deleted_but_deactivated(admin_both, coordinator, clinic):
    with acting_as(coordinator):
        clinic.phone = "+441210000001"
        clinic.save()
    with pytest.raises(StaffAreNeverDeleted), transaction.atomic():
        coordinator.delete()
    with pytest.raises(StaffAreNeverDeleted), transaction.atomic():
        User.objects.filter(pk=coordinator.pk).delete()
    _, raw = token_create(email=coordinator.email)
    staff_deactivate(actor=admin_both, user=coordinator)
    coordinator.refresh_from_db()
    assert not coordinator.is_active
    assert ApiToken.objects.get(user=coordinator).revoked_at is not None
    assert _events("staff_deactivated", subject=f"user:{coordinator.pk}")
    from auditlog.models import LogEntry

    assert LogEntry.objects.get_for_object(clinic).filter(actor=coordinator).exists()


def test_the_django_admin_offers_no_staff_delete(login, admin_user, coordinator):
    c = login(admin_user)
    assert c.get(f"/admin/accounts/user/{coordinator.pk}/delete/").status_code == 403


def test_logins_failed_logins_and_tokens_are_audited(client, coordinator):
    client.post("/login/", {"username": coordinator.email, "password": "wrong-password"})
    assert _events("login_failed", subject=coordinator.email)
    client.post("/login/", {"username": coordinator.email, "password": PASSWORD})
    assert _events("login", subject=f"user:{coordinator.pk}")
    token_create(email=coordinator.email, name="lab sync")
    assert _events("token_created", subject=f"user:{coordinator.pk}")[0].detail["name"] == "lab sync"
