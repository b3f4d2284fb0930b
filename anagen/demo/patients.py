"""Patients in the demo: names and addresses, and what the clinician records at the consultation
(diagnosis, staging, histories, consents, screening)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from anagen.demo.clock import LONDON, _office
from anagen.demo.context import DemoContext


# --- names ----------------------------------------------------------------------------------

MALE_FIRST = ["Oliver", "Jack", "Harry", "George", "Thomas", "James", "William", "Daniel", "Matthew", "Ryan",
              "Adam", "Luke", "Callum", "Connor", "Jamie", "Liam", "Nathan", "Ben", "Samuel", "Joseph", "Mohammed",
              "Imran", "Hassan", "Arjun", "Ravi", "Sanjay", "Kwame", "Tunde", "Chidi", "Marek", "Piotr", "Tomasz",
              "Sean", "Patrick", "Gareth", "Rhys", "Owen", "Craig", "Stuart", "Neil", "Gary", "Mark", "Paul",
              "Simon", "Andrew", "Stephen", "Richard", "David", "Michael", "Christopher", "Aaron", "Dean", "Lewis",
              "Kieran", "Rohan", "Yusuf", "Bilal", "Tariq", "Kofi", "Emeka"]
FEMALE_FIRST = ["Olivia", "Amelia", "Isla", "Emily", "Sophie", "Jessica", "Charlotte", "Hannah", "Lucy", "Grace",
                "Chloe", "Megan", "Rebecca", "Laura", "Sarah", "Emma", "Rachel", "Claire", "Nicola", "Joanne",
                "Karen", "Helen", "Amanda", "Louise", "Victoria", "Gemma", "Natalie", "Zara", "Aisha", "Fatima",
                "Amina", "Priya", "Anjali", "Simran", "Nadia", "Yasmin", "Ngozi", "Abena", "Chiamaka", "Precious",
                "Kezia", "Shanice", "Tia", "Keisha", "Agnieszka", "Magdalena", "Siobhan", "Niamh", "Ffion", "Bethan",
                "Kirsty", "Leanne", "Stacey", "Danielle", "Jade", "Rosie", "Eleanor", "Harriet", "Alice", "Maryam"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
              "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
              "Patel", "Khan", "Begum", "Ahmed", "Hussain", "Ali", "Singh", "Kaur", "Sharma", "Chauhan", "Mistry",
              "Okafor", "Adeyemi", "Mensah", "Boateng", "Campbell", "Francis", "Grant", "Reid", "Bailey", "Edwards",
              "Hughes", "Lewis", "Morgan", "Price", "Griffiths", "Lloyd", "Harris", "Martin", "Cooper", "Ward",
              "Turner", "Hill", "Moore", "King", "Baker", "Harrison", "Morris", "Bennett", "Cook", "Shaw", "Mason",
              "Holmes", "Parker", "Kennedy", "Murphy", "O'Brien", "Doyle", "Kowalski", "Nowak", "Wiśniewski",
              "Chen", "Wong", "Nguyen", "Osei", "Asante", "Bibi", "Iqbal", "Rahman", "Chowdhury", "Dhillon",
              "Sandhu", "Gill", "Fletcher", "Marsh", "Pearce", "Chapman", "Fox", "Lane", "Webb", "Barnes", "Knight"]
STREETS = {
    "birmingham": [("Harborne Road", "Birmingham", "B15 3"), ("Pershore Road", "Birmingham", "B30 2"),
                   ("Bristol Road", "Birmingham", "B29 6"), ("Soho Road", "Birmingham", "B21 9"),
                   ("Chester Road", "Sutton Coldfield", "B73 5"), ("Hagley Road", "Edgbaston", "B16 8"),
                   ("Stratford Road", "Sparkhill", "B11 4"), ("Alcester Road", "Moseley", "B13 8"),
                   ("Kings Road", "Kingstanding", "B44 0"), ("High Street", "Erdington", "B23 6")],
    "solihull": [("Warwick Road", "Solihull", "B91 1"), ("Lode Lane", "Solihull", "B92 8"),
                 ("Stratford Road", "Shirley", "B90 3"), ("High Street", "Knowle", "B93 0"),
                 ("Station Road", "Dorridge", "B93 8"), ("Coventry Road", "Sheldon", "B26 3"),
                 ("Streetsbrook Road", "Solihull", "B91 1"), ("Blossomfield Road", "Solihull", "B91 1"),
                 ("Hampton Lane", "Catherine-de-Barnes", "B92 0"), ("Kenilworth Road", "Balsall Common", "CV7 7")],
}
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class Person:
    first_name: str
    last_name: str
    sex: str
    date_of_birth: date
    email: str
    phone: str
    address: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _person(ctx: DemoContext, slug: str, sex: str, age: int, first_name: str = "", last_name: str = "") -> Person:
    rng = ctx.rng
    first = first_name or rng.choice(MALE_FIRST if sex == "male" else FEMALE_FIRST)
    last = last_name or rng.choice(LAST_NAMES)
    born = ctx.today - timedelta(days=int(age * 365.25) + rng.randrange(365))
    folded = unicodedata.normalize("NFKD", f"{first}.{last}".lower()).encode("ascii", "ignore").decode()
    local = "".join(c for c in folded if c.isalpha() or c == ".")
    email = f"{local}@example.com"
    n = 2
    while email in ctx.emails:
        email = f"{local}{n}@example.com"
        n += 1
    ctx.emails.add(email)
    if rng.random() < 0.08:
        email = ""  # some people give only a phone number
    phone = f"07700 900{ctx.phones.pop():03d}"
    street, town, district = rng.choice(STREETS[slug])
    postcode = f"{district}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
    address = f"{rng.randint(1, 240)} {street}, {town} {postcode}"
    return Person(first, last, sex, born, email, phone, address)


NORWOOD_TREATABLE = ["II", "III", "III vertex", "III vertex", "IV", "IV", "V"]


class PatientSteps:
    """The consultation and the clinical record of :class:`anagen.demo.stories.PatientRun`."""

    def consultation(self) -> bool:
        """Hold the consultation (after a cancellation or a no-show, perhaps). True when it took place."""
        ctx, rng, s = self.ctx, self.rng, self.s
        appointment = self.consult
        for attempt in range(3):
            if appointment is None or not self.is_past(appointment):
                return False  # booked in the coming weeks
            roll = rng.random() if not s.showcase and not s.modalities and attempt < 2 else 1.0
            if roll < 0.07:
                self.cancel(appointment, rng.choice(["Patient asked to move it (work).", "Patient unwell.",
                                                     "Clinician's list changed; patient rebooked."]))
                appointment = self.book(appointment.kind, (appointment.starts_at + timedelta(days=5)).date())
                continue
            if roll < 0.13:
                self.no_show(appointment)
                if rng.random() < 0.5:
                    return False
                appointment = self.book(appointment.kind, (self.t + timedelta(days=4)).date(),
                                        notes="Rebooked after a missed appointment.")
                continue
            self.complete(appointment)
            self.consult = appointment
            self.clinical_record(appointment)
            return True
        return False

    def clinical_record(self, appointment) -> None:
        """What the clinician records at the consultation: diagnosis, stage, histories, consents, screening."""
        from anagen.patients.services import (
            consent_record,
            hair_loss_history_update,
            medical_history_update,
            patient_update,
            prior_treatment_add,
            staging_record,
        )

        ctx, rng, s, patient = self.ctx, self.rng, self.s, self.patient
        clinician = appointment.clinician
        day = timezone.localtime(appointment.starts_at, LONDON).date()
        with ctx.act(clinician, self.advance(appointment.ends_at - timedelta(minutes=12))):
            if s.diagnosis:
                detail = {"traction": "From tight braids and extensions", "other": "Lichen planopilaris suspected"}
                patient_update(actor=clinician, patient=patient, diagnosis=s.diagnosis,
                               diagnosis_detail=detail.get(s.diagnosis, ""))
            scale, stage = self.stage()
            if scale:
                staging_record(actor=clinician, patient=patient, scale=scale, stage=stage, assessed_on=day,
                               notes="Assessed at the consultation" + (" from video" if appointment.is_video else ""))
            flags = {flag: False for flag in ("active_scalp_infection", "scalp_inflammation", "cancer_under_treatment",
                                              "pregnant_or_breastfeeding", "bleeding_disorder", "anticoagulants",
                                              "autoimmune_disease", "keloid_tendency")}
            meds = []
            if s.contraindication:
                flags[s.contraindication] = True
                meds.append({"anticoagulants": "Apixaban 5 mg twice daily", "autoimmune_disease": "Levothyroxine 75 µg",
                             "cancer_under_treatment": "Tamoxifen 20 mg"}.get(s.contraindication, ""))
            if rng.random() < 0.2:
                meds.append(rng.choice(["Ramipril 5 mg", "Sertraline 50 mg", "Atorvastatin 20 mg", "Metformin 500 mg",
                                        "Combined oral contraceptive" if s.sex == "female" else "Omeprazole 20 mg"]))
            allergies = rng.choice(["", "", "", "", "Penicillin", "Elastoplast", "Nuts"])
            medical_history_update(actor=clinician, patient=patient, medications="\n".join(m for m in meds if m),
                                   allergies=allergies, **flags)
            onset = max(patient.date_of_birth.year + 17, day.year - rng.randint(1, 12))
            hair_loss_history_update(
                actor=clinician, patient=patient, onset_year=min(onset, day.year),
                progression=rng.choice(["Slow, steady thinning", "Faster over the last year",
                                        "Stable for two years, worse again since last winter",
                                        "Sudden shedding after an illness"]),
                family_history=rng.choice([True, True, False, None]),
                pattern_notes={"male_aga": "Temporal recession and vertex thinning",
                               "female_aga": "Widening of the central parting, frontal hairline kept",
                               "traction": "Thinning at the temples and nape",
                               "telogen_effluvium": "Diffuse shedding, positive pull test",
                               "alopecia_areata": "Two well-defined patches, exclamation-mark hairs"}.get(s.diagnosis, ""))
            for _ in range(rng.choice([0, 0, 1, 1, 2]) if not s.showcase else 1):
                treatment = "minoxidil" if s.showcase else rng.choice(
                    ["minoxidil", "minoxidil", "finasteride", "prp", "transplant", "other"]
                    if s.sex == "male" else ["minoxidil", "minoxidil", "prp", "other"])
                started = max(day - timedelta(days=rng.randint(300, 2500)),
                              patient.date_of_birth + timedelta(days=17 * 365))
                if started > day - timedelta(days=60):
                    continue
                stopped = started + timedelta(days=rng.randint(90, 700))
                prior_treatment_add(actor=clinician, patient=patient, treatment=treatment, started_on=started,
                                    stopped_on=stopped if stopped < day else None,
                                    response=rng.choice(["good", "partial", "partial", "none", "unknown"]),
                                    notes={"other": "Biotin and a caffeine shampoo"}.get(treatment, ""))
            consents = ["photography", "contact"]
            if s.modalities or rng.random() < 0.5:
                consents.insert(0, "treatment")
            if s.showcase or rng.random() < 0.3:
                consents.append("research")
            for kind in consents:
                if kind == "contact" and patient.consents.filter(kind="contact", withdrawn_at__isnull=True).exists():
                    continue
                consent_record(actor=clinician, patient=patient, kind=kind, document_version=f"{kind} v3 2024-09")
                ctx.stats["consents"] += 1
        if s.diagnosis and (s.modalities or rng.random() < 0.85):
            self.screen(clinician)
        if rng.random() < 0.04 and not s.modalities:
            self.withdraw_a_consent()

    def stage(self) -> tuple[str, str]:
        rng, s = self.rng, self.s
        if s.diagnosis == "male_aga":
            if s.showcase:
                return "norwood", "III vertex"
            stages = NORWOOD_TREATABLE if s.modalities else NORWOOD_TREATABLE + ["VI", "VII"]
            return "norwood", rng.choice(stages)
        if s.diagnosis in ("female_aga", "traction") or (s.sex == "female" and s.diagnosis == ""):
            if rng.random() < 0.6:
                return "ludwig", rng.choice(["I", "I", "II", "II", "III"])
            return "sinclair", rng.choice(["2", "2", "3", "3", "4"])
        return "", ""

    def screen(self, clinician) -> None:
        from anagen.screening.services import screening_run

        rng, s = self.rng, self.s
        pattern = {"male_aga": rng.choice(["receding", "receding_and_thinning", "thinning"]),
                   "female_aga": "thinning", "traction": "receding"}.get(s.diagnosis, "other")
        answers = {
            "pattern": pattern,
            "target_area_bald": False if s.modalities else rng.random() < 0.08,
            "generalized_thinning": s.diagnosis == "female_aga",
            "traction_area_thinning": s.diagnosis == "traction",
            "hesitant_about_transplant": rng.random() < 0.4,
            "bmi": round(rng.uniform(20.5, 31.0) if s.modalities else rng.uniform(17.5, 37.0), 1),
        }
        with self.ctx.act(clinician, self.advance(self.t + timedelta(minutes=4))):
            results = screening_run(actor=clinician, patient=self.patient, answers=answers)
        self.screenings = {r.modality: r.decision for r in results}
        self.ctx.stats["screenings"] += 1

    def withdraw_a_consent(self) -> None:
        from anagen.patients.services import consent_withdraw

        consent = self.patient.consents.filter(kind__in=["research", "contact", "photography"]).first()
        when = self.t + timedelta(days=self.rng.randint(5, 60))
        if consent is None or when >= self.ctx.present:
            return
        with self.ctx.act(self.ctx.coordinator, self.advance(_office(self.ctx, when.date()))):
            consent_withdraw(actor=self.ctx.coordinator, consent=consent,
                             reason=self.rng.choice(["Patient asked by phone.", "Patient wrote to withdraw.",
                                                     "Withdrawn at the front desk."]))
        self.ctx.stats["consents_withdrawn"] += 1
