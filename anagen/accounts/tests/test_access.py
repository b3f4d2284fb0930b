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
