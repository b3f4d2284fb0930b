"""The demo command prints the showcase patient's full address on every start."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_a_later_start_still_prints_the_showcase_address_on_the_port_in_use(clinic, monkeypatch):
    from anagen.patients.models import Patient

    marcus = Patient.objects.create(clinic=clinic, patient_number="AN-000001", first_name="Marcus",
                                    last_name="Bennett", diagnosis="male_aga")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.delenv("ANAGEN_BASE_URL", raising=False)
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    text = out.getvalue()
    assert "demo data not loaded" in text
    assert f"http://127.0.0.1:8123/patients/{marcus.pk}/" in text


def test_without_a_showcase_patient_nothing_is_promised(clinic):
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "/patients/" not in out.getvalue()
