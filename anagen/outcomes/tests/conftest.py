import pytest

from . import factories as f


@pytest.fixture
def treated_patient(coordinator, clinician):
    """Maya Patel, Norwood IV: baseline 80 hairs in 0.65 cm², exosomes twice, follow-ups at weeks 12 and 23."""
    p = f.make_patient(coordinator=coordinator, clinician=clinician)
    f.measure(clinician=clinician, patient=p, on=f.day(days=-3), hair_count=80, baseline=True, diameter=55.0)
    first = f.treat(clinician=clinician, patient=p, on=f.day(0))
    f.treat(clinician=clinician, patient=p, on=f.day(4))
    f.adverse_event(clinician=clinician, patient=p, procedure=first, on=f.day(days=1))
    f.measure(clinician=clinician, patient=p, on=f.day(4 + 12), hair_count=92, weeks=12, diameter=58.0,
              investigator_global=1, patient_global=2)
    f.measure(clinician=clinician, patient=p, on=f.day(4 + 23), hair_count=99, weeks=23, diameter=61.5,
              investigator_global=2, patient_global=2)
    return p


@pytest.fixture(autouse=True)
def _every_cell_shown(settings):
    """These tests check the arithmetic on a handful of patients: show every cell. The
    suppression of small cells (ANAGEN_OUTCOMES_MIN_CELL, default 5) has its own tests in
    tests/security/test_least_privilege.py."""
    settings.ANAGEN_OUTCOMES_MIN_CELL = 1
