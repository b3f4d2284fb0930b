"""Who may use each route, as data (see test_access_matrix.py).

Personas: each role at the record's clinic ("coordinator"), the same role at the other clinic
("coordinator@other"), "stranger" (an active account with no role) and "anonymous". A row is the
set of personas the route lets in; everyone else must get 401/403/404 or the login page.

- ``record_clinic(*roles)``: those roles at the record's clinic only (the other clinic gets 404).
- ``any_clinic(*roles)``: those roles at either clinic (a list, a form or a catalogue: each sees
  its own clinics' records).
- ``allow(*personas)``: exactly these personas.

Clinical photographs (image files, overlays, global photographs) are not for coordinators
(``ANAGEN_COORDINATORS_SEE_PHOTOS`` is off). A study's own pages and routes are for its team
members, and no persona here is on a study team, so they read NOBODY.
"""

from __future__ import annotations

ROLES = ("admin", "coordinator", "clinician", "lab_scientist", "evaluator", "statistician")
PERSONAS = frozenset((*ROLES, *(f"{r}@other" for r in ROLES), "stranger", "anonymous"))
EVERYONE = PERSONAS
SIGNED_IN = PERSONAS - {"anonymous"}
NOBODY: frozenset[str] = frozenset()


def allow(*personas: str) -> frozenset[str]:
    unknown = set(personas) - PERSONAS
    assert not unknown, f"unknown personas {unknown}"
    return frozenset(personas)


def record_clinic(*roles: str) -> frozenset[str]:
    return allow(*roles)


def any_clinic(*roles: str) -> frozenset[str]:
    return allow(*roles, *(f"{r}@other" for r in roles))


