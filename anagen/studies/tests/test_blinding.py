"""Blinding: a blinded member of the study team never sees a subject's arm, the side that gets the
active product, or the allocation's sequence position: not on a page, not in the API.

The crawl visits every studies page (each URL pattern of the app) and every studies API route
(from the OpenAPI document), plus the patient page, as each blinded persona, for a parallel and
a split-scalp study with a randomized subject. It fails when a template starts printing the
arm: the negative control below puts such a template in place and checks the crawl catches it.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail
from django.urls import URLPattern

from anagen.studies import blinding, services, urls as study_urls
from anagen.studies.randomization import subject_randomize

from .conftest import sign_off

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["parallel", "split_scalp"])
def randomized(request, team, statistician, clinician, clinic, make_patient):
    if request.param == "split_scalp":
        services.study_update(actor=statistician, study=team, design="split_scalp")
    study = sign_off(team, statistician, clinician)
    subject = services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic))
    allocation = subject_randomize(actor=clinician, subject=subject)
    subject.refresh_from_db()
    return study, subject, allocation


def _pages(study, subject) -> list[str]:
    params = {"pk": study.pk, "subject_pk": subject.pk, "number": 1, "patient_pk": subject.patient_id,
              "deviation_pk": 1, "code": "R7K2-QX9M"}  # a coded image (test_reading_blinding crawls real ones)
    urls = []
    for p in study_urls.urlpatterns:
        assert isinstance(p, URLPattern)
        path = "/studies/" + str(p.pattern)
        for name in p.pattern.converters:
            path = path.replace(f"<int:{name}>", str(params[name])).replace(f"<str:{name}>", str(params[name]))
        urls.append(path)
    return urls + [f"/patients/{subject.patient_id}/"]


def _api_routes(study, subject) -> list[str]:
    from anagen.api.urls import api

    schema = api.get_openapi_schema()
    params = {"study_id": study.pk, "subject_id": subject.pk, "number": 1, "patient_id": subject.patient_id,
              "code": "R7K2-QX9M"}
    out = []
    for path, methods in schema["paths"].items():
        if path.startswith("/api/v1/studies") and "get" in methods:
            out.append(re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path))
    assert len(out) >= 7, out
    return out


_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
# An ODM export names the moment it was made (and its file after it): not a dependence on the arm.
_ODM_STAMP = re.compile(r'(FileOID|CreationDateTime|AsOfDateTime)="[^"]*"')


def _crawl(client, api, study, subject, extra_pages=(), extra_api=(), only=False, skip=None) -> dict[str, tuple[str, str]]:
    out = {}
    for url in [*([] if only else _pages(study, subject)), *extra_pages]:
        if skip and skip(url):
            continue
        r = client.get(url, follow=True)
        assert r.status_code in (200, 403, 404, 405), (url, r.status_code)
        out[url] = (r["Content-Type"], _ODM_STAMP.sub("", _CSRF.sub("", r.content.decode())))
    for url in [*([] if only else _api_routes(study, subject)), *extra_api]:
        if skip and skip(url):
            continue
        r = api.get(url)
        assert r.status_code in (200, 403, 404), (url, r.status_code)
        out[url] = (r["Content-Type"], _ODM_STAMP.sub("", r.content.decode()))
    return out


def leaks(client, api, study, subject, allocation, *, extra_pages=(), extra_api=(), also_swap=None,
          secrets=(), literal_pages=(), literal_api=(), skip=None) -> list[str]:
    """Every place where the crawl sees the assignment, as 'URL: what'.

    Two checks. Counterfactual: every page and API answer is fetched, then the subject's arm is
    swapped (behind the service's back, for the test only) and everything fetched again; a blinded
    view must not change at all, so any dependence on the arm, however printed (an arm code, a
    side letter, a count), shows. Literal: the assignment in words, an arm code, a side or an
    allocation field must not appear. ``skip(url)`` leaves out places the persona may see the
    arms in (the results of a locked study, for its investigators).

    With study product delivered (``also_swap``), the swap also exchanges the lots (and arms) of
    the subject's syringes and procedures, and ``secrets`` (lot numbers, product names) must not
    appear anywhere (except in a URL that searches for one). ``literal_pages`` / ``literal_api``
    (exports that stamp the time or log the access, so differ on every fetch) get the literal
    checks only, fetched after the counterfactual crawl so their access entries do not show in it.
    """
    from anagen.studies.models import Allocation

    arms = {a.code: a.name for a in study.arms.all()}
    codes = ["L", "R"] if study.design == "split_scalp" else list(arms)
    other = next(c for c in codes if c != allocation.arm_code)
    problems = []
    before = _crawl(client, api, study, subject, extra_pages, extra_api, skip=skip)
    Allocation.objects.filter(pk=allocation.pk).update(arm_code=other)
    if also_swap:
        also_swap()
    try:
        after = _crawl(client, api, study, subject, extra_pages, extra_api, skip=skip)
    finally:
        Allocation.objects.filter(pk=allocation.pk).update(arm_code=allocation.arm_code)
        if also_swap:
            also_swap()
    later = _crawl(client, api, study, subject, literal_pages, literal_api, only=True, skip=skip) if (
        literal_pages or literal_api) else {}
    for url, (ctype, text) in {**before, **later}.items():
        if url in after and after[url][1] != text:
            problems.append(f"{url}: changes with the arm")
        for code in (allocation.arm_code, other):
            if blinding.describe(study, code) in text:
                problems.append(f"{url}: the assignment in words")
        if re.search(r"\b(left|right) side\b", text):
            problems.append(f"{url}: a side")
        if re.search(r"Arm (%s)\b" % "|".join(arms), text):
            problems.append(f"{url}: an arm code")
        if ctype.startswith("application/json"):
            keys = set(re.findall(r'"(\w+)":', text))
            for key in ("arm_code", "sequence_number", "stratum", "block_size", "block_index", "index_in_stratum",
                        "arm", "lot", "lot_number", "lot_id"):
                if key in keys:
                    problems.append(f"{url}: JSON key {key}")
        for secret in secrets:
            if secret in text and secret not in url:
                problems.append(f"{url}: {secret}")
    return problems


BLINDED = ["evaluator", "clinician", "statistician"]


@pytest.mark.parametrize("persona", BLINDED)
def test_no_blinded_persona_sees_the_assignment_on_any_page_or_api_route(randomized, persona, request, client,
                                                                          api_client):
    study, subject, allocation = randomized
    user = request.getfixturevalue(persona)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert leaks(client, api_client(user), study, subject, allocation) == []


def test_the_crawl_sees_the_assignment_where_an_unblinded_member_looks(randomized, pharmacist, client, api_client):
    # Positive control: the crawl reaches the places where an assignment is shown.
    study, subject, allocation = randomized
    client.force_login(pharmacist, backend="django.contrib.auth.backends.ModelBackend")
    found = leaks(client, api_client(pharmacist), study, subject, allocation)
    assert any(f"/studies/{study.pk}/subjects/{subject.pk}/" in p for p in found)
    assert any("/api/v1/studies" in p and "arm_code" in p for p in found)


def test_the_crawl_fails_when_a_template_starts_printing_the_arm(randomized, clinician, client, api_client, settings,
                                                                 tmp_path):
    # Negative control: a subject page that prints the allocation, as a careless edit would.
    study, subject, allocation = randomized
    leaky = tmp_path / "studies"
    leaky.mkdir()
    original = (study_urls.__file__.rsplit("/", 1)[0]) + "/templates/studies/subject_list.html"
    with open(original) as f:
        text = f.read()
    (leaky / "subject_list.html").write_text(text.replace("<td>{{ a.label }}</td>",
                                                          "<td>{{ a.label }} Arm {{ s.allocation.arm_code }}</td>"))
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    found = leaks(client, api_client(clinician), study, subject, allocation)
    assert f"/studies/{study.pk}/subjects/: changes with the arm" in found
    assert all(f"/studies/{study.pk}/subjects/" in p for p in found)


def test_blinded_users_see_that_a_subject_was_randomized_but_not_how(randomized, clinician):
    study, subject, allocation = randomized
    view = blinding.assignment_view(clinician, subject)
    assert view.randomized and not view.visible and view.label == "Blinded"
    assert set(view.as_dict()) == {"randomized", "randomized_at", "blinded", "assignment"}


def test_an_emergency_code_break_is_recorded_flagged_and_told_to_the_team(randomized, clinician, evaluator,
                                                                          statistician, pharmacist, client,
                                                                          django_capture_on_commit_callbacks):
    from auditlog.models import LogEntry

    from anagen.studies.models import CodeBreak

    study, subject, allocation = randomized
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    mail.outbox = []
    url = f"/studies/{study.pk}/subjects/{subject.pk}/code-break"
    r = client.post(url, {"code_break-reason": "short"})
    assert r.status_code == 400 and b"at least a sentence" in r.content
    assert not CodeBreak.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(url, {"code_break-reason": "Anaphylaxis after the second session; the emergency team needs the product."})
    assert r.status_code == 302
    cb = CodeBreak.objects.get()
    subject.refresh_from_db()
    assert subject.is_unblinded and cb.broken_by == clinician
    entry = LogEntry.objects.get_for_object(cb).get()
    assert entry.actor == clinician and "Anaphylaxis" in entry.changes_dict["reason"][1]
    # The breaking clinician now sees this subject's assignment; the other blinded members do not.
    assert blinding.assignment_view(clinician, subject).visible
    assert not blinding.assignment_view(evaluator, subject).visible
    assert not blinding.assignment_view(statistician, subject).visible
    (message,) = mail.outbox
    assert set(message.to) >= {clinician.email, evaluator.email, statistician.email, pharmacist.email}
    assert subject.code in message.subject
    assigned = blinding.describe(study, allocation.arm_code)
    for arm in study.arms.all():
        assert arm.name not in message.body
    assert assigned not in message.body and "side" not in message.body


def test_only_an_investigator_who_is_a_clinician_breaks_the_code(randomized, evaluator, pharmacist, statistician):
    from django.core.exceptions import PermissionDenied

    study, subject, _ = randomized
    for person in (evaluator, pharmacist, statistician):
        with pytest.raises(PermissionDenied):
            services.code_break(actor=person, subject=subject, reason="An emergency that needs the product.")


def test_the_api_answers_blinded_and_unblinded_members_differently(randomized, statistician, pharmacist, api_client):
    study, subject, allocation = randomized
    url = f"/api/v1/studies/{study.pk}/subjects/{subject.pk}"
    blind = api_client(statistician).get(url).json()["randomization"]
    assert blind == {"randomized": True, "randomized_at": blind["randomized_at"], "blinded": True,
                     "assignment": "Blinded"}
    seen = api_client(pharmacist).get(url).json()["randomization"]
    assert seen["arm_code"] == allocation.arm_code and seen["blinded"] is False
    assert json.dumps(seen).count(allocation.arm_code) >= 1


@pytest.mark.parametrize("persona", ["stranger", "clinician_b", "lab_scientist"])
def test_every_studies_page_and_route_refuses_people_off_the_team(randomized, persona, request, client, api_client):
    study, subject, _ = randomized
    user = request.getfixturevalue(persona)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    api = api_client(user)
    for url in _pages(study, subject)[:-1]:  # the patient page has its own rules
        r = client.get(url)
        if f"/studies/{study.pk}/" in url:
            assert r.status_code in (403, 404, 405), url
        else:  # the list, new-study and reading pages: allowed or not, never this study
            assert r.status_code in (200, 403, 404) and study.title.encode() not in r.content, url
    for url in _api_routes(study, subject):
        if url.rstrip("/").endswith("/studies"):
            assert api.get(url).json() in ([], {"detail": "Your role does not allow studies.", "code": "forbidden"})
        else:
            assert api.get(url).status_code in (403, 404), url


def test_evaluators_see_no_subject_records(randomized, evaluator, client, api_client):
    study, subject, _ = randomized
    client.force_login(evaluator, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/studies/{study.pk}/subjects/").status_code == 403
    assert client.get(f"/studies/{study.pk}/subjects/{subject.pk}/").status_code == 403
    assert api_client(evaluator).get(f"/api/v1/studies/{study.pk}/subjects").status_code == 403


# --- study product (issue item 5): the lots that tell the arm ---------------------------------------

@pytest.fixture
def delivered(randomized, pharmacist, clinician, admin_user, clinic):
    """``randomized`` with study lots set aside, the syringes prepared and every one given."""
    from . import delivery_fixtures as fx

    study, subject, allocation = randomized
    fx.treatment_consent(subject.patient, clinician)
    lots = fx.study_lots(study, pharmacist=pharmacist, receiver=admin_user, clinic=clinic)
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    procedures = fx.inject_all(subject, injector=clinician)
    return study, subject, allocation, lots, procedures


def _product_places(subject, lots, procedures) -> tuple[list[str], list[str]]:
    """The clinic's own pages and API routes where a procedure's product or a lot can show."""
    from .delivery_fixtures import ACTIVE_LOT, PLACEBO_LOT

    pid = subject.patient_id
    pages = [*(f"/treatments/procedures/{p.pk}/" for p in procedures), "/treatments/lots/",
             *(f"/treatments/lots/{lot.pk}/" for lot in lots.values()),
             *(f"/treatments/recall/?lot={n}" for n in (ACTIVE_LOT, PLACEBO_LOT)),
             f"/treatments/procedures/new/{pid}/"]
    api = [f"/api/v1/treatments/procedures?patient_id={pid}", *(f"/api/v1/treatments/procedures/{p.pk}" for p in procedures),
           "/api/v1/treatments/lots", *(f"/api/v1/treatments/lots/{lot.pk}" for lot in lots.values()),
           *(f"/api/v1/treatments/recall?lot_number={n}" for n in (ACTIVE_LOT, PLACEBO_LOT))]
    # Exports and the timeline: stamped with the time and logged as accesses (literal checks only).
    exports = ([f"/outcomes/patients/{pid}/"],
               [f"/api/v1/fhir/Patient/{pid}/$everything", f"/api/v1/outcomes/patients/{pid}/timeline"])
    return pages, api, exports


def _product_swapper(study, subject, lots):
    """Exchange the active and placebo lots (and arms) of the subject's syringes and procedures."""
    from anagen.studies.models import Syringe
    from anagen.treatments.models import ProductUse

    arms = {a.is_placebo: a for a in study.arms.all()}

    def swap():
        for s in Syringe.objects.filter(preparation__subject=subject):
            new = lots["placebo"] if s.lot_id == lots["active"].pk else lots["active"]
            Syringe.objects.filter(pk=s.pk).update(lot=new, arm=arms[new.pk == lots["placebo"].pk])
            ProductUse.objects.filter(procedure_id=s.procedure_id).update(lot=new)

    return swap


def _product_leaks(client, api, delivered):
    from .delivery_fixtures import SECRETS

    study, subject, allocation, lots, procedures = delivered
    pages, routes, (export_pages, export_api) = _product_places(subject, lots, procedures)
    return leaks(client, api, study, subject, allocation, extra_pages=pages, extra_api=routes,
                 also_swap=_product_swapper(study, subject, lots), secrets=SECRETS, literal_pages=export_pages,
                 literal_api=export_api)


@pytest.mark.parametrize("persona", [*BLINDED, "admin_user", "coordinator"])
def test_no_one_but_the_unblinded_sees_which_product_or_lot_a_subject_was_given(delivered, persona, request, client,
                                                                                 api_client):
    user = request.getfixturevalue(persona)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert _product_leaks(client, api_client(user), delivered) == []


def test_the_product_crawl_sees_the_lots_where_the_unblinded_pharmacist_looks(delivered, pharmacist, client,
                                                                              api_client):
    study, subject, *_ = delivered
    client.force_login(pharmacist, backend="django.contrib.auth.backends.ModelBackend")
    found = _product_leaks(client, api_client(pharmacist), delivered)
    assert any(f"/subjects/{subject.pk}/treatment: " in p and p.endswith(("ACT-7781", "PLC-1142")) for p in found)
    assert any(f"/subjects/{subject.pk}/treatment: changes with the arm" in p for p in found)
    assert any(p.startswith("/treatments/procedures/") and p.endswith(("ACT-7781", "PLC-1142")) for p in found)


@pytest.mark.parametrize("template, line, leaky", [
    ("studies/delivery/treatment.html", '<td class="syringe-label">{{ v.label }}</td>',
     '<td class="syringe-label">{{ v.label }} {% for s in prep.syringes.all %}{{ s.lot }}{% endfor %}</td>'),
    ("treatments/procedure_detail.html", "<h2>Products and lots</h2>",
     "<h2>Products and lots</h2>{{ procedure.study_syringe.lot }}"),
])
def test_the_product_crawl_fails_when_a_template_starts_printing_the_lot(delivered, clinician, client, api_client,
                                                                         settings, tmp_path, template, line, leaky):
    # Negative controls: a careless edit prints the syringe's lot to the blinded injector.
    from django.template.loader import get_template

    original = get_template(template).origin.name
    with open(original) as f:
        text = f.read()
    assert line in text
    target = tmp_path / template
    target.parent.mkdir(parents=True)
    target.write_text(text.replace(line, leaky))
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    found = _product_leaks(client, api_client(clinician), delivered)
    assert found and any("changes with the arm" in p for p in found)
    assert all("/treatment" in p or "/treatments/procedures/" in p for p in found), found
