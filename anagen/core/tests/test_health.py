from unittest import mock

import pytest


@pytest.mark.django_db
def test_healthz_reports_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_with_a_reason_for_admin_staff_when_the_database_is_down(client, admin_user):
    from django.db import OperationalError

    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    with mock.patch("anagen.core.views._check_database", side_effect=OperationalError("connection refused")):
        r = client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["database"] == "unreachable"
    assert "connection refused" in body["reason"]


@pytest.mark.django_db
def test_healthz_tells_an_anonymous_caller_no_database_detail(client):
    from django.db import OperationalError

    with mock.patch("anagen.core.views.connection.cursor",
                    side_effect=OperationalError('could not connect to server "db.internal" as user "anagen"')):
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "error"}
    assert b"db.internal" not in r.content


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404(client, settings):
    settings.DEBUG = False
    r = client.get("/no-such-page/")
    assert r.status_code == 404
    assert b"Traceback" not in r.content
    assert b"Not found" in r.content


@pytest.mark.parametrize("persona, shown, hidden", [
    ("coordinator", ["Inbox", "Patients", "Calendar", "Treatments"], ["Samples", "Outcomes", "Admin"]),
    ("clinician", ["Patients", "Calendar", "Lots", "Samples", "Outcomes"], ["Inbox", "Admin"]),
    ("lab_scientist", ["Samples"], ["Patients", "Calendar", "Inbox", "Lots", "Outcomes"]),
    ("statistician", ["Outcomes"], ["Patients", "Calendar", "Samples"]),
    ("evaluator", [], ["Patients", "Calendar", "Samples", "Outcomes", "Inbox"]),
])
def test_the_menu_offers_what_the_role_may_open(persona, shown, hidden, request, login):
    import re

    html = login(request.getfixturevalue(persona)).get("/login/", follow=True).content.decode()
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    links = re.findall(r">([A-Za-z ]+)</a>", nav)
    for label in shown:
        assert label in links
    for label in hidden:
        assert label not in links


@pytest.mark.django_db
def test_migrate_refreshes_sqlite_statistics():
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL keeps its own statistics")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone()[0] == 1
