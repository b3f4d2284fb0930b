"""The treatment pages: what each persona sees and can do."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen.treatments import services
from anagen.treatments.models import Lot, Procedure, TreatmentPlan

from .conftest import modality, screen

TODAY = timezone.localdate


def test_the_catalogue_lists_every_modality(login, clinician):
    r = login(clinician).get(reverse("treatments:catalogue"))
    assert r.status_code == 200
    assert b"Hair-follicle stem-cell micrograft" in r.content and b"strenuous exercise" in r.content


@pytest.mark.parametrize("persona", ["evaluator", "statistician", "stranger"])
def test_the_catalogue_is_closed_to_roles_outside_treatment(login, request, persona):
    assert login(request.getfixturevalue(persona)).get(reverse("treatments:catalogue")).status_code == 403


class TestPlanPages:
    def test_a_clinician_creates_a_plan_from_a_candidate_screening(self, login, clinician, consented):
        screen(consented, clinician, "exosomes")
        r = login(clinician).post(reverse("treatments:plan_new", args=[consented.pk]), {
            "modalities": [modality("exosomes").pk, modality("minoxidil").pk],
            "start_on": (TODAY() + timedelta(days=3)).isoformat(), "follow_up_weeks": "4, 12, 23, 44, 58"})
        plan = TreatmentPlan.objects.get()
        assert r.status_code == 302 and r.url == reverse("treatments:plan", args=[plan.pk])
        assert plan.follow_up_weeks == [4, 12, 23, 44, 58] and plan.sessions == 3
        page = login(clinician).get(r.url)
        assert b"Follow-up, week 58" in page.content

    def test_a_plan_without_a_candidate_screening_shows_why(self, login, clinician, consented):
        r = login(clinician).post(reverse("treatments:plan_new", args=[consented.pk]), {
            "modalities": [modality("hfsc_micrograft").pk], "start_on": TODAY().isoformat()})
        assert r.status_code == 400 and b"needs a candidacy screening" in r.content
        assert not TreatmentPlan.objects.exists()

    def test_a_coordinator_cannot_open_the_plan_form(self, login, coordinator, patient):
        assert login(coordinator).get(reverse("treatments:plan_new", args=[patient.pk])).status_code == 403

    def test_a_plan_of_another_clinic_is_not_found(self, login, clinician_b, prp_plan):
        assert login(clinician_b).get(reverse("treatments:plan", args=[prp_plan.pk])).status_code == 404

    def test_a_change_with_its_reason_shows_on_the_plan_page(self, login, clinician, prp_plan):
        c = login(clinician)
        data = {"modalities": [modality("prp").pk], "start_on": prp_plan.start_on.isoformat(), "sessions": 4,
                "interval_days": 30, "follow_up_weeks": "12, 24, 48", "aftercare": prp_plan.aftercare,
                "notes": "", "status": "active", "reason": ""}
        r = c.post(reverse("treatments:plan_revise", args=[prp_plan.pk]), data)
        assert r.status_code == 400
        data["reason"] = "Thin response after two sessions"
        r = c.post(reverse("treatments:plan_revise", args=[prp_plan.pk]), data)
        assert r.status_code == 302
        page = c.get(r.url)
        assert b"Thin response after two sessions" in page.content and b"History" in page.content

    def test_a_coordinator_confirms_a_proposed_booking(self, login, coordinator, prp_plan, clinician, clinic):
        from datetime import time

        from anagen.scheduling.services import availability_add

        for day in range(7):
            availability_add(actor=coordinator, clinician=clinician, clinic=clinic, weekday=day, start_time=time(8),
                             end_time=time(18), valid_from=TODAY(), room=clinic.rooms.get(is_procedure_room=True))
        p = prp_plan.proposals.first()
        c = login(coordinator)
        assert b"Confirm booking" in c.get(reverse("treatments:plan", args=[prp_plan.pk])).content
        r = c.post(reverse("treatments:proposal_confirm", args=[p.pk]),
                   {f"p{p.pk}-starts_at": f"{p.proposed_on:%Y-%m-%d}T10:00"})
        assert r.status_code == 302
        p.refresh_from_db()
        assert p.status == "confirmed"
        # the same slot again, for the next proposal: the scheduling message, nothing booked
        q = prp_plan.proposals.filter(status="proposed").first()
        r = c.post(reverse("treatments:proposal_confirm", args=[q.pk]),
                   {f"p{q.pk}-starts_at": f"{p.proposed_on:%Y-%m-%d}T10:30"})
        assert r.status_code == 409 and b"already booked" in r.content
        q.refresh_from_db()
        assert q.status == "proposed"

    def test_a_clinician_cannot_confirm_bookings(self, login, clinician, prp_plan):
        p = prp_plan.proposals.first()
        r = login(clinician).post(reverse("treatments:proposal_confirm", args=[p.pk]), {})
        assert r.status_code == 403


class TestProcedurePages:
    def test_the_form_has_a_scalp_map_and_plain_inputs_per_zone(self, login, clinician, consented):
        r = login(clinician).get(reverse("treatments:procedure_new", args=[consented.pk]))
        assert r.status_code == 200
        for zone in ("frontal", "mid_scalp", "vertex", "left_temporal", "right_temporal", "occipital"):
            assert f'name="zone_{zone}"'.encode() in r.content and f'name="volume_{zone}"'.encode() in r.content
            assert f'data-zone="{zone}"'.encode() in r.content

    def _post(self, client, patient, lot, **extra):
        data = {"modality": modality("exosomes").pk, "performed_on": TODAY().isoformat(), "delivery": "injection",
                "anaesthesia": "topical", "zone_vertex": "1", "volume_vertex": "2.5", "volume_frontal": "1",
                "lot_1": lot.pk, "quantity_1": "1"}
        data.update(extra)
        return client.post(reverse("treatments:procedure_new", args=[patient.pk]), data)

    def test_a_clinician_records_a_procedure_and_stock_goes_down(self, login, clinician, consented, lot):
        r = self._post(login(clinician), consented, lot)
        assert r.status_code == 302
        proc = Procedure.objects.get()
        assert {z.zone: float(z.volume_ml) for z in proc.zones.all()} == {"vertex": 2.5, "frontal": 1.0}
        lot.refresh_from_db()
        assert lot.quantity_on_hand == 2
        page = login(clinician).get(r.url)
        assert b"EXR-2405" in page.content

    def test_too_much_volume_is_refused_with_the_zone_named(self, login, clinician, consented, lot):
        r = self._post(login(clinician), consented, lot, volume_vertex="40")
        assert r.status_code == 400 and b"Vertex (crown): 40 ml" in r.content
        assert not Procedure.objects.exists()

    def test_without_consent_the_page_warns_and_the_procedure_is_refused(self, login, clinician, patient, lot):
        c = login(clinician)
        assert b"No treatment consent is on file" in c.get(reverse("treatments:procedure_new", args=[patient.pk])).content
        r = self._post(c, patient, lot)
        assert r.status_code == 400 and b"no treatment consent on file" in r.content

    def test_a_recalled_lot_is_refused_with_a_clear_message(self, login, clinician, consented, lot):
        services.lot_recall(actor=clinician, lot=lot, reason="endotoxin")
        # the form lists only usable lots; a forged post is refused by the form, a stale one by the service
        r = self._post(login(clinician), consented, lot)
        assert r.status_code == 400 and not Procedure.objects.exists()

    def test_a_procedure_of_another_clinic_is_not_found(self, login, clinician, clinician_b, consented):
        proc = services.procedure_record(actor=clinician, patient=consented, modality=modality("exosomes"),
                                         performed_on=TODAY(), zones={"vertex": 1})
        assert login(clinician_b).get(reverse("treatments:procedure", args=[proc.pk])).status_code == 404

    @pytest.mark.parametrize("persona", ["lab_scientist", "evaluator", "statistician"])
    def test_procedures_are_closed_to_the_lab_and_evaluators(self, login, request, persona, clinician, consented):
        proc = services.procedure_record(actor=clinician, patient=consented, modality=modality("exosomes"),
                                         performed_on=TODAY(), zones={"vertex": 1})
        assert login(request.getfixturevalue(persona)).get(reverse("treatments:procedure", args=[proc.pk])).status_code == 403

    def test_an_adverse_event_is_reported_from_the_procedure(self, login, clinician, consented):
        proc = services.procedure_record(actor=clinician, patient=consented, modality=modality("exosomes"),
                                         performed_on=TODAY(), zones={"vertex": 1})
        r = login(clinician).post(reverse("treatments:adverse_event_new", args=[consented.pk]), {
            "procedure": proc.pk, "description": "Headache", "onset_on": TODAY().isoformat(), "severity": 1,
            "relation": "possible", "action": "none", "outcome": "recovering"})
        assert r.status_code == 302
        assert b"Headache" in login(clinician).get(r.url).content


class TestStockAndRecall:
    def test_a_clinician_receives_a_lot(self, login, clinician, clinic, exosome):
        r = login(clinician).post(reverse("treatments:lots"), {
            "form": "lot", "lot-product": exosome.pk, "lot-clinic": clinic.pk, "lot-lot_number": "EX-9",
            "lot-expires_on": (TODAY() + timedelta(days=90)).isoformat(), "lot-quantity": "10"})
        assert r.status_code == 302 and Lot.objects.get(lot_number="EX-9").quantity_on_hand == 10

    def test_recall_search_lists_the_patients_who_received_a_lot(self, login, clinician, consented, lot):
        services.procedure_record(actor=clinician, patient=consented, modality=modality("exosomes"),
                                  performed_on=TODAY(), zones={"vertex": 1}, lots=[(lot, 1)])
        r = login(clinician).get(reverse("treatments:recall"), {"lot": "exr-2405"})
        assert b"Hartley" in r.content and b"<b>1</b> patient" in r.content

    def test_recall_search_does_not_reach_another_clinic(self, login, clinician, clinician_b, consented, lot):
        services.procedure_record(actor=clinician, patient=consented, modality=modality("exosomes"),
                                  performed_on=TODAY(), zones={"vertex": 1}, lots=[(lot, 1)])
        r = login(clinician_b).get(reverse("treatments:recall"), {"lot": "EXR-2405"})
        assert b"Hartley" not in r.content

    def test_the_lab_has_no_access_to_recall_search_or_stock(self, login, lab_scientist):
        c = login(lab_scientist)
        assert c.get(reverse("treatments:recall"), {"lot": "X"}).status_code == 403
        assert c.get(reverse("treatments:lots")).status_code == 403

    def test_a_lot_is_recalled_from_its_page(self, login, clinician, lot):
        r = login(clinician).post(reverse("treatments:lot", args=[lot.pk]), {"reason": "Sterility failure"})
        assert r.status_code == 302
        lot.refresh_from_db()
        assert lot.recalled and lot.recall_reason == "Sterility failure"


class TestLabPages:
    def test_the_lab_sees_the_sample_code_and_patient_number_only(self, login, lab_scientist, released_sample):
        c = login(lab_scientist)
        for url in (reverse("treatments:samples"), reverse("treatments:sample", args=[released_sample.pk]),
                    reverse("treatments:sample_label", args=[released_sample.pk])):
            r = c.get(url)
            assert r.status_code == 200, url
            assert released_sample.code.encode() in r.content
            assert released_sample.patient.patient_number.encode() in r.content
            for identity in (b"Oliver", b"Hartley", b"oliver@example.test"):
                assert identity not in r.content, (url, identity)
            # The birth year as a number of its own: the page's timestamps carry microseconds,
            # whose digits may contain "1985" by chance.
            assert not re.search(rb"(?<![0-9])1985(?![0-9])", r.content), url

    def test_the_lab_records_custody_steps(self, login, lab_scientist, consented, clinician):
        s = services.sample_harvest(actor=clinician, patient=consented, kind="biopsy", biopsy_count=3,
                                    biopsy_diameter_mm=2)
        c = login(lab_scientist)
        r = c.post(reverse("treatments:sample", args=[s.pk]), {"step": "received"})
        assert r.status_code == 302
        r = c.post(reverse("treatments:sample", args=[s.pk]), {"step": "processed"})
        assert r.status_code == 400 and b"processing method" in r.content
        s.refresh_from_db()
        assert s.status == "received"

    def test_the_label_carries_a_qr_code_and_print_styles(self, login, lab_scientist, released_sample):
        r = login(lab_scientist).get(reverse("treatments:sample_label", args=[released_sample.pk]))
        assert b"<svg" in r.content and b"treatments/sample-label.css" in r.content
        from django.contrib.staticfiles import finders

        assert "@media print" in open(finders.find("treatments/sample-label.css")).read()

    def test_the_lab_cannot_open_patient_pages_or_procedures(self, login, lab_scientist, consented):
        c = login(lab_scientist)
        assert c.get(reverse("patients:detail", args=[consented.pk])).status_code == 403
        assert c.get(reverse("treatments:procedure_new", args=[consented.pk])).status_code == 403

    def test_a_sample_of_another_clinic_is_not_found(self, login, clinician_b, released_sample):
        assert login(clinician_b).get(reverse("treatments:sample", args=[released_sample.pk])).status_code == 404

    def test_scanning_a_code_opens_the_sample(self, login, lab_scientist, released_sample):
        r = login(lab_scientist).get(reverse("treatments:samples"), {"code": released_sample.code.lower()})
        assert r.status_code == 302 and r.url == reverse("treatments:sample", args=[released_sample.pk])

    @pytest.mark.parametrize("persona", ["coordinator", "evaluator"])
    def test_coordinators_and_evaluators_do_not_see_samples(self, login, request, persona, released_sample):
        r = login(request.getfixturevalue(persona)).get(reverse("treatments:sample", args=[released_sample.pk]))
        assert r.status_code == 403


def test_the_patient_page_has_a_treatment_section(login, clinician, prp_plan):
    r = login(clinician).get(reverse("patients:detail", args=[prp_plan.patient_id]))
    assert r.status_code == 200
    assert b"treatments-heading" in r.content and b"Platelet-rich plasma" in r.content
    assert b"Record a procedure" in r.content


def test_the_treatment_section_is_hidden_from_roles_that_may_not_see_it(rf, lab_scientist, clinician_b, prp_plan):
    from anagen.treatments.sections import patient_section

    for user in (lab_scientist, clinician_b):
        request = rf.get("/")
        request.user = user
        assert patient_section(request, prp_plan.patient) is None


def test_every_read_page_renders_for_a_clinician(login, clinician, prp_plan, lot, released_sample):
    c = login(clinician)
    proc = services.procedure_record(actor=clinician, patient=prp_plan.patient, modality=modality("prp"),
                                     performed_on=TODAY(), zones={"vertex": 1}, plan=prp_plan, lots=[(lot, 1)])
    event = services.adverse_event_record(actor=clinician, patient=prp_plan.patient, procedure=proc,
                                          description="Tenderness", onset_on=TODAY(), severity=1, relation="probable")
    for url in (reverse("treatments:lots"), reverse("treatments:lot", args=[lot.pk]),
                reverse("treatments:plan_revise", args=[prp_plan.pk]), reverse("treatments:plan", args=[prp_plan.pk]),
                reverse("treatments:procedure", args=[proc.pk]), reverse("treatments:adverse_event", args=[event.pk]),
                reverse("treatments:sample_new", args=[prp_plan.patient_id]),
                reverse("treatments:adverse_event_new", args=[prp_plan.patient_id]),
                reverse("treatments:sample", args=[released_sample.pk])):
        assert c.get(url).status_code == 200, url


def test_an_adverse_event_is_followed_up_from_its_page(login, clinician, consented):
    event = services.adverse_event_record(actor=clinician, patient=consented, description="Swelling",
                                          onset_on=TODAY(), severity=2, relation="possible")
    r = login(clinician).post(reverse("treatments:adverse_event", args=[event.pk]), {
        "description": "Swelling", "onset_on": TODAY().isoformat(), "severity": 4, "relation": "possible",
        "action": "hospitalised", "outcome": "recovering"})
    assert r.status_code == 400 and b"mark it serious" in r.content
