"""The public self-check: questions, what a consultation would look at, and a request with the
answers attached for the coordinator and the clinician."""

from __future__ import annotations

from anagen.intake.models import Inquiry

ANSWERS = {"sc-pattern": "thinning", "sc-sex": "female", "sc-age": "18_69", "sc-bald": "no",
           "sc-told_no_transplant": "yes", "sc-infection": "no", "sc-cancer": "no", "sc-pregnant": "no",
           "sc-bleeding": "no", "sc-blood_thinners": "unsure"}
CONTACT = {"name": "Nadia Noor", "email": "nadia@example.test", "phone": "", "concern": "Thinning on top.",
           "preferred_clinic": "video", "consent_to_contact": "on", "website": ""}


def test_the_self_check_is_public_and_asks_in_plain_words(client, db):
    body = client.get("/self-check/").content.decode()
    assert "Am I a candidate?" in body and "not a diagnosis" in body
    assert "Have you been told you&#x27;re not a good candidate for a hair transplant?" in body
    assert "<legend>" in body and 'type="radio"' in body
    assert "/self-check/" in client.get("/").content.decode()


def test_the_outcome_says_what_a_consultation_would_look_at(client, db):
    r = client.post("/self-check/", ANSWERS)
    assert r.status_code == 200
    body = r.content.decode()
    assert "What a consultation would look at" in body
    assert "You&#x27;re receding or thinning." in body
    assert "You&#x27;ve been told you&#x27;re not a good candidate for a transplant." in body
    assert "Do you take blood thinners" in body  # answered "not sure": the clinician asks
    assert "candidate</" not in body and "not_candidate" not in body
    # the answers ride along with the consultation form
    assert 'type="hidden" name="sc-pattern" value="thinning"' in body and 'name="request"' in body
    assert not Inquiry.objects.exists()


def test_the_request_lands_in_the_inbox_with_the_answers(client, login, coordinator, db):
    r = client.post("/self-check/", {**ANSWERS, **CONTACT, "request": "1"})
    assert r.status_code == 302 and "/thanks/" in r["Location"]
    inquiry = Inquiry.objects.get()
    sc = inquiry.self_check
    assert inquiry.kind == "consultation" and inquiry.prefers_video
    assert sc["answers"]["told_no_transplant"] == "yes" and sc["facts"]["not_transplant_candidate"] is True
    assert sc["rule_set_version"] == 1
    assert sc["decisions"]["prp"]["decision"] == "review"  # blood thinners not known
    assert ["What is happening to your hair?", "It is thinning: on top, at the crown or all over"] in sc["lines"]
    body = login(coordinator).get(f"/inbox/{inquiry.pk}/").content.decode()
    assert "Self-check answers" in body and "It is thinning: on top, at the crown or all over" in body
    assert "self-check" in login(coordinator).get("/inbox/").content.decode()


