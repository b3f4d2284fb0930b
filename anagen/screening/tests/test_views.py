"""Screening pages: who may run, see and edit what."""

import json

import pytest

from anagen.screening.models import RuleSet, Screening
from anagen.screening.rules import seed_rules
from anagen.screening.services import screening_run


def form_data(answers, modalities=("hfsc_micrograft", "adipose_stem_cells", "exosomes", "prp")):
    data = {"modalities": list(modalities), "notes": "Seen with her sister."}
    for k, v in answers.items():
        data[k] = "yes" if v is True else "no" if v is False else ("" if v is None else v)
    return data


def test_a_clinician_runs_a_screening_and_sees_badges_reasons_and_version(login, clinician, patient, clear_answers):
    c = login(clinician)
    r = c.get(f"/screening/patients/{patient.pk}/new")
    assert r.status_code == 200
    assert b"Contraindications to confirm" in r.content
    r = c.post(f"/screening/patients/{patient.pk}/new", form_data({**clear_answers, "active_scalp_infection": True}))
    assert r.status_code == 302
    run_id = Screening.objects.first().run_id
    assert r["Location"] == f"/screening/runs/{run_id}/"
    page = c.get(r["Location"]).content.decode()
    assert 'class="badge not_candidate" data-modality="prp"' in page
    assert "Active scalp infection: treat it" in page
    assert "version 1" in page
    assert "Seen with her sister." in page
    assert "History" in page


def test_the_form_is_prefilled_from_the_medical_history(login, clinician, patient):
    from anagen.patients.models import MedicalHistory

    MedicalHistory.objects.create(patient=patient, bleeding_disorder=True)
    r = login(clinician).get(f"/screening/patients/{patient.pk}/new")
    form = r.context["form"]
    assert form.initial["bleeding_disorder"] == "yes"
    assert form.initial["anticoagulants"] == "no"


def test_not_recorded_answers_send_the_screening_to_review(login, clinician, patient, clear_answers):
    c = login(clinician)
    c.post(f"/screening/patients/{patient.pk}/new", form_data({**clear_answers, "pregnant_or_breastfeeding": None},
                                                              modalities=["prp"]))
    s = Screening.objects.get()
    assert s.decision == "review"
    assert "pregnant_or_breastfeeding" not in s.clinician_confirmed_contraindications


def test_bad_form_input_is_shown_and_nothing_saved(login, clinician, patient, clear_answers):
    r = login(clinician).post(f"/screening/patients/{patient.pk}/new", form_data({**clear_answers, "bmi": "5"}))
    assert r.status_code == 400
    assert b"greater than or equal to 10" in r.content
    r = login(clinician).post(f"/screening/patients/{patient.pk}/new", {**form_data(clear_answers), "modalities": []})
    assert r.status_code == 400
    assert Screening.objects.count() == 0


def test_coordinators_and_admins_see_results_but_cannot_run(login, clinician, coordinator, admin_user, patient,
                                                            clear_answers):
    run = screening_run(actor=clinician, patient=patient, answers=clear_answers)[0].run_id
    for user in (coordinator, admin_user):
        c = login(user)
        assert c.get(f"/screening/runs/{run}/").status_code == 200
        page = c.get(f"/screening/patients/{patient.pk}/")
        assert page.status_code == 200 and b"badge candidate" in page.content
        assert b"Run screening" not in page.content
        assert c.get(f"/screening/patients/{patient.pk}/new").status_code == 403
        assert c.post(f"/screening/patients/{patient.pk}/new", form_data(clear_answers)).status_code == 403
    assert Screening.objects.count() == 4


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_get_nothing(request, login, persona, clinician, patient, clear_answers):
    run = screening_run(actor=clinician, patient=patient, answers=clear_answers)[0].run_id
    c = login(request.getfixturevalue(persona))
    for url in (f"/screening/runs/{run}/", f"/screening/patients/{patient.pk}/",
                f"/screening/patients/{patient.pk}/new", "/screening/rules/", "/screening/rules/v1/"):
        assert c.get(url).status_code == 403, url


def test_another_clinics_records_are_not_found(login, clinician, clinician_b, coordinator_b, patient, clear_answers):
    run = screening_run(actor=clinician, patient=patient, answers=clear_answers)[0].run_id
    for user in (clinician_b, coordinator_b):
        c = login(user)
        assert c.get(f"/screening/runs/{run}/").status_code == 404
        assert c.get(f"/screening/patients/{patient.pk}/").status_code == 404
    assert login(clinician_b).get(f"/screening/patients/{patient.pk}/new").status_code == 404


def test_pages_need_login(client, patient):
    assert client.get(f"/screening/patients/{patient.pk}/new").status_code == 302
    assert client.get("/screening/rules/").status_code == 302


def test_the_patient_page_section_shows_the_latest_decisions(rf, clinician, coordinator, evaluator, patient,
                                                             clear_answers):
    from anagen.screening.sections import patient_screening_section

    screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp"])
    req = rf.get("/")
    req.user = clinician
    section = patient_screening_section(req, patient)
    assert section["template"] == "screening/_patient_section.html"
    assert section["can_run_screening"] is True
    prp = next(r for r in section["screening_rows"] if r["modality"].startswith("PRP"))
    assert prp["screening"].decision == "candidate"
    req.user = coordinator
    assert patient_screening_section(req, patient)["can_run_screening"] is False
    req.user = evaluator
    assert patient_screening_section(req, patient) is None


