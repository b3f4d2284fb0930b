"""Simultaneous randomizations against PostgreSQL: N threads, N distinct slots.

Each thread has its own connection and randomizes a different subject of the same study behind a
barrier; the service locks the study row, so they queue and each gets the next slot.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from anagen.studies import services
from anagen.studies.models import Allocation
from anagen.studies.randomization import subject_randomize

THREADS = 8

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_randomizations_take_distinct_consecutive_slots(recruiting_study, clinician, clinic, make_patient):
    subjects = [services.subject_enrol(actor=clinician, study=recruiting_study, patient=make_patient(clinic))
                for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    won, failed = [], []

    def run(subject):
        try:
            barrier.wait(timeout=10)
            won.append(subject_randomize(actor=clinician, subject=subject))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            failed.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(s,)) for s in subjects]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failed == []
    slots = sorted(Allocation.objects.filter(study=recruiting_study).values_list("sequence_number", flat=True))
    assert slots == list(range(THREADS))
    assert len({a.subject_id for a in won}) == THREADS


def test_randomizing_one_subject_twice_at_once_gives_one_slot(recruiting_study, clinician, clinic, make_patient):
    subject = services.subject_enrol(actor=clinician, study=recruiting_study, patient=make_patient(clinic))
    barrier = threading.Barrier(4)
    outcomes = []

    def run():
        try:
            barrier.wait(timeout=10)
            outcomes.append(subject_randomize(actor=clinician, subject=subject))
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(isinstance(o, Allocation) for o in outcomes) == 1
    assert all("already randomized" in str(getattr(o, "message", "")) for o in outcomes if not isinstance(o, Allocation))
    assert Allocation.objects.filter(subject=subject).count() == 1
