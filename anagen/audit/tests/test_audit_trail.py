import pytest
from django.db import transaction
from auditlog.models import LogEntry

from anagen.audit.selectors import record_history
from anagen.audit.signals import AuditTrailIsAppendOnly


def _entries_for(obj):
    return LogEntry.objects.get_for_object(obj).order_by("timestamp", "id")


def test_a_change_through_a_page_records_who_when_what_and_the_request(login, admin_user, clinic):
    client = login(admin_user)
    r = client.post(f"/admin/accounts/clinic/{clinic.pk}/change/", {
        "name": "Birmingham Central", "slug": clinic.slug, "address": clinic.address, "phone": "", "email": "",
        "timezone": "Europe/London", "is_active": "on",
        "rooms-TOTAL_FORMS": "0", "rooms-INITIAL_FORMS": "0", "rooms-MIN_NUM_FORMS": "0", "rooms-MAX_NUM_FORMS": "1000",
    }, REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 302, r.content[:2000]
    entry = _entries_for(clinic).last()
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == admin_user
    assert entry.remote_addr == "10.1.2.3"
    assert entry.cid and entry.cid == r["X-Request-ID"]
    assert entry.changes_dict["name"] == ["Birmingham", "Birmingham Central"]


def test_creates_and_deletes_are_recorded_with_old_values(clinic):
    from anagen.accounts.models import Room

    room = Room.objects.create(clinic=clinic, name="Laser")
    pk = room.pk
    room.delete()
    actions = list(LogEntry.objects.filter(object_pk=str(pk), content_type__model="room").order_by("id").values_list("action", flat=True))
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.DELETE]


def test_entries_cannot_be_changed_or_deleted(clinic):
    clinic.name = "Changed"
    clinic.save()
    entry = _entries_for(clinic).last()
    entry.object_repr = "tampered"
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        entry.save()
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        entry.delete()
    assert _entries_for(clinic).last().object_repr != "tampered"


def test_password_hashes_never_reach_the_trail(clinic):
    from anagen.accounts.services import staff_create

    user = staff_create(email="x@birmingham.test", password="a-long-password-1", roles=["clinician"], clinics=[clinic])
    user.set_password("another-long-password-2")
    user.save()
    for entry in _entries_for(user):
        assert "password" not in (entry.changes_dict or {})


def test_history_lists_newest_first_with_the_actor(admin_user, clinic):
    from auditlog.context import set_actor

    with set_actor(admin_user):
        clinic.phone = "+441210000000"
        clinic.save()
    history = record_history(clinic)
    assert history[0].action == "updated"
    assert history[0].actor == str(admin_user)
    assert history[0].changes["phone"][1] == "+441210000000"


def test_api_changes_are_attributed_to_the_tokens_owner(api_client, admin_user, clinic):
    """The bearer-token user is set before the audit middleware runs."""
    from anagen.audit.context import current_request_id

    client = api_client(admin_user)
    r = client.get("/api/v1/me")
    assert r.status_code == 200 and r["X-Request-ID"]
    assert current_request_id() is None  # the request id does not leak past the request


def test_history_of_a_new_record_shows_only_the_values_it_was_given(clinic):
    from anagen.accounts.models import Room

    room = Room.objects.create(clinic=clinic, name="Laser")
    created = record_history(room)[-1]
    assert created.action == "created"
    assert created.changes["name"][1] == "Laser"
    assert "id" not in created.changes
