"""'Am I a candidate?': the practice's candidacy questions in plain words, for the public.

Django-free. Each question maps the visitor's answer to facts of the screening vocabulary
(:data:`anagen.screening.rules.FACTS`); :func:`run` puts those facts through the same rules a
clinician's screening uses and says, in plain words, what a consultation would look at. It never
says "candidate" or "not a candidate": it is not a diagnosis, and the clinician decides.

An answer "not sure" leaves its facts unknown, as an unrecorded fact is at a screening: a
contraindication on an unknown fact becomes "a clinician will ask about this", never a silent pass.
Age is asked as a range; the range stands for an age on the rules' side of each limit
(under 18, 18 to 69, 70 or over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rules import FACTS, evaluate_all, validate_rules


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    facts: dict  # fact name -> value; {} leaves the facts unknown


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    choices: tuple[Choice, ...]
    help: str = ""

    @property
    def facts(self) -> set[str]:
        return {name for c in self.choices for name in c.facts}


def _yes_no(fact: str | tuple[str, ...], yes: str = "Yes", no: str = "No") -> tuple[Choice, ...]:
    names = (fact,) if isinstance(fact, str) else fact
    return (Choice("yes", yes, {n: True for n in names}), Choice("no", no, {n: False for n in names}),
            Choice("unsure", "Not sure", {}))


QUESTIONS: tuple[Question, ...] = (
    Question("pattern", "What is happening to your hair?", (
        Choice("receding", "It is receding: the hairline or temples are moving back", {"pattern": "receding"}),
        Choice("thinning", "It is thinning: on top, at the crown or all over", {"pattern": "thinning"}),
        Choice("both", "Both receding and thinning", {"pattern": "receding_and_thinning"}),
        Choice("other", "Something else, such as patches or sudden shedding", {"pattern": "other"}),
        Choice("unsure", "Not sure", {}),
    )),
    Question("sex", "Which describes you?", (
        Choice("female", "A woman", {"sex": "female"}),
        Choice("male", "A man", {"sex": "male"}),
        Choice("other", "Another way", {"sex": "other"}),
        Choice("unsure", "I'd rather not say", {}),
    ), help="Some causes of hair loss, and some treatments, differ between women and men."),
    Question("age", "How old are you?", (
        Choice("under_18", "Under 18", {"age": 17}),
        Choice("18_69", "18 to 69", {"age": 40}),
        Choice("70_plus", "70 or over", {"age": 70}),
    )),
    Question("bald", "Is the area you most want to treat completely bald, with smooth skin and no hair at all?",
             _yes_no("target_area_bald")),
    Question("all_over", "Is your hair thinning evenly all over your head, rather than in one place?",
             _yes_no("generalized_thinning")),
    Question("traction", "Has your hair thinned at the edges after years of tight hairstyles, such as braids, "
                         "ponytails or extensions, while some hair is still there?", _yes_no("traction_area_thinning")),
    Question("told_no_transplant", "Have you been told you're not a good candidate for a hair transplant?",
             _yes_no("not_transplant_candidate")),
    Question("hesitant", "Would you rather not commit to a hair transplant at the moment?",
             _yes_no("hesitant_about_transplant")),
    Question("adjunct", "Have you had a hair transplant or PRP, and want something to support the result?",
             _yes_no("wants_adjunct_after_transplant_or_prp")),
    Question("infection", "Do you have a scalp infection, or a red, sore or inflamed scalp, at the moment?",
             _yes_no(("active_scalp_infection", "scalp_inflammation"))),
    Question("cancer", "Are you being treated for cancer at the moment?", _yes_no("cancer_under_treatment")),
    Question("pregnant", "Are you pregnant or breastfeeding?", (
        Choice("yes", "Yes", {"pregnant_or_breastfeeding": True}),
        Choice("no", "No, or this does not apply to me", {"pregnant_or_breastfeeding": False}),
        Choice("unsure", "Not sure", {}),
    )),
    Question("bleeding", "Do you have a bleeding disorder, such as haemophilia?", _yes_no("bleeding_disorder")),
    Question("blood_thinners", "Do you take blood thinners, such as warfarin, apixaban or rivaroxaban?",
             _yes_no("anticoagulants"), help="Daily low-dose aspirin counts too if a doctor prescribed it."),
    Question("autoimmune", "Do you have an autoimmune condition, such as lupus, psoriasis or alopecia areata?",
             _yes_no("autoimmune_disease")),
)
BY_ID = {q.id: q for q in QUESTIONS}

# What each rule of the practice's list means, written to the visitor. A rule without a line here
# (one added later on the rules page) shows its own description.
PLAIN: dict[str, str] = {
    "receding_or_thinning": "You're receding or thinning.",
    "female_pattern_hair_loss": "You're a woman whose hair is thinning in a pattern.",
    "traction_alopecia_thinning": "Tight hairstyles have thinned your hair, but the area still has hair.",
    "woman_generalized_thinning": "You're a woman whose hair is thinning all over.",
    "adjunct_after_transplant_or_prp": "You've had a transplant or PRP and want to support the result.",
    "not_transplant_candidate": "You've been told you're not a good candidate for a transplant.",
    "hesitant_about_transplant": "You'd rather not commit to a transplant.",
    "target_area_bald": "The area is completely bald: treatments that wake up thinning follicles need some "
                        "hair to still be there.",
    "active_scalp_infection": "A scalp infection needs treating first.",
    "scalp_inflammation": "An inflamed scalp needs to settle first.",
    "cancer_under_treatment": "Treatment for cancer comes first.",
    "pregnant_or_breastfeeding": "Injection treatments wait until after pregnancy and breastfeeding.",
    "bleeding_disorder": "A bleeding disorder matters because the treatments use injections.",
    "anticoagulants": "Blood thinners matter because the treatments use injections; never stop them "
                      "without your doctor.",
    "under_18": "The clinic treats adults.",
    "autoimmune_disease": "An autoimmune condition can affect hair and the choice of treatment.",
}


@dataclass(frozen=True)
class Outcome:
    """What the self-check tells the visitor, and what it attaches to a consultation request."""

    fits: tuple[str, ...]  # the practice's reasons that match the answers (indications)
    talk_about: tuple[str, ...]  # what the clinician would look at first (contraindications, reviews)
    ask_about: tuple[str, ...]  # questions answered "not sure" that a rule needs
    all_ruled_out: bool  # every treatment has a contraindication among the answers

    def to_dict(self) -> dict[str, Any]:
        return {"fits": list(self.fits), "talk_about": list(self.talk_about), "ask_about": list(self.ask_about),
                "all_ruled_out": self.all_ruled_out}


class AnswerError(ValueError):
    """An answer that is not one of the question's choices; ``field`` names the question."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def clean(answers: dict[str, Any]) -> dict[str, str]:
    """The answers given (question id -> choice value); unknown questions or choices raise AnswerError."""
    out: dict[str, str] = {}
    for qid, value in (answers or {}).items():
        question = BY_ID.get(qid)
        if question is None:
            raise AnswerError(qid, f"There is no question {qid!r}; the questions are {', '.join(BY_ID)}.")
        if value in (None, ""):
            continue
        if value not in {c.value for c in question.choices}:
            raise AnswerError(qid, f"Choose one of the answers to “{question.text}”.")
        out[qid] = value
    return out


