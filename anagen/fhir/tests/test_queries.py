"""A bulk export reads a chunk of patients in a fixed number of queries, however many patients
and records the chunk holds (no query per record)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anagen.fhir import selectors

pytestmark = pytest.mark.django_db


def _queries(patients) -> int:
    opts = selectors.export_options(deidentified=False)
    with CaptureQueriesContext(connection) as ctx:
        resources = list(selectors.export_resources(patients, opts))
    assert resources
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_patients_or_records(patient, record, clinic, coordinator, clinician):
    from anagen.assessments.models import Measurement
    from anagen.assessments.services import visit_create
    from anagen.patients.services import patient_register

    one = _queries([patient])
    more = [patient]
    for i in range(3):
        p = patient_register(actor=coordinator, clinic=clinic, first_name=f"Extra{i}", last_name="Patient",
                             date_of_birth=date(1990, 1, 1 + i))
        for weeks in (0, 12):
            v = visit_create(actor=clinician, patient=p, visit_date=timezone.localdate() - timedelta(weeks=20 - weeks))
            Measurement.objects.create(visit=v, hair_count=90 + weeks, field_area_cm2=0.65, terminal_count=80,
                                       vellus_count=10, mean_diameter_um=60.0)
        more.append(p)
    assert _queries(more) == one