def test_a_bad_contact_form_keeps_the_answers_and_says_what_to_fix(client, db):
    r = client.post("/self-check/", {**ANSWERS, **CONTACT, "name": "", "request": "1"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "Tell us your name" in body and 'name="sc-pattern" value="thinning"' in body
    assert not Inquiry.objects.exists()


def test_a_tampered_answer_is_a_clear_400(client, db):
    r = client.post("/self-check/", {**ANSWERS, "sc-pattern": "curly", **CONTACT, "request": "1"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    assert not Inquiry.objects.exists()


def test_honeypot_and_rate_limit_are_the_consultation_form_s(client, db, settings):
    r = client.post("/self-check/", {**ANSWERS, **CONTACT, "website": "http://spam.example", "request": "1"})
    assert r.status_code == 302 and not Inquiry.objects.exists()
    settings.INTAKE_RATE_LIMIT_PER_HOUR = 2
    assert client.post("/self-check/", {**ANSWERS, **CONTACT, "request": "1"}).status_code == 302
    r = client.post("/self-check/", {**ANSWERS, **CONTACT, "request": "1"})
    assert r.status_code == 429 and Inquiry.objects.count() == 1


def test_the_clinician_reads_the_answers_when_screening_the_converted_patient(client, login, clinician, clinic, db):
    from anagen.patients.models import Patient

    client.post("/self-check/", {**ANSWERS, **CONTACT, "request": "1"})
    patient = Patient.objects.create(clinic=clinic, patient_number="AN-000901", first_name="Nadia", last_name="Noor")
    Inquiry.objects.update(converted_patient=patient, status="converted")
    c = login(clinician)
    for url in (f"/screening/patients/{patient.pk}/new", f"/screening/patients/{patient.pk}/"):
        body = c.get(url).content.decode()
        assert "Self-check answers" in body
        assert "Have you been told you&#x27;re not a good candidate for a hair transplant?" in body


def test_the_inbox_api_carries_the_answers(client, api_client, coordinator, db):
    client.post("/self-check/", {**ANSWERS, **CONTACT, "request": "1"})
    inquiry = Inquiry.objects.get()
    body = api_client(coordinator).get(f"/api/v1/inquiries/{inquiry.pk}").json()
    assert body["self_check"]["answers"]["pattern"] == "thinning"


# --- the same self-check through the public API ---------------------------------------------------

API_ANSWERS = {k.removeprefix("sc-"): v for k, v in ANSWERS.items()}
API_CONTACT = {"name": "Nadia Noor", "email": "nadia@example.test", "concern": "Thinning on top.",
               "prefers_video": True, "consent_to_contact": True}


def _api(client, body):
    return client.post("/api/v1/inquiries/self-check", body, content_type="application/json")


def test_the_api_lists_the_questions_and_answers_as_the_page_does(client, db):
    questions = client.get("/api/v1/inquiries/self-check/questions").json()
    told = next(q for q in questions if q["id"] == "told_no_transplant")
    assert told["text"] == "Have you been told you're not a good candidate for a hair transplant?"
    assert [c["value"] for c in told["choices"]] == ["yes", "no", "unsure"]


def test_the_api_runs_the_pages_rules_and_stores_nothing_without_a_request(client, db):
    r = _api(client, {"answers": API_ANSWERS})
    assert r.status_code == 200
    out = r.json()
    page = client.post("/self-check/", ANSWERS).content.decode()
    for line in out["fits"] + out["talk_about"] + out["ask_about"]:
        assert line.replace("'", "&#x27;") in page
    assert "You're receding or thinning." in out["fits"]
    assert any("blood thinners" in a.lower() for a in out["ask_about"])
    assert out["requested"] is False and out["rule_set_version"] == 1 and "not a diagnosis" in out["detail"]
    assert not Inquiry.objects.exists()


def test_the_api_request_lands_in_the_inbox_with_the_answers(client, db):
    r = _api(client, {"answers": API_ANSWERS, "request": API_CONTACT})
    assert r.status_code == 202 and r.json()["requested"] is True and "Thank you" in r.json()["detail"]
    inquiry = Inquiry.objects.get()
    assert inquiry.kind == "consultation" and inquiry.prefers_video
    assert inquiry.self_check["answers"]["told_no_transplant"] == "yes"
    assert inquiry.self_check["decisions"]["prp"]["decision"] == "review"


def test_the_api_says_what_to_fix_and_stores_nothing(client, db):
    r = _api(client, {"answers": {**API_ANSWERS, "pattern": "curly"}, "request": API_CONTACT})
    assert r.status_code == 400 and "answers.pattern" in r.json()["errors"]
    r = _api(client, {"answers": {"favourite_colour": "blue"}})
    assert r.status_code == 400 and "the questions are" in r.json()["errors"]["answers.favourite_colour"]
    r = _api(client, {"answers": API_ANSWERS, "request": {**API_CONTACT, "name": ""}})
    assert r.status_code == 400 and "request.name" in r.json()["errors"]
    r = _api(client, {"answers": {"x" * 100: "yes"}})
    assert r.status_code in (400, 422)
    assert not Inquiry.objects.exists()


def test_the_api_has_the_forms_honeypot_and_rate_limit(client, db, settings):
    r = _api(client, {"answers": API_ANSWERS, "request": {**API_CONTACT, "website": "http://spam.example"}})
    assert r.status_code == 202 and not Inquiry.objects.exists()
    settings.INTAKE_RATE_LIMIT_PER_HOUR = 2
    assert _api(client, {"answers": API_ANSWERS, "request": API_CONTACT}).status_code == 202
    assert _api(client, {"answers": API_ANSWERS, "request": API_CONTACT}).status_code == 429
    assert Inquiry.objects.count() == 1
