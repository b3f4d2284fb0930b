"""Deterministic demo data, so every page has something to show on first start.

``anagen demo`` (and ``make run`` on an empty database) loads two clinics, Birmingham and
Solihull, with video consultations, one staff member per role plus a second clinician, and
about 220 patients whose last 18 months are replayed as they would have happened: an inquiry
from the public form or a phone call, a consultation (in person or by video, sometimes
cancelled or missed), staging, histories, consents and a candidacy screening; for about a
quarter of them a treatment plan with its sessions (product lots, autologous samples taken
through the lab's chain of custody, a few adverse events) and assessment visits at baseline
and 4, 12, 23, 44 and 58 weeks, each with a synthetic target-area phototrichogram counted by
the image engine. The next few weeks hold booked consultations, sessions and follow-ups.
Two studies: a parallel exosome study still recruiting from the replayed patients
(``studies.py``, ``study_visits.py``), and a completed, locked split-scalp micrograft study of
30 volunteers with a known simulated effect (``split_study.py``).

How history is written
----------------------
Everything goes through the same services the pages use, so the demo exercises the rules (no
double bookings, consent before a procedure, lots in date, custody order) and fills the audit
trail with the staff member who acted. The services refuse to book in the past or to record
what has not happened yet, as they must; the demo therefore *replays* history on a simulated
clock: :class:`SimulatedClock` makes ``django.utils.timezone.now()`` answer the moment being
replayed (and stamps audit entries with it), so a consultation is booked "three days before"
it takes place and completed "after" it. The clock is only ever set to moments before today,
so nothing is written with a time that has not happened; it is restored when the demo ends.
E-mails queued by bookings are sent to Django's in-memory backend while the demo runs.

Determinism: everything is drawn from ``random.Random(seed)`` and dated relative to today, so
the same seed on the same day gives the same patients, numbers, dates and measurements (sample
codes and video meeting links are random by design). Names come from small built-in lists;
phone numbers are in Ofcom's drama range (07700 900000 to 900999) and e-mail addresses end in
``@example.com``.
"""

from anagen.demo.assessments import FIELD_AREA_CM2
from anagen.demo.builder import DemoSummary, demo_digest, load_demo
from anagen.demo.clinics_and_staff import DEMO_PASSWORD, database_is_empty, demo_logins

__all__ = ["DEMO_PASSWORD", "FIELD_AREA_CM2", "DemoSummary", "database_is_empty", "demo_digest", "demo_logins",
           "load_demo"]
