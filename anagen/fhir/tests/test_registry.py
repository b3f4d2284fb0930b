"""The extension point the studies app will use for ResearchStudy and ResearchSubject."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from anagen.fhir import registry, selectors

from .helpers import check_resources

pytestmark = pytest.mark.django_db


def study_resources(patient_ids, opts):
    yield {"resourceType": "ResearchStudy", "id": opts.rid("ResearchStudy", 1), "status": "active",
           "title": "Split-scalp exosome study"}
    for pk in patient_ids:
        yield {"resourceType": "ResearchSubject", "id": opts.rid("ResearchSubject", pk), "status": "on-study",
               "study": opts.ref("ResearchStudy", 1), "individual": opts.ref("Patient", pk)}


def broken(patient_ids, opts):
    yield {"resourceType": "ResearchStudy", "id": "broken"}  # no status: invalid


@pytest.fixture
def provider():
    registry.register(types=("ResearchStudy", "ResearchSubject"), provider=study_resources)
    yield study_resources
    registry.unregister(study_resources)


def test_registered_resources_join_every_export(provider, patient, patient_b):
    assert selectors.resource_types()[-2:] == ("ResearchStudy", "ResearchSubject")
    opts = selectors.export_options(deidentified=True)
    by_type = check_resources(list(selectors.export_resources([patient, patient_b], opts, chunk_size=1)))
    assert len(by_type["ResearchStudy"]) == 1  # shared by both chunks, exported once
    assert len(by_type["ResearchSubject"]) == 2
    only = list(selectors.export_resources([patient], opts, types=["ResearchSubject"]))
    assert [r["resourceType"] for r in only] == ["ResearchSubject"]


def test_an_invalid_resource_stops_a_validated_export_and_writes_nothing(tmp_path, patient):
    registry.register(types=("ResearchStudy",), provider=broken)
    try:
        with pytest.raises(CommandError, match="Export stopped, nothing was written: ResearchStudy/broken"):
            call_command("fhir", "export", "--all", "--out", str(tmp_path / "out"), "--validate", stdout=io.StringIO())
    finally:
        registry.unregister(broken)
    assert list((tmp_path / "out").iterdir()) == []
