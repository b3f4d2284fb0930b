"""The public pages and API: no login, honeypot, rate limit, clear thank-you."""

from anagen.intake.models import Inquiry, InquiryStatus


GOOD = {"name": "Jane Doe", "email": "jane@example.test", "phone": "", "concern": "Is PRP right for me?",
        "consent_to_contact": "on", "website": ""}


def test_pages_are_public(client, db):
    assert client.get("/ask/").status_code == 200
    r = client.get("/consultation/")
    assert r.status_code == 200 and "Video consultation" in r.content.decode()
    assert 'class="field honey"' in r.content.decode()


def test_a_question_lands_in_the_inbox_with_a_thank_you(client, db):
    r = client.post("/ask/", GOOD, follow=True)
    assert "Thank you" in r.content.decode()
    q = Inquiry.objects.get()
    assert q.kind == "question" and q.status == InquiryStatus.NEW and q.consent_to_contact
    assert len(q.client_hash) == 64 and "127.0.0.1" not in q.client_hash


def test_a_consultation_request_with_clinic_and_spaced_phone(client, clinic):
    data = {**GOOD, "email": "", "phone": "07700 900123", "preferred_clinic": str(clinic.pk),
            "preferred_times": "weekday mornings"}
    assert client.post("/consultation/", data).status_code == 302
    q = Inquiry.objects.get()
    assert q.preferred_clinic == clinic and q.phone == "+447700900123" and q.preferred_times == "weekday mornings"


def test_empty_form_shows_a_message_per_field_and_stores_nothing(client, db):
    r = client.post("/consultation/", {"website": ""})
    body = r.content.decode()
    assert r.status_code == 400
    for text in ("Tell us your name", "e-mail address or a phone number", "Choose a clinic", "Tick the box"):
        assert text in body
    assert not Inquiry.objects.exists()


def test_a_5000_character_concern_is_refused_with_the_limit(client, db):
    r = client.post("/ask/", {**GOOD, "concern": "a" * 5000})
    assert "the limit is 2,000" in r.content.decode() and not Inquiry.objects.exists()


def test_a_filled_honeypot_gets_the_thank_you_but_nothing_is_stored(client, db):
    r = client.post("/ask/", {**GOOD, "website": "http://spam.example"}, follow=True)
    assert "Thank you" in r.content.decode()
    assert not Inquiry.objects.exists()


def test_too_many_submissions_from_one_address_get_a_friendly_429(client, db, settings):
    settings.INTAKE_RATE_LIMIT_PER_HOUR = 2
    assert client.post("/ask/", GOOD).status_code == 302
    assert client.post("/ask/", GOOD).status_code == 302
    r = client.post("/ask/", GOOD)
    assert r.status_code == 429 and "try again in an hour" in r.content.decode()
    assert Inquiry.objects.count() == 2
    # another address is not affected
    assert client.post("/ask/", GOOD, REMOTE_ADDR="10.0.0.9").status_code == 302


def test_public_api_accepts_a_request_without_a_token(client, clinic):
    r = client.post("/api/v1/inquiries", {"kind": "consultation", "name": "Ann", "phone": "+44 7700 900 123",
                                          "concern": "crown", "preferred_clinic_id": clinic.pk,
                                          "consent_to_contact": True}, content_type="application/json")
    assert r.status_code == 202 and "Thank you" in r.json()["detail"]
    assert Inquiry.objects.get().phone == "+447700900123"


def test_public_api_answers_400_with_field_messages(client, db):
    r = client.post("/api/v1/inquiries", {"kind": "question", "concern": "x" * 5000}, content_type="application/json")
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert {"name", "email", "concern", "consent_to_contact"} <= set(errors)
    assert "2,000" in errors["concern"]
    r = client.post("/api/v1/inquiries", {"name": "no kind"}, content_type="application/json")
    assert r.status_code == 400


def test_public_api_honeypot_and_rate_limit(client, db, settings):
    settings.INTAKE_RATE_LIMIT_PER_HOUR = 1
    body = {"kind": "question", "name": "Bot", "email": "b@example.test", "concern": "buy", "consent_to_contact": True,
            "website": "x"}
    assert client.post("/api/v1/inquiries", body, content_type="application/json").status_code == 202
    assert not Inquiry.objects.exists()
    r = client.post("/api/v1/inquiries", {**body, "website": ""}, content_type="application/json")
    assert r.status_code == 429
