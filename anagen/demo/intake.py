"""Intake in the demo: the public's questions and consultation requests, converted or left in the inbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from anagen.demo.clock import HISTORY_WEEKS, _aware, _before_present, _office
from anagen.demo.context import DemoContext
from anagen.demo.patients import _person

CONCERNS = {
    "male_aga": ["My hairline has been receding for a few years and the crown is getting thin. What can you offer?",
                 "Thinning on top since my late twenties; I have tried minoxidil. Is stem-cell treatment an option?",
                 "I'd like to discuss alternatives to a transplant for my thinning crown."],
    "female_aga": ["My parting has widened over the last two years and I can see my scalp under bright lights.",
                   "Diffuse thinning on top since the menopause. I would like to know about PRP or exosomes.",
                   "My ponytail is half the thickness it used to be. Can you help?"],
    "traction": ["Years of tight braids have thinned my edges. Is it too late to regrow them?",
                 "Thinning at the temples from wearing my hair pulled back for work."],
    "telogen_effluvium": ["I have been shedding a lot of hair since an illness three months ago.",
                          "Lots of hair in the shower since I had my baby; should I be worried?"],
    "alopecia_areata": ["I have two round bald patches that appeared over a few weeks.",
                        "A coin-sized bald patch at the back of my head, my GP suggested a specialist."],
    "other": ["I'm not sure what is causing my hair loss and would like an assessment."],
}
QUESTIONS = ["How much does a PRP course cost, and how many sessions are needed?",
             "Do you offer finance for stem-cell treatments?",
             "Is the micrograft procedure painful, and how long is the recovery?",
             "Can I have exosome treatment while breastfeeding?",
             "How soon would I see results from PRP?",
             "Do you treat alopecia areata?",
             "Is there parking at the Solihull clinic?",
             "Can I combine exosomes with my finasteride?"]
ANSWERS = ["Thank you for your question. A course is usually three sessions a month apart; the price list is on our "
           "website and the free consultation includes a personalised quote.",
           "Thank you for getting in touch. The procedure is done under local anaesthetic and most people return to "
           "work the next day. We would be happy to explain more at a free consultation.",
           "Thanks for asking. Results are usually visible after three to six months; we measure hair density at "
           "each follow-up so you can see the change.",
           "Thank you. Yes, there is free parking behind the clinic, and step-free access."]
CLOSE_REASONS = ["Duplicate of an earlier request", "Chose another clinic", "No reply after two attempts to call",
                 "Asked about a service we do not offer"]


def _contact_time(ctx: DemoContext, day: date) -> datetime:
    # The public writes at any time of day; most between 7 am and 11 pm.
    minutes = ctx.rng.randrange(7 * 60, 23 * 60)
    return _aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


class IntakeSteps:
    """The first contact of :class:`anagen.demo.stories.PatientRun`: a web inquiry or a phone call."""

    def first_contact(self) -> None:
        from anagen.intake.services import client_hash, inquiry_answer, inquiry_convert, inquiry_submit
        from anagen.patients.services import patient_register

        ctx, s, rng = self.ctx, self.s, self.rng
        person = _person(ctx, s.slug, s.sex, s.age, s.first_name, s.last_name)
        self.person = person
        consult_kind = "video_consultation" if s.video else "free_consultation"
        if s.origin == "web":
            question = rng.random() < 0.2 and not s.showcase
            concern = rng.choice(QUESTIONS) if question else rng.choice(CONCERNS[s.diagnosis or "other"])
            with ctx.act(None, self.t):
                inquiry = inquiry_submit(
                    kind="question" if question else "consultation", name=person.full_name, email=person.email,
                    phone=person.phone, concern=concern, preferred_clinic=None if s.video else self.clinic,
                    prefers_video=s.video, preferred_times=rng.choice(["", "Weekday mornings", "After 3 pm",
                                                                      "Any time on Fridays"]),
                    consent_to_contact=True, client=client_hash(f"demo-{person.phone}"))
            ctx.stats["inquiries"] += 1
            reply = _office(ctx, (self.t + timedelta(days=rng.randint(1, 2))).date(), time(9), time(12))
            if question:
                with ctx.act(ctx.coordinator, self.advance(reply)):
                    inquiry_answer(actor=ctx.coordinator, inquiry=inquiry, answer=rng.choice(ANSWERS))
                reply = _office(ctx, (self.t + timedelta(days=rng.randint(1, 5))).date(), time(12), time(17))
            self.advance(reply)
            slot = ctx.diary.find(rng=rng, clinic=self.clinic, clinicians=ctx.clinicians_of(self.clinic),
                                  kind=consult_kind, minutes=ctx.durations[consult_kind],
                                  earliest=(self.t + timedelta(days=rng.randint(3, 14))).date())
            if slot is None:
                return
            with ctx.act(ctx.coordinator, self.t):
                self.patient, self.consult = inquiry_convert(
                    actor=ctx.coordinator, inquiry=inquiry, clinic=self.clinic, clinician=slot.clinician,
                    starts_at=slot.starts, video=s.video, first_name=person.first_name, last_name=person.last_name,
                    date_of_birth=person.date_of_birth)
            ctx.stats[f"appointment:{consult_kind}"] += 1
            ctx.stats["inquiries_converted"] += 1
            if self.patient.address != person.address:
                from anagen.patients.services import patient_update

                with ctx.act(ctx.coordinator, self.advance(self.t + timedelta(minutes=2))):
                    patient_update(actor=ctx.coordinator, patient=self.patient, address=person.address)
        else:
            call = _office(ctx, self.t.date())
            if call <= self.t:  # called in the evening: registered the next morning
                call = _office(ctx, self.t.date() + timedelta(days=1), time(9), time(11))
            self.advance(call)
            if self.t >= ctx.present:
                return
            with ctx.act(ctx.coordinator, self.t):
                self.patient = patient_register(actor=ctx.coordinator, clinic=self.clinic, first_name=person.first_name,
                                                last_name=person.last_name, date_of_birth=person.date_of_birth,
                                                sex=person.sex, email=person.email, phone=person.phone,
                                                address=person.address, allow_duplicate=True)
            self.consult = self.book(consult_kind, (self.t + timedelta(days=rng.randint(3, 14))).date(),
                                     notes="Booked by phone.")
        if self.patient.sex != s.sex:
            from anagen.patients.services import patient_update

            with ctx.act(ctx.coordinator, self.advance(self.t + timedelta(minutes=1))):
                patient_update(actor=ctx.coordinator, patient=self.patient, sex=s.sex)
        if s.showcase:
            ctx.showcase = self.patient
        ctx.stats["patients"] += 1


# --- inquiries that never became patients -----------------------------------------------------


def _open_inquiries(ctx: DemoContext, n: int) -> None:
    """Questions and requests in the inbox: some new, some answered, some closed."""
    from anagen.intake.models import Inquiry
    from anagen.intake.services import client_hash, inquiry_answer, inquiry_close, inquiry_submit

    rng = ctx.rng
    for i in range(n):
        recent = i < n * 0.4
        day = ctx.today - timedelta(days=rng.randint(1, 9) if recent else rng.randint(10, HISTORY_WEEKS * 7))
        sex = rng.choice(["male", "female"])
        slug = rng.choice(["birmingham", "solihull"])
        person = _person(ctx, slug, sex, rng.randint(22, 65))
        kind = "question" if rng.random() < 0.55 else "consultation"
        video = kind == "consultation" and rng.random() < 0.35
        diagnosis = "male_aga" if sex == "male" else rng.choice(["female_aga", "traction", "telogen_effluvium"])
        when = _contact_time(ctx, day)
        with ctx.act(None, when):
            inquiry = inquiry_submit(kind=kind, name=person.full_name, email=person.email, phone=person.phone,
                                     concern=rng.choice(QUESTIONS if kind == "question" else CONCERNS[diagnosis]),
                                     preferred_clinic=None if video else ctx.clinics[slug], prefers_video=video,
                                     consent_to_contact=True, client=client_hash(f"demo-open-{i}"))
        ctx.stats["inquiries"] += 1
        if recent and rng.random() < 0.8:
            continue  # new, waiting in the inbox
        reply = _before_present(ctx, _office(ctx, day + timedelta(days=rng.randint(1, 3))))
        if reply <= when:
            continue
        if kind == "question" and rng.random() < 0.75 and inquiry.email:
            with ctx.act(ctx.coordinator, reply):
                inquiry_answer(actor=ctx.coordinator, inquiry=inquiry, answer=rng.choice(ANSWERS))
            if rng.random() < 0.5:
                continue
            later = _before_present(ctx, reply + timedelta(days=rng.randint(3, 20)))
            if later <= reply:
                continue
            reply = later
        inquiry = Inquiry.objects.get(pk=inquiry.pk)
        with ctx.act(ctx.coordinator, reply):
            inquiry_close(actor=ctx.coordinator, inquiry=inquiry, reason=rng.choice(CLOSE_REASONS))
