"""The history reads like the page: names, labels, the clinic's time, formatted values."""

from __future__ import annotations

from datetime import date

import pytest

from anagen.audit.selectors import record_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(clinic, coordinator, clinician):
    from anagen.assessments.services import visit_create
    from anagen.patients.services import patient_register

    clinic.timezone = "America/New_York"
    clinic.save()
    patient = patient_register(actor=coordinator, clinic=clinic, first_name="Harriet", last_name="Hale",
                               date_of_birth=date(1980, 3, 4))
    return visit_create(actor=clinician, patient=patient, visit_date=date(2025, 1, 10), is_baseline=True)


def test_entries_show_names_labels_choices_and_dates_not_ids(visit, clinician):
    from anagen.assessments.services import visit_update

    visit_update(actor=clinician, visit=visit, investigator_global=2)
    updated, created = record_history(visit)[:2]
    assert ("Investigator global", "—", "+2 moderately improved") in updated.rows
    labels = {label: new for label, _, new in created.rows}
    assert labels["Performed by"] == str(clinician)          # a name, not "1"
    # A patient by their number only: lab and blinded staff read histories too.
    assert labels["Patient"] == visit.patient.patient_number
    assert labels["Visit date"] == "10/01/2025"
    assert labels["Is baseline"] == "yes"
    # Keys and bookkeeping stay out of the readable rows, but the stored entry keeps them.
    assert not {"Id", "Created at", "Updated at"} & set(labels)
    assert "performed_by" in created.changes


def test_times_are_the_clinics_local_time(visit):
    entry = record_history(visit)[0]
    assert entry.local_when.endswith(("EST", "EDT"))
    local_hour = entry.when.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).strftime("%H:%M")
    assert local_hour in entry.local_when


def test_the_page_shows_readable_rows_and_keeps_the_stored_entry_behind_a_toggle(visit, clinician, login):
    html = login(clinician).get(f"/assessments/visits/{visit.pk}/").content.decode()
    history = html[html.index('id="history-heading"'):]
    assert "<b>Performed by</b>: Clara Clinician" in history
    assert "<summary>Stored entry</summary>" in history and "<code>performed_by</code>" in history
    assert "<b>performed_by</b>" not in history


def test_one_to_one_links_and_units_read_well(analysed_image):
    created = record_history(analysed_image.analysis)[-1]
    labels = {label: new for label, _, new in created.rows}
    assert labels["Image"] == "trichogram image #%d" % analysed_image.pk
    assert "Vellus threshold (µm)" in labels and "Corrections" not in labels


@pytest.fixture
def analysed_image(visit, clinician, settings):
    from anagen.assessments.models import DeviceProfile
    from anagen.assessments.services import trichogram_image_upload
    from anagen.assessments.tests.conftest import png_bytes, upload
    from anagen.trichoscopy.synthetic import generate_scalp

    settings.ANAGEN_TASKS_EAGER = True
    DeviceProfile.objects.create(clinic=visit.clinic, name="Dermoscope", px_per_mm=100.0, is_default=True)
    png = png_bytes(generate_scalp(seed=7, n_hairs=4, px_per_mm=100.0, shape=(120, 160), crossings=0,
                                   parallel_pairs=0).image)
    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(png))
    return image
