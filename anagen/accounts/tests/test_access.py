import pytest

from conftest import PASSWORD


def test_login_page_is_public(client, db):
    assert client.get("/login/").status_code == 200


def test_staff_pages_need_login(client, db):
    r = client.get("/patients/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_passwords_are_hashed_with_argon2(settings, clinic):
    from anagen.accounts.services import staff_create

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    u = staff_create(email="new@birmingham.test", password=PASSWORD, roles=["clinician"], clinics=[clinic])
    assert u.password.startswith("argon2$")


def test_login_is_throttled_after_repeated_failures(client, coordinator, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/login/", {"username": coordinator.email, "password": "wrong"})
    r = client.post("/login/", {"username": coordinator.email, "password": PASSWORD})
    assert r.status_code == 429
    assert b"locked" in r.content
    assert "_auth_user_id" not in client.session


def test_a_good_login_works(client, coordinator):
    r = client.post("/login/", {"username": coordinator.email, "password": PASSWORD})
    assert r.status_code == 302
    assert client.session["_auth_user_id"] == str(coordinator.pk)


def test_django_admin_is_for_admins_only(login, admin_user, coordinator):
    assert login(coordinator).get("/admin/").status_code == 302  # sent to the admin login
    assert login(admin_user).get("/admin/").status_code == 200


def test_token_command_prints_a_working_token(coordinator, client, capsys):
    from django.core.management import call_command

    call_command("token", "create", "--user", coordinator.email)
    raw = capsys.readouterr().out.strip()
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    body = r.json()
    assert body["email"] == coordinator.email
    assert body["roles"] == ["coordinator"]
    assert body["clinic_ids"] == [coordinator.clinics.get().id]


def test_token_command_says_clearly_when_the_user_is_unknown(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active staff member"):
        call_command("token", "create", "--user", "nobody@example.test")


def test_api_refuses_a_bad_token_and_no_token(client, db):
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nope")
    assert r.status_code == 401 and "not valid" in r.json()["detail"]
    assert client.get("/api/v1/me").status_code == 401


def test_api_lists_only_the_callers_clinics(api_client, coordinator, clinic_b):
    r = api_client(coordinator).get("/api/v1/clinics")
    assert [c["name"] for c in r.json()] == ["Birmingham"]


def test_openapi_document_is_served(client, db):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.json()["info"]["title"] == "Anagen API"


def test_staff_list_shows_only_colleagues_of_the_callers_clinics(api_client, coordinator, coordinator_b, clinician):
    emails = {s["email"] for s in api_client(coordinator).get("/api/v1/staff").json()}
    assert emails == {coordinator.email, clinician.email}


def test_staff_list_can_filter_by_role(api_client, coordinator, clinician):
    body = api_client(coordinator).get("/api/v1/staff?role=clinician").json()
    assert [s["email"] for s in body] == [clinician.email]


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "stranger"])
def test_staff_list_is_refused_to_roles_without_front_desk_duties(api_client, persona, request):
    user = request.getfixturevalue(persona)
    r = api_client(user).get("/api/v1/staff")
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_a_stranger_sees_no_clinic(api_client, stranger, clinic):
    assert api_client(stranger).get("/api/v1/clinics").json() == []


def test_session_writes_to_the_api_need_the_csrf_token(login, admin_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    r = client.post("/api/v1/me")  # any write: refused before routing
    assert r.status_code in (401, 403, 405)
    assert r.status_code != 500


def test_revoked_tokens_stop_working(coordinator, client):
    from anagen.accounts.services import token_create, token_revoke

    token, raw = token_create(email=coordinator.email)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    token_revoke(token=token)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_only_a_hash_of_the_token_is_stored(coordinator):
    from anagen.accounts.models import ApiToken
    from anagen.accounts.services import token_create

    _, raw = token_create(email=coordinator.email)
    stored = ApiToken.objects.get()
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
