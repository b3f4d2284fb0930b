"""The write path: every treatment rule, enforced in the services."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.treatments import rules, services
from anagen.treatments.models import CustodyEvent, Lot, Modality, Procedure, ProposalStatus

from .conftest import give_consent, modality, screen

TODAY = timezone.localdate


def test_the_catalogue_is_seeded_with_each_modality_and_its_defaults(db):
    codes = set(Modality.objects.values_list("code", flat=True))
    assert {"hfsc_micrograft", "adipose_svf", "exosomes", "prp", "hd_prp", "scaffold", "minoxidil", "finasteride",
            "dutasteride", "hair_transplant"} <= codes
    micro = modality("hfsc_micrograft")
    assert micro.follow_up_weeks == [4, 12, 23, 44, 58] and micro.sample_kind == "biopsy"
    assert "strenuous exercise" in micro.aftercare and "2 mm punch" in micro.description


def test_admin_edits_the_catalogue_and_others_may_not(admin_user, clinician):
    prp = modality("prp")
    services.modality_update(actor=admin_user, modality=prp, typical_sessions=4, follow_up_weeks="12, 4")
    prp.refresh_from_db()
    assert prp.typical_sessions == 4 and prp.follow_up_weeks == [4, 12]
    with pytest.raises(PermissionDenied):
        services.modality_update(actor=clinician, modality=prp, typical_sessions=2)


class TestPlans:
    def test_a_plan_from_a_candidate_screening_takes_the_catalogue_defaults_and_proposes_visits(self, prp_plan):
        assert (prp_plan.sessions, prp_plan.interval_days, prp_plan.follow_up_weeks) == (3, 30, [12, 24, 48])
        proposals = list(prp_plan.proposals.all())
        assert [p.kind for p in proposals] == ["session"] * 3 + ["follow_up"] * 3
        assert proposals[1].proposed_on == prp_plan.start_on + timedelta(days=30)
        assert proposals[3].proposed_on == prp_plan.start_on + timedelta(days=60, weeks=12)
        assert prp_plan.screening_basis[0]["decision"] == "candidate"

    def test_a_plan_without_a_screening_is_refused(self, consented, clinician):
        with pytest.raises(ActionError, match="needs a candidacy screening") as exc:
            services.plan_create(actor=clinician, patient=consented, modalities=[modality("exosomes")],
                                 start_on=TODAY())
        assert exc.value.code == "not_candidate"

    def test_a_plan_for_a_modality_the_patient_is_not_a_candidate_for_is_refused(self, consented, clinician):
        screen(consented, clinician, "prp", "candidate")
        screen(consented, clinician, "hfsc_micrograft", "not_candidate")
        with pytest.raises(ActionError, match="not a candidate for Hair-follicle"):
            services.plan_create(actor=clinician, patient=consented,
                                 modalities=[modality("prp"), modality("hfsc_micrograft")], start_on=TODAY())

    def test_the_latest_screening_counts(self, consented, clinician):
        screen(consented, clinician, "prp", "candidate")
        screen(consented, clinician, "prp", "not_candidate")
        with pytest.raises(ActionError):
            services.plan_create(actor=clinician, patient=consented, modalities=[modality("prp")], start_on=TODAY())

    def test_adjuncts_need_no_screening(self, consented, clinician):
        plan = services.plan_create(actor=clinician, patient=consented,
                                    modalities=[modality("minoxidil"), modality("finasteride")], start_on=TODAY())
        assert plan.follow_up_weeks == [12, 24, 48]

    def test_hd_prp_maps_to_the_prp_screening(self, consented, clinician):
        screen(consented, clinician, "prp")
        plan = services.plan_create(actor=clinician, patient=consented, modalities=["hd_prp"], start_on=TODAY())
        assert plan.screening_basis[0]["modality"] == "prp"

    def test_only_clinicians_plan(self, consented, coordinator, lab_scientist):
        for actor in (coordinator, lab_scientist):
            with pytest.raises(PermissionDenied):
                services.plan_create(actor=actor, patient=consented, modalities=["minoxidil"], start_on=TODAY())

    def test_a_clinician_of_another_clinic_gets_not_found(self, patient_b, clinician):
        with pytest.raises(NotFound):
            services.plan_create(actor=clinician, patient=patient_b, modalities=["minoxidil"], start_on=TODAY())

    def test_a_change_keeps_the_previous_values_and_needs_a_reason(self, prp_plan, clinician):
        with pytest.raises(ActionError, match="reason"):
            services.plan_revise(actor=clinician, plan=prp_plan, reason=" ", sessions=4)
        rev = services.plan_revise(actor=clinician, plan=prp_plan, reason="Slow response; one more session",
                                   sessions=4)
        assert rev.number == 1 and rev.previous == {"sessions": 3} and rev.new == {"sessions": 4}
        live = prp_plan.proposals.filter(status=ProposalStatus.PROPOSED)
        assert live.filter(kind="session").count() == 4
        assert prp_plan.proposals.filter(status=ProposalStatus.SUPERSEDED).count() == 6

    def test_a_change_that_changes_nothing_is_refused(self, prp_plan, clinician):
        with pytest.raises(ActionError, match="Nothing was changed"):
            services.plan_revise(actor=clinician, plan=prp_plan, reason="x", sessions=3)


@pytest.fixture
def bookable(clinician, coordinator, clinic):
    """The clinician works every day 08:00-18:00 at Birmingham."""
    from anagen.scheduling.services import availability_add

    room = clinic.rooms.get(is_procedure_room=True)
    for day in range(7):
        availability_add(actor=coordinator, clinician=clinician, clinic=clinic, weekday=day, start_time=time(8),
                         end_time=time(18), valid_from=TODAY(), room=room)


def _at(d, hour=10):
    return timezone.make_aware(datetime.combine(d, time(hour)))


class TestBookings:
    def test_a_coordinator_confirms_a_proposal_into_an_appointment(self, prp_plan, coordinator, bookable):
        p = prp_plan.proposals.first()
        services.proposal_confirm(actor=coordinator, proposal=p, starts_at=_at(p.proposed_on))
        p.refresh_from_db()
        assert p.status == "confirmed" and p.appointment.kind == "procedure"
        assert p.appointment.patient_id == prp_plan.patient_id

    def test_follow_ups_are_booked_as_follow_up_assessments(self, prp_plan, coordinator, bookable):
        p = prp_plan.proposals.filter(kind="follow_up").first()
        services.proposal_confirm(actor=coordinator, proposal=p, starts_at=_at(p.proposed_on))
        p.refresh_from_db()
        assert p.appointment.kind == "follow_up"

    def test_a_clash_shows_the_scheduling_message_and_leaves_the_proposal_unconfirmed(
            self, prp_plan, coordinator, bookable, other_patient):
        from anagen.scheduling.services import appointment_book

        p = prp_plan.proposals.first()
        appointment_book(actor=coordinator, patient=other_patient, clinician=prp_plan.clinician, clinic=prp_plan.clinic,
                         kind="follow_up", starts_at=_at(p.proposed_on))
        with pytest.raises(Conflict, match="already booked"):
            services.proposal_confirm(actor=coordinator, proposal=p, starts_at=_at(p.proposed_on))
        p.refresh_from_db()
        assert p.status == "proposed" and p.appointment is None

    def test_clinicians_do_not_confirm_bookings(self, prp_plan, clinician):
        with pytest.raises(PermissionDenied):
            services.proposal_confirm(actor=clinician, proposal=prp_plan.proposals.first(), starts_at=timezone.now())

    def test_confirmed_visits_survive_a_plan_change(self, prp_plan, coordinator, clinician, bookable):
        p = prp_plan.proposals.first()
        services.proposal_confirm(actor=coordinator, proposal=p, starts_at=_at(p.proposed_on))
        services.plan_revise(actor=clinician, plan=prp_plan, reason="Longer interval", interval_days=42)
        live = prp_plan.proposals.exclude(status="superseded")
        assert live.filter(kind="session", sequence=1).count() == 1
        assert live.get(kind="session", sequence=2).proposed_on == prp_plan.start_on + timedelta(days=42)


class TestLotsAndProcedures:
    def _record(self, clinician, patient, **kw):
        args = dict(actor=clinician, patient=patient, modality=modality("exosomes"), performed_on=TODAY(),
                    zones={"vertex": "2", "frontal": "1.5"})
        args.update(kw)
        return services.procedure_record(**args)

    def test_using_a_lot_takes_it_from_stock(self, consented, clinician, lot):
        proc = self._record(clinician, consented, lots=[(lot, "1")])
        lot.refresh_from_db()
        assert lot.quantity_on_hand == Decimal("2")
        assert proc.product_uses.get().quantity == 1
        assert sorted(proc.zones.values_list("zone", flat=True)) == ["frontal", "vertex"]

    def test_an_expired_lot_is_refused_and_nothing_is_written(self, consented, clinician, lot):
        Lot.objects.filter(pk=lot.pk).update(expires_on=TODAY() - timedelta(days=1))
        with pytest.raises(ActionError, match="expired") as exc:
            self._record(clinician, consented, lots=[(lot, "1")])
        assert exc.value.code == "lot_refused"
        assert Procedure.objects.count() == 0
        lot.refresh_from_db()
        assert lot.quantity_on_hand == 3

    def test_a_recalled_lot_is_refused(self, consented, clinician, lot):
        services.lot_recall(actor=clinician, lot=lot, reason="sterility failure")
        with pytest.raises(ActionError, match="recalled .sterility failure."):
            self._record(clinician, consented, lots=[(lot, "1")])

    def test_more_than_the_stock_is_refused(self, consented, clinician, lot):
        with pytest.raises(ActionError, match="has 3.00 vial left"):
            self._record(clinician, consented, lots=[(lot, "4")])

    def test_the_same_lot_twice_is_counted_together(self, consented, clinician, lot):
        with pytest.raises(ActionError, match="left"):
            self._record(clinician, consented, lots=[(lot, "2"), (lot, "2")])

    def test_a_lot_of_another_clinic_is_refused(self, consented, clinician, exosome, admin_user, clinic_b):
        admin_user.clinics.add(clinic_b)
        admin_user.forget_cached_access()
        other = services.lot_receive(actor=admin_user, product=exosome, clinic=clinic_b, lot_number="B-1",
                                     expires_on=TODAY() + timedelta(days=30), quantity=5)
        with pytest.raises(ActionError, match="stock of Solihull"):
            self._record(clinician, consented, lots=[(other, "1")])

    def test_a_procedure_without_treatment_consent_is_refused(self, patient, clinician):
        with pytest.raises(ActionError, match="no treatment consent") as exc:
            self._record(clinician, patient)
        assert exc.value.code == "no_consent"

    def test_a_withdrawn_consent_does_not_count(self, patient, clinician):
        from anagen.patients.services import consent_withdraw

        consent = give_consent(patient, clinician)
        consent_withdraw(actor=clinician, consent=consent, reason="patient asked")
        with pytest.raises(ActionError, match="no treatment consent"):
            self._record(clinician, patient)

    @pytest.mark.parametrize("zones,msg", [({}, "at least one"), ({"vertex": "0"}, "more than 0"),
                                           ({"vertex": "50"}, "more than the 20")])
    def test_zone_volumes_are_validated(self, consented, clinician, zones, msg):
        with pytest.raises(ActionError, match=msg):
            self._record(clinician, consented, zones=zones)

    def test_micro_needling_needs_a_depth(self, consented, clinician):
        with pytest.raises(ActionError, match="micro-needling depth"):
            self._record(clinician, consented, delivery="microneedling")

    def test_a_future_date_is_refused(self, consented, clinician):
        with pytest.raises(ActionError, match="in the future"):
            self._record(clinician, consented, performed_on=TODAY() + timedelta(days=1))

    def test_coordinators_do_not_record_procedures(self, consented, coordinator):
        with pytest.raises(PermissionDenied):
            self._record(coordinator, consented)

    def test_recording_against_a_plan_numbers_the_sessions(self, prp_plan, clinician):
        p1 = self._record(clinician, prp_plan.patient, modality=modality("prp"), plan=prp_plan)
        p2 = self._record(clinician, prp_plan.patient, modality=modality("prp"), plan=prp_plan)
        assert (p1.session_number, p2.session_number) == (1, 2)

    def test_a_modality_outside_the_plan_is_refused(self, prp_plan, clinician):
        with pytest.raises(ActionError, match="not part of the plan"):
            self._record(clinician, prp_plan.patient, plan=prp_plan)

    def test_lot_recipients_answer_a_recall_in_one_search(self, consented, other_patient, clinician, lot,
                                                          django_assert_num_queries):
        from anagen.treatments.selectors import lot_recipients

        give_consent(other_patient, clinician)
        self._record(clinician, consented, lots=[(lot, "1")])
        self._record(clinician, other_patient, lots=[(lot, "1")])
        with django_assert_num_queries(1):
            names = {u.procedure.patient.last_name for u in lot_recipients(user=clinician, lot_number="exr-2405")}
        assert names == {"Hartley", "Okafor"}

    def test_lot_recipients_are_scoped_to_the_users_clinics(self, consented, clinician, clinician_b, lot):
        from anagen.treatments.selectors import lot_recipients

        self._record(clinician, consented, lots=[(lot, "1")])
        assert list(lot_recipients(user=clinician_b, lot_number="EXR-2405")) == []


class TestAdverseEvents:
    def test_an_event_is_recorded_and_followed_up(self, consented, clinician):
        ev = services.adverse_event_record(actor=clinician, patient=consented, description="Scalp folliculitis",
                                           onset_on=TODAY(), severity=2, relation="possible", action="treated")
        services.adverse_event_update(actor=clinician, event=ev, outcome="recovered", resolved_on=TODAY())
        ev.refresh_from_db()
        assert ev.outcome == "recovered"

    def test_a_grade_4_event_must_be_serious(self, consented, clinician):
        with pytest.raises(ActionError, match="mark it serious"):
            services.adverse_event_record(actor=clinician, patient=consented, description="Anaphylaxis",
                                          onset_on=TODAY(), severity=4, relation="probable")

    def test_a_bad_grade_is_refused(self, consented, clinician):
        with pytest.raises(ActionError, match="severity grade"):
            services.adverse_event_record(actor=clinician, patient=consented, description="x", onset_on=TODAY(),
                                          severity=9, relation="possible")


class TestSamples:
    def test_a_harvest_gets_a_code_and_starts_the_chain(self, consented, clinician):
        s = services.sample_harvest(actor=clinician, patient=consented, kind="lipoaspirate", lipoaspirate_ml="60")
        assert s.code.startswith("S-") and s.status == "harvested"
        assert s.custody.get().step == "harvested"

    def test_the_lab_takes_a_sample_to_release(self, released_sample):
        steps = list(released_sample.custody.values_list("step", flat=True))
        assert steps == ["harvested", "received", "processed", "qc_passed", "released"]
        qc = released_sample.custody.get(step="qc_passed")
        assert qc.details == {"cell_count": 250000, "viability_pct": 91.5}

    def test_a_step_out_of_order_is_refused(self, consented, clinician, lab_scientist):
        s = services.sample_harvest(actor=clinician, patient=consented, kind="biopsy", biopsy_count=2,
                                    biopsy_diameter_mm=2)
        with pytest.raises(ActionError, match="cannot be marked released"):
            services.custody_record(actor=lab_scientist, sample=s, step="released")

    def test_qc_cannot_pass_without_count_and_viability(self, consented, clinician, lab_scientist):
        s = services.sample_harvest(actor=clinician, patient=consented, kind="biopsy", biopsy_count=2,
                                    biopsy_diameter_mm=2)
        services.custody_record(actor=lab_scientist, sample=s, step="received")
        services.custody_record(actor=lab_scientist, sample=s, step="processed", details={"processing_method": "m"})
        with pytest.raises(ActionError, match="cell count and the viability"):
            services.custody_record(actor=lab_scientist, sample=s, step="qc_passed")

    def test_discard_needs_a_reason(self, consented, clinician, lab_scientist):
        s = services.sample_harvest(actor=clinician, patient=consented, kind="biopsy", biopsy_count=2,
                                    biopsy_diameter_mm=2)
        with pytest.raises(ActionError, match="reason"):
            services.custody_record(actor=lab_scientist, sample=s, step="discarded")
        services.custody_record(actor=lab_scientist, sample=s, step="discarded", notes="tube leaked")
        s.refresh_from_db()
        assert s.status == "discarded"

    def test_a_released_sample_is_implanted_into_its_own_patient(self, released_sample, clinician):
        proc = services.procedure_record(actor=clinician, patient=released_sample.patient,
                                         modality=modality("hfsc_micrograft"), performed_on=TODAY(),
                                         zones={"vertex": "3"}, sample=released_sample)
        released_sample.refresh_from_db()
        assert released_sample.status == "implanted" and proc.sample == released_sample
        assert CustodyEvent.objects.filter(sample=released_sample, step="implanted").exists()

    def test_a_sample_cannot_go_to_another_patient(self, released_sample, other_patient, clinician):
        give_consent(other_patient, clinician)
        with pytest.raises(ActionError, match="another patient") as exc:
            services.procedure_record(actor=clinician, patient=other_patient, modality=modality("hfsc_micrograft"),
                                      performed_on=TODAY(), zones={"vertex": "3"}, sample=released_sample)
        assert exc.value.code == "sample_refused"
        released_sample.refresh_from_db()
        assert released_sample.status == "released"

    def test_a_sample_is_not_implanted_before_qc_and_release(self, consented, clinician, lab_scientist):
        s = services.sample_harvest(actor=clinician, patient=consented, kind="biopsy", biopsy_count=2,
                                    biopsy_diameter_mm=2)
        services.custody_record(actor=lab_scientist, sample=s, step="received")
        with pytest.raises(ActionError, match="released by the lab"):
            services.procedure_record(actor=clinician, patient=consented, modality=modality("hfsc_micrograft"),
                                      performed_on=TODAY(), zones={"vertex": "3"}, sample=s)

    def test_a_micrograft_needs_its_sample(self, consented, clinician):
        with pytest.raises(ActionError, match="choose the released sample"):
            services.procedure_record(actor=clinician, patient=consented, modality=modality("hfsc_micrograft"),
                                      performed_on=TODAY(), zones={"vertex": "3"})

    def test_implantation_is_not_a_lab_step(self, released_sample, lab_scientist):
        with pytest.raises(ActionError, match="recorded on the procedure"):
            services.custody_record(actor=lab_scientist, sample=released_sample, step=rules.IMPLANTED)

    def test_coordinators_do_not_touch_samples(self, released_sample, coordinator):
        with pytest.raises(PermissionDenied):
            services.custody_record(actor=coordinator, sample=released_sample, step="discarded", notes="x")
