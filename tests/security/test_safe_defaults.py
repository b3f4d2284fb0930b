"""Each attack of the hardening issue, tried: the test fails if it works.

Production mode is started in a subprocess (settings are read once per process)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from anagen.core.errors import ActionError

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 10 + "Q7w!e9R#t2Y$u5I^o8P&a1S*d4F(g6H)j3K_l0Z+x"  # 50+ characters, many distinct


def _run(code: str, **env) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE: set in this process by the browser tests' live server, never in a deployment.
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("ANAGEN_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update({"DJANGO_SETTINGS_MODULE": "anagen.settings", "ANAGEN_VAR_DIR": str(ROOT / "var"), **env})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)


SETUP = "import django; django.setup(); print('started')"


def test_production_refuses_the_default_secret_key():
    result = _run(SETUP, ANAGEN_ENV="production")
    assert result.returncode != 0
    assert "ANAGEN_SECRET_KEY" in result.stderr
    assert "started" not in result.stdout


def test_each_installation_makes_its_own_key_when_none_is_set(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    first = _run(code, ANAGEN_VAR_DIR=str(tmp_path / "one"))
    again = _run(code, ANAGEN_VAR_DIR=str(tmp_path / "one"))
    other = _run(code, ANAGEN_VAR_DIR=str(tmp_path / "two"))
    key = first.stdout.strip()
    assert first.returncode == 0 and len(key) >= 50
    assert again.stdout.strip() == key  # kept: sessions survive a restart, every process signs alike
    assert other.stdout.strip() != key  # another installation has another key
    from anagen import settings as anagen_settings

    assert key != anagen_settings.DEFAULT_SECRET_KEY
    assert oct((tmp_path / "one" / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_production_refuses_debug():
    result = _run(SETUP, ANAGEN_ENV="production", ANAGEN_SECRET_KEY=STRONG_KEY, ANAGEN_DEBUG="1")
    assert result.returncode != 0
    assert "ANAGEN_DEBUG" in result.stderr


def test_development_still_starts_with_no_configuration():
    result = _run(SETUP)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_check_deploy_passes_in_production_mode_with_no_warning():
    code = ("import django, sys; django.setup(); from django.core.management import call_command; "
            "call_command('check', deploy=True, fail_level='WARNING')")
    result = _run(code, ANAGEN_ENV="production", ANAGEN_SECRET_KEY=STRONG_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_production_sends_hsts_and_secure_cookies():
    code = ("import django, json; django.setup(); from django.test import Client; from django.conf import settings; "
            "r = Client().get('/login/', secure=True); "
            "print(json.dumps({'hsts': r.headers.get('Strict-Transport-Security'), "
            "'csrf_secure': settings.CSRF_COOKIE_SECURE, 'session_secure': settings.SESSION_COOKIE_SECURE, "
            "'redirect': Client().get('/login/').status_code}))")
    result = _run(code, ANAGEN_ENV="production", ANAGEN_SECRET_KEY=STRONG_KEY, ANAGEN_SQLITE_PATH=":memory:")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["hsts"] and "max-age=31536000" in seen["hsts"] and "includeSubDomains" in seen["hsts"]
    assert seen["csrf_secure"] and seen["session_secure"]
    assert seen["redirect"] == 301  # plain HTTP is sent to HTTPS


# --- headers on pages ------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_page_has_a_csp_without_inline_script(client):
    response = client.get("/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp


# Rendered by WeasyPrint into a PDF, never served to a browser as a page.
PRINT_ONLY = {"outcomes/report.html", "analysis/report.html"}


def test_no_template_has_inline_script_or_style():
    offenders = []
    for template in ROOT.joinpath("anagen").rglob("templates/**/*.html"):
        if "/".join(template.parts[-2:]) in PRINT_ONLY:
            continue
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>|<style\b|\sstyle=\"|"
                                 r"\son[a-z]+=\"", text):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0).strip()}")
    assert not offenders, "move these into static files (the CSP blocks them):\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_patient_pages_and_the_api_are_not_stored(login, api_client, coordinator, clinic):
    from anagen.patients.services import patient_register
    import datetime

    patient = patient_register(actor=coordinator, clinic=clinic, first_name="Ann", last_name="Lee",
                               date_of_birth=datetime.date(1980, 1, 1), sex="female")
    page = login(coordinator).get(f"/patients/{patient.pk}/")
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    api = api_client(coordinator).get(f"/api/v1/patients/{patient.pk}")
    assert api.status_code == 200
    assert "no-store" in api.headers["Cache-Control"]


# --- passwords ------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["password1", "short", "12345678901", "birmingham-admin"])
def test_the_staff_service_refuses_a_weak_password(clinic, weak):
    from anagen.accounts.services import staff_create

    with pytest.raises(ActionError) as refused:
        staff_create(email="birmingham-admin@birmingham.test", password=weak, roles=["coordinator"],
                     clinics=[clinic])
    assert refused.value.code == "weak_password"
    assert "stronger password" in refused.value.message


@pytest.mark.django_db
def test_createsuperuser_without_input_refuses_a_weak_password(monkeypatch):
    from django.core.exceptions import ValidationError

    from anagen.accounts.models import User

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "password")
    with pytest.raises((ValidationError, CommandError)):
        call_command("createsuperuser", "--noinput", "--email", "root@example.test", verbosity=0)
    assert not User.objects.filter(email="root@example.test").exists()


@pytest.mark.django_db
def test_password_spraying_from_one_address_is_throttled(clinic, settings):
    from anagen.accounts.services import staff_create

    settings.ANAGEN_LOGIN_FAILURES_PER_ADDRESS = 20
    for i in range(25):
        staff_create(email=f"person{i}@birmingham.test", password="a-good-long-passphrase", roles=["coordinator"],
                     clinics=[clinic])
    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    answers = [sprayer.post("/login/", {"username": f"person{i}@birmingham.test", "password": "Winter2026!"}).status_code
               for i in range(25)]
    assert answers[:20] == [200] * 20  # the login form again, with its error
    assert set(answers[20:]) == {429}
    # ... even with the right password for a fresh account: the address is paused.
    right = sprayer.post("/login/", {"username": "person24@birmingham.test", "password": "a-good-long-passphrase"})
    assert right.status_code == 429
    assert b"paused" in right.content
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.7").post(
        "/login/", {"username": "person24@birmingham.test", "password": "a-good-long-passphrase"})
    assert other.status_code == 302


# --- API tokens -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_expired_token_is_refused_with_a_message(admin_user):
    from anagen.accounts.models import ApiToken
    from anagen.accounts.services import token_create

    token, raw = token_create(email=admin_user.email)
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


@pytest.mark.django_db
def test_token_create_command_takes_days(admin_user, capsys):
    from anagen.accounts.models import ApiToken

    call_command("token", "create", "--user", admin_user.email, "--days", "7")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("ana_")
    token = ApiToken.objects.get(user=admin_user)
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    with pytest.raises(CommandError, match="1 to 3660 days"):
        call_command("token", "create", "--user", admin_user.email, "--days", "0")
