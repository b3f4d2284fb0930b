"""Treatments in the demo: products and lots, plans, sessions, autologous samples and adverse events."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from anagen.demo.assessments import EFFECT_MEAN, EFFECT_SD, REGROWTH_MAX_DENSITY
from anagen.demo.clock import FOLLOW_UP_WEEKS, HISTORY_WEEKS, LONDON, _before_present, _office
from anagen.demo.context import DemoContext

PRODUCTS = [
    # code, name, manufacturer, kind, unit, quantity used per session
    ("micrograft_kit", "Micrograft disaggregation cartridge", "Medica Regenerative Devices", "other", "kit", 1),
    ("svf_kit", "SVF closed processing kit", "Stromal Systems", "other", "kit", 1),
    ("exosome", "ExoRenew lyophilised exosomes 5 ml", "Meridian Biologics", "exosome", "vial", 1),
    ("prp_kit", "PRP single-spin tube kit", "Centrix Medical", "prp_kit", "kit", 1),
    ("hd_prp_kit", "HD-PRP double-spin kit", "Centrix Medical", "prp_kit", "kit", 1),
    ("scaffold", "Collagen scaffold matrix 2 ml", "Dermagen Matrix", "scaffold", "ml", 2),
    ("minoxidil", "Minoxidil 5% cutaneous foam 60 g", "Halden Pharma", "drug", "can", 3),
    ("finasteride", "Finasteride 1 mg tablets (28)", "Halden Pharma", "drug", "pack", 3),
    ("dutasteride", "Dutasteride 0.5 mg capsules (30)", "Halden Pharma", "drug", "pack", 3),
]
MODALITY_PRODUCT = {"hfsc_micrograft": "micrograft_kit", "adipose_svf": "svf_kit", "exosomes": "exosome",
                    "prp": "prp_kit", "hd_prp": "hd_prp_kit", "scaffold": "scaffold", "minoxidil": "minoxidil",
                    "finasteride": "finasteride", "dutasteride": "dutasteride"}


def _stock(ctx: DemoContext) -> None:
    """Products and lots: long-dated lots at both clinics, one exosome lot that has expired on the
    shelf, and a PRP kit lot at Solihull that the manufacturer will recall (at the end)."""
    from anagen.treatments.services import lot_receive, product_create

    start = ctx.today - timedelta(weeks=HISTORY_WEEKS + 8)
    with ctx.act(ctx.admin, _office(ctx, start)):
        for code, name, manufacturer, kind, unit, _ in PRODUCTS:
            ctx.products[code] = product_create(actor=ctx.admin, name=name, manufacturer=manufacturer, kind=kind,
                                                unit=unit)
    received = start + timedelta(days=3)
    for n, (code, *_rest) in enumerate(PRODUCTS):
        for slug in ("birmingham", "solihull"):
            with ctx.act(ctx.admin, _office(ctx, received)):
                lot_receive(actor=ctx.admin, product=ctx.products[code], clinic=ctx.clinics[slug],
                            lot_number=f"{code[:3].upper()}{slug[0].upper()}-{2400 + n * 7}",
                            expires_on=ctx.today + timedelta(weeks=40 + n), quantity=250, received_on=received)
    # Short-dated exosomes: used first (first expiry, first out), expired five weeks ago with stock left.
    day = ctx.today - timedelta(weeks=40)
    with ctx.act(ctx.admin, _office(ctx, day)):
        lot_receive(actor=ctx.admin, product=ctx.products["exosome"], clinic=ctx.clinics["birmingham"],
                    lot_number="EXO-2419-B", expires_on=ctx.today - timedelta(weeks=5), quantity=30, received_on=day)
    day = ctx.today - timedelta(weeks=30)
    with ctx.act(ctx.admin, _office(ctx, day)):
        lot = lot_receive(actor=ctx.admin, product=ctx.products["prp_kit"], clinic=ctx.clinics["solihull"],
                          lot_number="PRP-2431-S", expires_on=ctx.today + timedelta(weeks=20), quantity=40,
                          received_on=day)
    ctx.recall = (lot.pk, ctx.today - timedelta(weeks=3))


def _pick_lot(ctx: DemoContext, product_code: str, clinic, on: date, quantity):
    from anagen.treatments.models import Lot

    lots = (Lot.objects.filter(product=ctx.products[product_code], clinic=clinic, recalled=False,
                               received_on__lte=on, expires_on__gte=on, quantity_on_hand__gte=quantity)
            .order_by("expires_on", "pk"))
    if ctx.recall and on >= ctx.recall[1]:
        lots = lots.exclude(pk=ctx.recall[0])
    return lots.first()


def _recall(ctx: DemoContext) -> None:
    from anagen.treatments.models import Lot
    from anagen.treatments.services import lot_recall

    lot_pk, day = ctx.recall
    with ctx.act(ctx.admin, _office(ctx, day)):
        lot_recall(actor=ctx.admin, lot=Lot.objects.get(pk=lot_pk),
                   reason="Manufacturer's field safety notice: anticoagulant tubes of this lot may not be sterile.")


class TreatmentSteps:
    """The treatment course of :class:`anagen.demo.stories.PatientRun`."""

    # -- treatment

    def treat(self) -> None:
        from anagen.treatments.services import plan_create

        ctx, rng, s = self.ctx, self.rng, self.s
        clinician = self.consult.clinician
        mods = [ctx.modalities[c] for c in s.modalities]
        needed = {m.screening_code for m in mods if m.screening_code}
        if any(self.screenings.get(code) != "candidate" for code in needed):
            ctx.stats["not_planned_after_screening"] += 1
            return
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=3))):
            self.plan = plan_create(actor=clinician, patient=self.patient, modalities=mods, start_on=s.start_on,
                                    follow_up_weeks=FOLLOW_UP_WEEKS,
                                    notes="Target area: tattooed dot 2 cm behind the vertex whorl." if s.sex == "male"
                                    else "Target area: tattooed dot 1 cm beside the central parting.")
        ctx.stats["plans"] += 1
        lead = s.modalities[0]
        base = {"male": 128.0, "female": 138.0}[s.sex] - (10 if s.diagnosis == "traction" else 0)
        self.density = 62.0 if s.showcase else min(195.0, max(62.0, rng.gauss(base, 28)))
        self.effect = 24.0 if s.showcase else rng.gauss(EFFECT_MEAN[lead], EFFECT_SD)
        self.regrowth = self.density <= REGROWTH_MAX_DENSITY - 25 and (s.showcase or rng.random() < 0.6)
        self.lead = lead
        self.vellus_fraction = rng.uniform(0.1, 0.2)
        self.skin_tone = "light" if s.showcase or rng.random() < 0.6 else rng.choice(["medium", "olive", "dark"])
        self.plan_clinician = clinician
        # Sessions, then follow-ups, in date order; each booked by the coordinator ahead of time.
        proposals = list(self.plan.proposals.filter(status="proposed").order_by("proposed_on", "kind", "sequence"))
        sessions = [p for p in proposals if p.kind == "session"]
        follow_ups = [p for p in proposals if p.kind == "follow_up"]
        self.last_session_on = None
        self.baseline_done = False
        booked_ahead = self.advance(_before_present(ctx, _office(ctx, (self.t + timedelta(days=1)).date())))
        session_appointments = []
        for proposal in sessions:
            if proposal.proposed_on >= ctx.today + timedelta(weeks=6):
                break
            self.t = booked_ahead
            appointment = self.book("procedure", proposal.proposed_on, clinician=None, via_proposal=proposal)
            if appointment is None:
                break
            session_appointments.append((proposal, appointment))
        for proposal, appointment in session_appointments:
            if not self.is_past(appointment):
                return
            self.session(proposal, appointment)
        if self.last_session_on is None:
            return
        for proposal in follow_ups:
            target = self.last_session_on + timedelta(weeks=proposal.sequence)
            if target >= ctx.today + timedelta(weeks=6):
                return
            ahead = _office(ctx, target - timedelta(days=rng.randint(14, 28)))
            self.advance(_before_present(ctx, ahead))
            appointment = self.book("follow_up", target, via_proposal=proposal)
            if appointment is None or not self.is_past(appointment):
                return
            if not s.showcase and rng.random() < 0.05:
                self.no_show(appointment)
                appointment = self.book("follow_up", (self.t + timedelta(days=3)).date(),
                                        notes=f"Rebooked week-{proposal.sequence} follow-up after a missed visit.")
                if appointment is None or not self.is_past(appointment):
                    return
            self.follow_up(proposal.sequence, appointment)
        if self.visit_weeks_done and self.visit_weeks_done[-1] == FOLLOW_UP_WEEKS[-1]:
            from anagen.treatments.services import plan_revise

            with ctx.act(self.plan_clinician, self.advance(self.t + timedelta(minutes=10))):
                plan_revise(actor=self.plan_clinician, plan=self.plan, status="completed",
                            reason="Course and 58-week follow-up complete.")

    def session(self, proposal, appointment) -> None:
        from anagen.treatments.services import procedure_record

        ctx, rng, s = self.ctx, self.rng, self.s
        clinician = appointment.clinician
        day = timezone.localtime(appointment.starts_at, LONDON).date()
        self.advance(appointment.starts_at)
        if not self.baseline_done:
            self.visit(appointment, day, baseline=True, clinician=clinician)
            self.baseline_done = True
        first_session = proposal.sequence == 1
        for code in s.modalities:
            modality = ctx.modalities[code]
            sample = None
            if modality.sample_kind:
                sample = self.harvest(modality, clinician, appointment)
            if code == "scaffold" and not first_session:
                continue
            lots = []
            product = MODALITY_PRODUCT.get(code)
            if product:
                quantity = next(q for c, *_rest, q in PRODUCTS if c == product)
                lot = _pick_lot(ctx, product, self.clinic, day, quantity)
                if lot is not None:
                    lots.append((lot, quantity))
            with ctx.act(clinician, self.advance(self.t + timedelta(minutes=25))):
                procedure = procedure_record(actor=clinician, patient=self.patient, modality=modality,
                                             performed_on=day, plan=self.plan,
                                             session_number=proposal.sequence, lots=lots, sample=sample,
                                             **self.procedure_details(code))
            ctx.stats[f"procedure:{code}"] += 1
            if rng.random() < 0.09 and not s.showcase:
                self.pending_events.append(procedure)
        self.complete(appointment)
        self.last_session_on = day
        for procedure in self.pending_events:
            self.adverse_event(procedure, clinician, day)
        self.pending_events = []

    def procedure_details(self, code: str) -> dict:
        rng, female = self.rng, self.s.sex == "female"
        zones = ["mid_scalp", "frontal"] if female else ["vertex", "mid_scalp", "frontal"]
        if code == "hair_transplant":
            return {"delivery": "surgical", "anaesthesia": "local", "anaesthesia_detail": "Lidocaine 1% with adrenaline, 20 ml",
                    "zones": {"frontal": "12", "mid_scalp": "8"}, "device": "FUE motorised punch 0.9 mm",
                    "notes": f"{rng.randint(1800, 2800)} grafts implanted."}
        if code in ("minoxidil", "finasteride", "dutasteride"):
            return {"delivery": "topical" if code == "minoxidil" else "oral",
                    "notes": "Started today; three months' supply dispensed."}
        chosen = zones[: rng.choice([1, 2, len(zones)])]
        if code == "exosomes" and rng.random() < 0.5:
            return {"delivery": "microneedling", "microneedling_depth_mm": "1.0", "device": "Motorised micro-needling pen",
                    "zones": {z: f"{rng.choice([1.0, 1.5, 2.0]):.1f}" for z in chosen}}
        per_zone = {"hfsc_micrograft": (1.0, 2.0), "adipose_svf": (2.0, 4.0), "scaffold": (0.5, 1.0)}.get(code, (1.5, 3.0))
        details = {"delivery": "injection", "needle": "30G 4 mm",
                   "zones": {z: f"{rng.uniform(*per_zone):.1f}" for z in chosen}}
        if code in ("hfsc_micrograft", "adipose_svf"):
            details.update(anaesthesia="local", anaesthesia_detail="Lidocaine 1% with adrenaline, 5 ml")
        elif rng.random() < 0.5:
            details.update(anaesthesia="topical", anaesthesia_detail="Lidocaine/prilocaine cream, 30 minutes")
        return details

    def harvest(self, modality, clinician, appointment):
        """Harvest at the start of the session; the lab receives, processes, checks and releases it."""
        from anagen.treatments.services import custody_record, sample_harvest

        ctx, rng = self.ctx, self.rng
        biopsy = modality.sample_kind == "biopsy"
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=5))):
            sample = sample_harvest(actor=clinician, patient=self.patient, kind=modality.sample_kind,
                                    biopsy_count=3 if biopsy else None, biopsy_diameter_mm="2.0" if biopsy else None,
                                    lipoaspirate_ml=None if biopsy else str(rng.randint(40, 90)),
                                    donor_site="Occipital scalp" if biopsy else "Lower abdomen")
        steps = [("received", {}, 10),
                 ("processed", {"processing_method": "Mechanical disaggregation in saline (closed cartridge)" if biopsy
                                else "Enzymatic digestion and centrifugation to the stromal vascular fraction"}, 25),
                 ("qc_passed", {"cell_count": rng.randint(800, 2500) * (1000 if biopsy else 10000),
                                "viability_pct": round(rng.uniform(82, 97), 1)}, 20),
                 ("released", {}, 5)]
        for step, details, minutes in steps:
            with ctx.act(ctx.lab, self.advance(self.t + timedelta(minutes=minutes))):
                custody_record(actor=ctx.lab, sample=sample, step=step, details=details)
        ctx.stats["samples"] += 1
        return sample

    def adverse_event(self, procedure, clinician, day: date) -> None:
        from anagen.treatments.services import adverse_event_record

        ctx, rng = self.ctx, self.rng
        events = [
            dict(description="Erythema and tenderness over the injected area", severity=1, relation="probable",
                 outcome="recovered", days=(1, 4)),
            dict(description="Headache the evening after the session", severity=1, relation="possible",
                 outcome="recovered", days=(0, 1)),
            dict(description="Folliculitis around two injection points", severity=2, relation="probable",
                 action="treated", action_detail="Topical fusidic acid for 7 days", outcome="recovered", days=(3, 10)),
            dict(description="Swelling of the forehead and eyelids", severity=2, relation="definite",
                 outcome="recovered", days=(2, 5)),
        ]
        if procedure.sample_id and rng.random() < 0.5:
            events.append(dict(description="Infection at the harvest site needing intravenous antibiotics",
                               severity=3, serious=True, relation="definite", action="hospitalised",
                               action_detail="Admitted overnight; intravenous flucloxacillin", outcome="recovered",
                               days=(7, 14)))
        e = dict(events[rng.randrange(len(events))])
        onset = day + timedelta(days=rng.randint(0, 3))
        lo, hi = e.pop("days")
        resolved = onset + timedelta(days=rng.randint(lo, hi))
        reported = _office(ctx, onset + timedelta(days=1))
        if reported >= ctx.present:
            return
        with ctx.act(clinician, self.advance(reported)):
            adverse_event_record(actor=clinician, patient=self.patient, procedure=procedure, onset_on=onset,
                                 resolved_on=resolved if resolved < ctx.today - timedelta(days=1) else None, **e)
        ctx.stats["adverse_events"] += 1
