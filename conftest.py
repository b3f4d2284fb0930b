"""Shared test fixtures: two clinics and a persona per role, so permission tests read as sentences.

- ``coordinator`` works at Birmingham (``clinic``); ``coordinator_b`` at Solihull (``clinic_b``).
- ``clinician``, ``lab_scientist``, ``evaluator``, ``statistician`` and ``admin_user`` work at Birmingham.
- ``pharmacist`` is a coordinator at Birmingham who prepares study products (unblinded on a study team).
- ``stranger`` is an active staff account with no role and no clinic.
Every persona's password is ``PASSWORD``.
"""

from __future__ import annotations

import os

import pytest

PASSWORD = "correct-horse-battery-staple"

# Transactional tests flush every table between tests; only that flush may empty the append-only
# audit tables (anagen/audit/db.py).
os.environ.setdefault("ANAGEN_AUDIT_TEST_FLUSH", "1")


SEED_MIGRATIONS = [
    "anagen.treatments.migrations.0002_seed_catalogue",
    "anagen.screening.migrations.0002_seed_rules_v1",
    "anagen.scheduling.migrations.0003_seed_appointment_types",
]


@pytest.fixture(autouse=True)
def _seeded_rows_in_transactional_tests(request):
    """A transactional test (browser, concurrency) starts after an earlier one has flushed every
    table, the rows that data migrations seed included: put the catalogue, the screening rules
    and the appointment types back, as a migrated database has them."""
    mark = request.node.get_closest_marker("django_db")
    if not (mark and mark.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    for path in SEED_MIGRATIONS:
        importlib.import_module(path).seed(apps, None)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache outlives a test's rolled-back transaction, and a later test can get the same
    primary keys: without this, a study's cached results (keyed by pk and a data fingerprint) or a
    rate-limit counter from one test would be found by the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings, tmp_path):
    # Argon2 is deliberately slow; tests use a fast hasher. MEDIA under a temp dir.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Background jobs run inline: no test leaves messages on the checkout's queue (var/tasks.sqlite3).
    settings.ANAGEN_TASKS_EAGER = True


@pytest.fixture
def clinic(db):
    from anagen.accounts.models import Clinic, Room

    c = Clinic.objects.create(name="Birmingham", slug="birmingham", address="1 Colmore Row, Birmingham B3 2BJ",
                              timezone="Europe/London")
    Room.objects.create(clinic=c, name="Consulting 1")
    Room.objects.create(clinic=c, name="Procedure 1", is_procedure_room=True)
    return c


@pytest.fixture
def clinic_b(db):
    from anagen.accounts.models import Clinic, Room

    c = Clinic.objects.create(name="Solihull", slug="solihull", address="10 High St, Solihull B91 3SX",
                              timezone="Europe/London")
    Room.objects.create(clinic=c, name="Consulting A")
    return c


def _staff(email, roles, clinics, **extra):
    from anagen.accounts.services import staff_create

    return staff_create(email=email, password=PASSWORD, roles=roles, clinics=clinics, **extra)


@pytest.fixture
def admin_user(clinic):
    return _staff("admin@birmingham.test", ["admin"], [clinic], first_name="Ada", last_name="Admin")


@pytest.fixture
def coordinator(clinic):
    return _staff("coord@birmingham.test", ["coordinator"], [clinic], first_name="Cora", last_name="Coordinator")


@pytest.fixture
def coordinator_b(clinic_b):
    return _staff("coord@solihull.test", ["coordinator"], [clinic_b], first_name="Cole", last_name="Solihull")


@pytest.fixture
def clinician(clinic):
    return _staff("doctor@birmingham.test", ["clinician"], [clinic], first_name="Clara", last_name="Clinician")


@pytest.fixture
def clinician_b(clinic_b):
    return _staff("doctor@solihull.test", ["clinician"], [clinic_b], first_name="Sam", last_name="Solihull")


@pytest.fixture
def lab_scientist(clinic):
    return _staff("lab@birmingham.test", ["lab_scientist"], [clinic], first_name="Lab", last_name="Scientist")


@pytest.fixture
def evaluator(clinic):
    return _staff("evaluator@birmingham.test", ["evaluator"], [clinic], first_name="Eve", last_name="Evaluator")


@pytest.fixture
def statistician(clinic):
    return _staff("stats@birmingham.test", ["statistician"], [clinic], first_name="Stan", last_name="Statistician")


@pytest.fixture
def pharmacist(clinic):
    """A coordinator who prepares study products: the unblinded member of a study team."""
    return _staff("pharmacy@birmingham.test", ["coordinator"], [clinic], first_name="Phil", last_name="Pharmacist")


@pytest.fixture
def stranger(db):
    from anagen.accounts.models import User

    return User.objects.create_user(email="stranger@nowhere.test", password=PASSWORD)


@pytest.fixture
def login(client, db):
    """``login(user)`` returns the test client logged in as ``user``."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


@pytest.fixture
def api_client(db):
    """``api_client(user)`` returns a test client that sends a bearer token for ``user``."""
    from django.test import Client

    from anagen.accounts.services import token_create

    def _make(user):
        _, raw = token_create(email=user.email)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return _make


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (make test does when one is reachable)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


# --- browser tests -----------------------------------------------------------------------------
CHROMIUM = os.environ.get("ANAGEN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(os.path.dirname(__file__), "test-artifacts")
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def _browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between page actions are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_browser, live_server, request):
    """A fresh browser page on the live server; ``page.shot(name)`` keeps a screenshot as an artifact."""
    context = _browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    folder = os.path.join(ARTIFACTS, "browser", request.node.name)
    os.makedirs(folder, exist_ok=True)
    counter = {"n": 0}

    def shot(name: str) -> str:
        counter["n"] += 1
        path = os.path.join(folder, f"{counter['n']:02d}-{name}.png")
        pg.screenshot(path=path, full_page=True)
        # A full-page capture of a page taller than the window can leave headless Chromium's input
        # routing on the stretched page, and the next click on a lower button is silently lost
        # (the screening form's "Screen"): a real resize and back puts the window right.
        pg.set_viewport_size({"width": VIEWPORT["width"], "height": VIEWPORT["height"] + 1})
        pg.set_viewport_size(VIEWPORT)
        return path

    pg.shot = shot
    yield pg
    context.close()


@pytest.fixture
def browser_login(page):
    def _login(user):
        page.goto("/login/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login