def test_the_section_is_registered_with_the_patient_page():
    sections = pytest.importorskip("anagen.patients.sections")
    assert any(key.endswith("patient_screening_section") for _, key, _ in sections._registry)


def test_the_section_template_renders(rf, clinician, patient, clear_answers):
    from django.template.loader import render_to_string

    from anagen.screening.sections import patient_screening_section

    screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp"])
    req = rf.get("/")
    req.user = clinician
    html = render_to_string("screening/_patient_section.html", {"section": patient_screening_section(req, patient)},
                            request=req)
    assert "Run screening" in html and "badge candidate" in html and "Not screened" in html


def test_the_patient_page_shows_the_screening_section(monkeypatch, login, clinician, coordinator, patient,
                                                     clear_answers):
    from anagen.patients import sections

    # Only this app's section, so the test does not depend on the other apps' sections.
    monkeypatch.setattr(sections, "_registry", [s for s in sections._registry if "screening" in s[1]])
    screening_run(actor=clinician, patient=patient, answers=clear_answers, modalities=["prp"])
    page = login(clinician).get(f"/patients/{patient.pk}/").content.decode()
    assert "Candidacy screening" in page
    assert f'href="/screening/patients/{patient.pk}/new"' in page
    assert "badge candidate" in page
    page = login(coordinator).get(f"/patients/{patient.pk}/").content.decode()
    assert "Candidacy screening" in page and f"/screening/patients/{patient.pk}/new" not in page


# --- rules pages -------------------------------------------------------------------------------

def test_clinicians_read_the_rules_but_cannot_edit(login, clinician):
    c = login(clinician)
    r = c.get("/screening/rules/")
    assert r.status_code == 200
    assert b"Active: version 1" in r.content and b"female_pattern_hair_loss" in r.content
    assert b"Edit rules" not in r.content
    assert c.get("/screening/rules/v1/").status_code == 200
    assert c.get("/screening/rules/edit").status_code == 403
    assert c.post("/screening/rules/edit", {"rules": "[]"}).status_code == 403


def test_coordinators_cannot_see_the_rules(login, coordinator):
    assert login(coordinator).get("/screening/rules/").status_code == 403


def test_an_admin_edits_the_rules_and_a_new_version_is_published(login, admin_user):
    c = login(admin_user)
    r = c.get("/screening/rules/edit")
    assert r.status_code == 200
    rules = json.loads(r.context["form"].initial["rules"])
    assert rules == seed_rules()
    rules[0]["description"] = "Receding or thinning, follicles present."
    r = c.post("/screening/rules/edit", {"rules": json.dumps(rules), "note": "Clearer wording"})
    assert r.status_code == 302 and r["Location"] == "/screening/rules/"
    v2 = RuleSet.objects.get(is_active=True)
    assert v2.version == 2 and v2.created_by == admin_user and v2.note == "Clearer wording"
    assert RuleSet.objects.get(version=1).rules == seed_rules()
    page = c.get("/screening/rules/").content.decode()
    assert "Active: version 2" in page and "Receding or thinning, follicles present." in page


def test_rule_errors_are_listed_per_rule_and_nothing_is_saved(login, admin_user):
    rules = seed_rules()
    rules[0]["when"]["op"] = "approximately"
    rules[2]["when"] = {"all": [{"fact": "traction_area_thinning", "op": "true"}, {"fact": "baldness", "op": "true"}]}
    r = login(admin_user).post("/screening/rules/edit", {"rules": json.dumps(rules)})
    assert r.status_code == 400
    page = r.content.decode()
    assert "The rules have 2 problems; nothing was saved." in page
    assert "Rule &#x27;receding_or_thinning&#x27;: when: unknown operator &#x27;approximately&#x27;" in page
    assert "Rule &#x27;traction_alopecia_thinning&#x27;: when.all[1]: unknown fact &#x27;baldness&#x27;" in page
    # The text typed is kept so the admin can fix it.
    assert "approximately" in r.context["form"]["rules"].value()
    assert RuleSet.objects.count() == 1


def test_text_that_is_not_json_says_where(login, admin_user):
    r = login(admin_user).post("/screening/rules/edit", {"rules": "[{\"id\": \"a\",]"})
    assert r.status_code == 400
    assert b"not valid JSON" in r.content and b"line 1" in r.content


def test_an_admin_can_start_a_new_version_from_an_old_one(login, admin_user):
    from anagen.screening.services import rule_set_publish

    rule_set_publish(actor=admin_user, rules=seed_rules()[:4], note="trimmed")
    r = login(admin_user).get("/screening/rules/edit?from=1")
    assert json.loads(r.context["form"].initial["rules"]) == seed_rules()
    assert login(admin_user).get("/screening/rules/edit?from=99").status_code == 404


def test_rule_versions_are_read_only_in_django_admin(login, admin_user):
    c = login(admin_user)
    assert c.get("/admin/screening/ruleset/").status_code == 200
    v1 = RuleSet.objects.get(version=1)
    assert c.get(f"/admin/screening/ruleset/{v1.pk}/change/").status_code == 200
    c.post(f"/admin/screening/ruleset/{v1.pk}/change/", {"note": "changed"})
    assert c.get("/admin/screening/ruleset/add/").status_code == 403
    v1.refresh_from_db()
    assert v1.note != "changed"