def facts_of(answers: dict[str, str]) -> dict[str, Any]:
    """The screening facts the (cleaned) answers give; facts nobody answered are absent (unknown)."""
    facts: dict[str, Any] = {}
    for qid, value in answers.items():
        choice = next(c for c in BY_ID[qid].choices if c.value == value)
        facts.update(choice.facts)
    return facts


def _plain(reason) -> str:
    return PLAIN.get(reason.rule_id, reason.description)


def run(rules: list[dict], answers: dict[str, str]) -> Outcome:
    """Put the answers through ``rules`` (the active rule set) for every treatment; say what matters."""
    if validate_rules(rules):
        raise ValueError("the rule set does not validate")
    facts = facts_of(answers)
    decisions = evaluate_all(rules, facts)
    fits, talk, missing = [], [], set()
    for decision in decisions.values():
        for reason in decision.reasons:
            if reason.missing:
                missing.update(reason.missing)
            elif reason.effect == "indication":
                fits.append(_plain(reason))
            elif reason.rule_id != "no_indication":
                talk.append(_plain(reason))
    ask = [q.text for q in QUESTIONS if q.facts & missing]
    ruled_out = all(d.decision == "not_candidate" for d in decisions.values())
    return Outcome(fits=tuple(dict.fromkeys(fits)), talk_about=tuple(dict.fromkeys(talk)),
                   ask_about=tuple(dict.fromkeys(ask)), all_ruled_out=ruled_out)


def summary_lines(answers: dict[str, str]) -> list[tuple[str, str]]:
    """(question, answer) in plain words, in the order asked: for the clinician reading the request."""
    out = []
    for q in QUESTIONS:
        if q.id in answers:
            out.append((q.text, next(c.label for c in q.choices if c.value == answers[q.id])))
    return out


def _check_vocabulary() -> None:
    for q in QUESTIONS:
        for c in q.choices:
            unknown = set(c.facts) - set(FACTS)
            assert not unknown, f"self-check question {q.id} sets unknown facts {unknown}"


_check_vocabulary()