EXPECTED: dict[str, frozenset[str]] = {
    'page /': EVERYONE,
    'page /healthz': EVERYONE,
    'page /favicon.ico': EVERYONE,
    'page /login/': EVERYONE,
    'page /logout/': NOBODY,  # logging out sends everyone to the login page
    'page /ask/': EVERYONE,
    'page /consultation/': EVERYONE,
    'page /thanks/': EVERYONE,
    'page /privacy/': EVERYONE,
    'page /inbox/': any_clinic('admin', 'coordinator'),
    'page /inbox/<int:pk>/': record_clinic('admin', 'coordinator'),
    'page /inbox/<int:pk>/answer/': record_clinic('admin', 'coordinator'),
    'page /inbox/<int:pk>/close/': record_clinic('admin', 'coordinator'),
    'page /inbox/<int:pk>/convert/': record_clinic('admin', 'coordinator'),
    'page /patients/': any_clinic('admin', 'coordinator', 'clinician'),
    'page /patients/new/': any_clinic('admin', 'coordinator'),
    'page /patients/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /patients/<int:pk>/edit/': record_clinic('admin', 'coordinator'),
    'page /patients/<int:pk>/diagnosis/': record_clinic('clinician'),
    'page /patients/<int:pk>/staging/new/': record_clinic('clinician'),
    'page /patients/<int:pk>/medical-history/': record_clinic('clinician'),
    'page /patients/<int:pk>/hair-loss-history/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /patients/<int:pk>/prior-treatments/new/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /patients/<int:pk>/prior-treatments/<int:treatment_pk>/remove/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /patients/<int:pk>/consents/new/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /patients/<int:pk>/consents/<int:consent_pk>/withdraw/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /screening/patients/<int:patient_pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /screening/patients/<int:patient_pk>/new': record_clinic('clinician'),
    'page /screening/runs/<uuid:run_id>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /screening/rules/': any_clinic('admin', 'clinician'),
    'page /screening/rules/edit': any_clinic('admin'),
    'page /screening/rules/v<int:version>/': any_clinic('admin', 'clinician'),
    'page /calendar/': any_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/clinicians/<int:clinician_pk>/': any_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/book/': any_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/availability/': any_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/appointments/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/appointments/<int:pk>/ics': record_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/appointments/<int:pk>/reschedule': record_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/appointments/<int:pk>/move': record_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/appointments/<int:pk>/cancel': record_clinic('admin', 'coordinator'),
    'page /calendar/appointments/<int:pk>/no-show': record_clinic('admin', 'coordinator', 'clinician'),
    'page /calendar/appointments/<int:pk>/complete': record_clinic('admin', 'coordinator', 'clinician'),
    'page /treatments/': any_clinic('admin', 'coordinator', 'clinician', 'lab_scientist'),
    'page /treatments/plans/new/<int:patient_pk>/': record_clinic('clinician'),
    'page /treatments/plans/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /treatments/plans/<int:pk>/revise/': record_clinic('clinician'),
    'page /treatments/proposals/<int:pk>/confirm/': record_clinic('admin', 'coordinator'),
    'page /treatments/procedures/new/<int:patient_pk>/': record_clinic('clinician'),
    'page /treatments/procedures/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /treatments/adverse-events/new/<int:patient_pk>/': record_clinic('clinician'),
    'page /treatments/adverse-events/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /treatments/lots/': any_clinic('admin', 'clinician'),
    'page /treatments/lots/<int:pk>/': record_clinic('admin', 'clinician'),
    'page /treatments/recall/': any_clinic('admin', 'coordinator', 'clinician'),
    'page /treatments/samples/': any_clinic('admin', 'clinician', 'lab_scientist'),
    'page /treatments/samples/new/<int:patient_pk>/': record_clinic('clinician'),
    'page /treatments/samples/<int:pk>/': record_clinic('admin', 'clinician', 'lab_scientist'),
    'page /treatments/samples/<int:pk>/label/': record_clinic('admin', 'clinician', 'lab_scientist'),
    'page /assessments/patients/<int:patient_id>/visits/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /assessments/visits/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /assessments/visits/<int:pk>/assessment': record_clinic('clinician'),
    'page /assessments/visits/<int:pk>/photos': record_clinic('clinician'),
    'page /assessments/visits/<int:pk>/images': record_clinic('clinician'),
    'page /assessments/visits/<int:pk>/exclusion': record_clinic('clinician'),
    'page /assessments/images/<int:pk>/': record_clinic('admin', 'clinician'),
    'page /assessments/images/<int:pk>/status.json': record_clinic('admin', 'clinician'),
    'page /assessments/images/<int:pk>/file': record_clinic('admin', 'clinician'),
    'page /assessments/images/<int:pk>/overlay.png': record_clinic('admin', 'clinician'),
    'page /assessments/images/<int:pk>/corrections': record_clinic('clinician'),
    'page /assessments/images/<int:pk>/retry': record_clinic('clinician'),
    'page /assessments/images/<int:pk>/void': record_clinic('clinician'),
    'page /assessments/images/<int:pk>/reanalyse': record_clinic('clinician'),
    'page /assessments/photos/<int:pk>/file': record_clinic('admin', 'clinician'),
    'page /assessments/images/<int:pk>/reference': record_clinic('clinician'),
    'page /assessments/devices/': any_clinic('admin', 'clinician'),  # each sees its own clinics' devices
    'page /assessments/devices/<int:pk>/validation/': record_clinic('admin', 'clinician'),
    'page /assessments/devices/<int:pk>/adjustments': record_clinic('admin', 'clinician'),
    'page /assessments/adjustments/<int:pk>/activation': record_clinic('admin', 'clinician'),
    'page /outcomes/': any_clinic('admin', 'clinician', 'statistician'),
    'page /outcomes/outcomes.csv': any_clinic('admin', 'clinician', 'statistician'),
    'page /outcomes/patients/<int:pk>/': record_clinic('admin', 'coordinator', 'clinician'),
    'page /outcomes/patients/<int:pk>/report.pdf': record_clinic('admin', 'coordinator', 'clinician'),
    'page /studies/': any_clinic('admin', 'coordinator', 'clinician', 'evaluator', 'statistician'),
    'page /studies/new': any_clinic('admin', 'statistician'),
    'page /studies/reading/': any_clinic('evaluator'),
    'page /studies/<int:pk>/': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/edit': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/sign': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/amend': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/team': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/versions/<int:number>/': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/subjects/': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/subjects/<int:subject_pk>/': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/subjects/<int:subject_pk>/randomize': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/subjects/<int:subject_pk>/end': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/subjects/<int:subject_pk>/code-break': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/enrol/<int:patient_pk>': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/dashboard': NOBODY,  # study team members only; no persona here is on the team
    'page /studies/<int:pk>/balance': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/me': SIGNED_IN,
    'GET /api/v1/clinics': SIGNED_IN,
    'GET /api/v1/staff': any_clinic('admin', 'coordinator', 'clinician', 'statistician'),
    'POST /api/v1/inquiries': EVERYONE,
    'GET /api/v1/inquiries/self-check/questions': EVERYONE,
    'POST /api/v1/inquiries/self-check': EVERYONE,
    'GET /api/v1/inquiries': any_clinic('admin', 'coordinator'),
    'GET /api/v1/inquiries/{inquiry_id}': record_clinic('admin', 'coordinator'),
    'POST /api/v1/inquiries/{inquiry_id}/answer': record_clinic('admin', 'coordinator'),
    'POST /api/v1/inquiries/{inquiry_id}/close': record_clinic('admin', 'coordinator'),
    'POST /api/v1/inquiries/{inquiry_id}/convert': record_clinic('admin', 'coordinator'),
    'GET /api/v1/patients': any_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/patients': record_clinic('admin', 'coordinator'),
    'GET /api/v1/patients/{patient_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'PATCH /api/v1/patients/{patient_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/patients/{patient_id}/consents': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/patients/{patient_id}/consents': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/patients/{patient_id}/consents/{consent_id}/withdraw': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/patients/{patient_id}/stagings': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/patients/{patient_id}/stagings': record_clinic('clinician'),
    'POST /api/v1/screenings': record_clinic('clinician'),
    'GET /api/v1/screenings': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/screenings/rules': any_clinic('admin', 'clinician'),
    'PUT /api/v1/screenings/rules': any_clinic('admin'),
    'GET /api/v1/appointments': any_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/appointments': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/appointments/availability': any_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/appointments/free-slots': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/appointments/{appointment_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/appointments/{appointment_id}/reschedule': record_clinic('admin', 'coordinator'),
    'POST /api/v1/appointments/{appointment_id}/cancel': record_clinic('admin', 'coordinator'),
    'POST /api/v1/appointments/{appointment_id}/no-show': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/appointments/{appointment_id}/complete': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/appointments/{appointment_id}/ics': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/treatments/catalogue': any_clinic('admin', 'coordinator', 'clinician', 'lab_scientist'),
    'GET /api/v1/treatments/catalogue/{code}': any_clinic('admin', 'coordinator', 'clinician', 'lab_scientist'),
    'PATCH /api/v1/treatments/catalogue/{code}': any_clinic('admin'),
    'GET /api/v1/treatments/plans': any_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/treatments/plans': record_clinic('clinician'),
    'GET /api/v1/treatments/plans/{plan_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/treatments/plans/{plan_id}/changes': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/treatments/plans/{plan_id}/changes': record_clinic('clinician'),
    'GET /api/v1/treatments/plans/{plan_id}/proposals': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/treatments/proposals/{proposal_id}/confirm': record_clinic('admin', 'coordinator'),
    'GET /api/v1/treatments/products': any_clinic('admin', 'clinician'),
    'POST /api/v1/treatments/products': any_clinic('admin', 'clinician'),
    'GET /api/v1/treatments/lots': any_clinic('admin', 'clinician'),
    'POST /api/v1/treatments/lots': record_clinic('admin', 'clinician'),
    'GET /api/v1/treatments/lots/{lot_id}': record_clinic('admin', 'clinician'),
    'POST /api/v1/treatments/lots/{lot_id}/recall': record_clinic('admin', 'clinician'),
    'GET /api/v1/treatments/recall': any_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/treatments/procedures': any_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/treatments/procedures': record_clinic('clinician'),
    'GET /api/v1/treatments/procedures/{procedure_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/treatments/adverse-events': any_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/treatments/adverse-events': record_clinic('clinician'),
    'GET /api/v1/treatments/adverse-events/{event_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'PATCH /api/v1/treatments/adverse-events/{event_id}': record_clinic('clinician'),
    'GET /api/v1/treatments/samples': any_clinic('admin', 'clinician', 'lab_scientist'),
    'POST /api/v1/treatments/samples': record_clinic('clinician'),
    'GET /api/v1/treatments/samples/{sample_id}': record_clinic('admin', 'clinician', 'lab_scientist'),
    'GET /api/v1/treatments/samples/{sample_id}/custody': record_clinic('admin', 'clinician', 'lab_scientist'),
    'POST /api/v1/treatments/samples/{sample_id}/custody': record_clinic('clinician', 'lab_scientist'),
    'GET /api/v1/assessments/visits': record_clinic('admin', 'coordinator', 'clinician'),
    'POST /api/v1/assessments/visits': record_clinic('clinician'),
    'GET /api/v1/assessments/visits/{visit_id}': record_clinic('admin', 'coordinator', 'clinician'),
    'PATCH /api/v1/assessments/visits/{visit_id}': record_clinic('clinician'),
    'POST /api/v1/assessments/visits/{visit_id}/photos': record_clinic('clinician'),
    'POST /api/v1/assessments/visits/{visit_id}/images': record_clinic('clinician'),
    'GET /api/v1/assessments/images/{image_id}': record_clinic('admin', 'clinician'),
    'GET /api/v1/assessments/images/{image_id}/file': record_clinic('admin', 'clinician'),
    'GET /api/v1/assessments/images/{image_id}/overlay.png': record_clinic('admin', 'clinician'),
    'POST /api/v1/assessments/images/{image_id}/corrections': record_clinic('clinician'),
    'GET /api/v1/assessments/photos/{photo_id}/file': record_clinic('admin', 'clinician'),
    'GET /api/v1/assessments/patients/{patient_id}/measurements': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/assessments/devices/{device_id}/validation': record_clinic('admin', 'clinician'),
    'GET /api/v1/outcomes/patients/{patient_id}/timeline': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/outcomes/patients/{patient_id}/measurements': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/outcomes/table': any_clinic('admin', 'clinician', 'statistician'),
    'GET /api/v1/studies': any_clinic('admin', 'coordinator', 'clinician', 'evaluator', 'statistician'),
    'POST /api/v1/studies': any_clinic('admin', 'statistician'),
    'GET /api/v1/studies/{study_id}': NOBODY,  # study team members only; no persona here is on the team
    'PATCH /api/v1/studies/{study_id}': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/signatures': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/amendments': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/studies/{study_id}/versions/{number}': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/studies/{study_id}/members': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/members': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/studies/{study_id}/subjects': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/subjects': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/studies/{study_id}/subjects/{subject_id}': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/studies/{study_id}/eligibility/{patient_id}': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/screen-failures': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/randomization': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/end': NOBODY,  # study team members only; no persona here is on the team
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/code-break': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/studies/{study_id}/enrolment': NOBODY,  # study team members only; no persona here is on the team
    'GET /api/v1/fhir/Patient/{patient_id}/$everything': record_clinic('admin', 'coordinator', 'clinician'),
    'GET /api/v1/fhir/$export': any_clinic('admin', 'clinician', 'statistician'),
    'GET /api/v1/fhir/$export/{rtype}.ndjson': any_clinic('admin', 'clinician', 'statistician'),
    # The asynchronous export's status and files are the requester's alone (see
    # anagen/fhir/tests/test_bulk_async.py); the matrix's key is nobody's.
    'GET /api/v1/fhir/$export-status/{key}': NOBODY,
    'DELETE /api/v1/fhir/$export-status/{key}': NOBODY,
    'GET /api/v1/fhir/$export-status/{key}/{rtype}.ndjson': NOBODY,


    # Routes added with visit windows and deviations, blinded reading, data quality and results,
    # hair matching, before and after, the self-check, the time grid and background jobs.
    'page /self-check/': EVERYONE,  # the public "Am I a candidate?" questions
    'page /calendar/grid/': any_clinic('admin', 'coordinator', 'clinician'),  # each sees their own clinic's grid
    'page /calendar/patients.json': any_clinic('admin', 'coordinator', 'clinician'),  # scoped to the caller's clinic
    'page /assessments/patients/<int:patient_id>/compare/': record_clinic('admin', 'clinician'),  # photographs
    'page /assessments/images/<int:pk>/match': record_clinic('admin', 'clinician'),
    'page /jobs/': any_clinic('admin'),
    # A document made in the background is its requester's alone (owner-only: see
    # anagen/outcomes/tests/test_report_background.py); the matrix's key is nobody's.
    'page /jobs/documents/<uuid:key>/': NOBODY,
    'page /jobs/documents/<uuid:key>/download': NOBODY,
    'page /outcomes/patients/<int:pk>/report/prepare': record_clinic('admin', 'coordinator', 'clinician'),  # POST
    'GET /api/v1/assessments/images/{image_id}/match': NOBODY,  # the matrix's image has no baseline match: 404
    'POST /api/v1/assessments/images/{image_id}/match': NOBODY,
    'GET /api/v1/outcomes/patients/{patient_id}/report.pdf': record_clinic('admin', 'coordinator', 'clinician'),
    # Study routes: only members of the study's team, and no matrix persona is on one (team
    # roles are tested in anagen/studies/tests: the blinding crawls and the page tests).
    'page /studies/<int:pk>/deviations/': NOBODY,
    'page /studies/<int:pk>/subjects/<int:subject_pk>/deviations': NOBODY,
    'page /studies/reading/<str:code>/': NOBODY,
    'page /studies/reading/<str:code>/sign': NOBODY,
    'page /studies/reading/<str:code>/image.png': NOBODY,
    'page /studies/reading/<str:code>/overlay.png': NOBODY,
    'page /studies/reading/<str:code>/adjudicate': NOBODY,
    'page /studies/<int:pk>/agreement': NOBODY,
    'page /studies/<int:pk>/reading/code': NOBODY,
    'page /studies/<int:pk>/quality': NOBODY,
    'page /studies/<int:pk>/results/': NOBODY,
    'page /studies/<int:pk>/results/report.pdf': NOBODY,
    'page /studies/<int:pk>/results/report/prepare': NOBODY,
    'page /studies/<int:pk>/close-recruitment': NOBODY,
    'page /studies/<int:pk>/results/consort.svg': NOBODY,
    'page /studies/<int:pk>/results/consort.png': NOBODY,
    'page /studies/<int:pk>/results/dataset.csv': NOBODY,
    'page /studies/<int:pk>/results/dictionary.csv': NOBODY,
    'page /studies/<int:pk>/results/odm.xml': NOBODY,
    'page /studies/<int:pk>/exports': NOBODY,
    'page /studies/<int:pk>/sample-size': NOBODY,
    'page /studies/<int:pk>/results/baseline.csv': NOBODY,
    'page /studies/<int:pk>/results/effects.csv': NOBODY,
    'page /studies/<int:pk>/results/change.csv': NOBODY,
    'page /studies/<int:pk>/results/adverse-events.csv': NOBODY,
    'page /studies/<int:pk>/results/listing.csv': NOBODY,
    # Treatment and placebo delivery (issue item 5): team members only (preparer, injector).
    'page /studies/<int:pk>/lots': NOBODY,
    'page /studies/<int:pk>/subjects/<int:subject_pk>/treatment': NOBODY,
    'page /studies/<int:pk>/subjects/<int:subject_pk>/treatment/prepare': NOBODY,
    'page /studies/<int:pk>/subjects/<int:subject_pk>/treatment/inject': NOBODY,
    'page /studies/<int:pk>/subjects/<int:subject_pk>/treatment/discard': NOBODY,
    'page /studies/<int:pk>/subjects/<int:subject_pk>/treatment/refill': NOBODY,
    'GET /api/v1/studies/{study_id}/subjects/{subject_id}/treatment': NOBODY,
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/treatment/preparations': NOBODY,
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/treatment/injections': NOBODY,
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/treatment/discards': NOBODY,
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/treatment/refills': NOBODY,
    'GET /api/v1/studies/{study_id}/lots': NOBODY,
    'POST /api/v1/studies/{study_id}/lots': NOBODY,
    'GET /api/v1/studies/{study_id}/deviations': NOBODY,
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/deviations': NOBODY,
    'GET /api/v1/studies/{study_id}/subjects/{subject_id}/visits': NOBODY,
    'GET /api/v1/studies/reading/queue': any_clinic('evaluator'),  # their own queue (empty: on no team)
    'GET /api/v1/studies/reading/{code}': NOBODY,
    'GET /api/v1/studies/reading/{code}/image.png': NOBODY,
    'PUT /api/v1/studies/reading/{code}/reading': NOBODY,
    'POST /api/v1/studies/reading/{code}/reading/signature': NOBODY,
    'POST /api/v1/studies/reading/{code}/adjudication': NOBODY,
    'GET /api/v1/studies/{study_id}/agreement': NOBODY,
    'POST /api/v1/studies/{study_id}/reading/coding': NOBODY,
    'GET /api/v1/studies/{study_id}/queries': NOBODY,
    'POST /api/v1/studies/{study_id}/queries': NOBODY,
    'POST /api/v1/studies/{study_id}/queries/{query_id}/answer': NOBODY,
    'POST /api/v1/studies/{study_id}/queries/{query_id}/close': NOBODY,
    'GET /api/v1/studies/{study_id}/verifications': NOBODY,
    'POST /api/v1/studies/{study_id}/verifications': NOBODY,
    'GET /api/v1/studies/{study_id}/lock': NOBODY,
    'POST /api/v1/studies/{study_id}/lock': NOBODY,
    'POST /api/v1/studies/{study_id}/unlock': NOBODY,
    'POST /api/v1/studies/{study_id}/unblinding': NOBODY,
    'POST /api/v1/studies/{study_id}/subjects/{subject_id}/side-values': NOBODY,
    'GET /api/v1/studies/{study_id}/results': NOBODY,
    'GET /api/v1/studies/{study_id}/dataset.csv': NOBODY,
    'GET /api/v1/studies/{study_id}/dictionary.csv': NOBODY,
    'GET /api/v1/studies/{study_id}/odm.xml': NOBODY,
    'POST /api/v1/studies/{study_id}/sample-size': NOBODY,
    'page /studies/<int:pk>/deviations/<int:deviation_pk>/close': NOBODY,
}
