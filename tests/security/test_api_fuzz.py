"""A bounded, derandomized fuzz of the whole OpenAPI document (schemathesis + hypothesis).

Every operation gets generated path, query and body values, sent through the Django WSGI
application with an admin's bearer token; no answer may be a 5xx, and every documented answer
must match its schema. Hypothesis runs derandomized (seeded by the test), so a failure repeats;
the operations come from the OpenAPI document, so a new route is fuzzed without editing this file.
"""

from __future__ import annotations

import datetime
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES_PER_OPERATION = int(os.environ.get("ANAGEN_FUZZ_EXAMPLES", "30"))  # 97 operations: up to ~2,900 requests


def _schema():
    from anagen.api.urls import api
    from anagen.wsgi import application

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
    loaded.app = application
    return loaded


SCHEMA = _schema()
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


@pytest.fixture
def bearer(admin_user, clinic, clinic_b, coordinator, settings):
    from anagen.accounts.services import token_create
    from anagen.patients.services import patient_register

    settings.INTAKE_RATE_LIMIT_PER_HOUR = 10**6  # the public form's limit would answer 429 to the fuzzer
    # Something to find: a patient at the admin's clinic (the fuzzer tries small ids often).
    patient_register(actor=coordinator, clinic=clinic, first_name="Fuzz", last_name="Target",
                     date_of_birth=datetime.date(1980, 1, 1), sex="female", email="fuzz@example.test")
    _, raw = token_create(email=admin_user.email)
    # The WSGI handler closes the database connection after each request; Django's test client
    # turns that off so the test's transaction survives, and so must this (PostgreSQL).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield f"Bearer {raw}"
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_input_breaks_the_api(label, bearer):
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    def fuzz(case):
        response = case.call(headers={"Authorization": bearer})
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    fuzz()
