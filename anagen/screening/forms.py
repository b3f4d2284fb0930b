"""The screening questionnaire and the rules editor."""

from __future__ import annotations

import json

from django import forms

from .facts import CONTRAINDICATION_FLAGS, QUESTIONS
from .models import Modality
from .rules import FACTS

YES_NO = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]
PATTERN_CHOICES = [("", "Not recorded"), ("receding", "Receding"), ("thinning", "Thinning"),
                   ("receding_and_thinning", "Receding and thinning"), ("other", "Other")]

QUESTION_HELP = {
    "target_area_bald": "Completely bald, no follicles left where treatment would go.",
    "traction_area_thinning": "For traction alopecia: is the area thinning rather than bald?",
    "bmi": "Matters for adipose-derived cells (liposuction harvest).",
    "pregnant_or_breastfeeding": "Confirm with the patient on the day.",
    "anticoagulants": "Answer no only once the prescriber has agreed to pause them.",
}


def _to_answer(kind: str, value):
    if value in (None, ""):
        return None
    if kind == "bool":
        return value == "yes"
    return value


def _from_answer(kind: str, value):
    if value is None:
        return ""
    if kind == "bool":
        return "yes" if value else "no"
    return value


class ScreeningForm(forms.Form):
    """The questionnaire; yes/no questions have a third answer, "not recorded"."""

    modalities = forms.MultipleChoiceField(choices=Modality.choices, widget=forms.CheckboxSelectMultiple,
                                           initial=list(Modality.values),
                                           help_text="Which treatments to screen for.")
    pattern = forms.ChoiceField(choices=PATTERN_CHOICES, required=False, label="Pattern of loss")
    bmi = forms.DecimalField(required=False, min_value=10, max_value=80, decimal_places=1, label="BMI (kg/m²)")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, initial_answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kind in QUESTIONS.items():
            if kind == "bool":
                self.fields[name] = forms.ChoiceField(choices=YES_NO, required=False, label=FACTS[name].label,
                                                      widget=forms.RadioSelect)
            if name in QUESTION_HELP:
                self.fields[name].help_text = QUESTION_HELP[name]
        for name, value in (initial_answers or {}).items():
            if name in self.fields:
                self.initial[name] = _from_answer(QUESTIONS[name], value)

    def answers(self) -> dict:
        data = self.cleaned_data
        out = {}
        for name, kind in QUESTIONS.items():
            value = _to_answer(kind, data.get(name))
            if kind == "number" and value is not None:
                value = float(value)
            out[name] = value
        return out

    def questionnaire_fields(self):
        return [self[n] for n in QUESTIONS if n not in CONTRAINDICATION_FLAGS]

    def contraindication_fields(self):
        return [self[n] for n in CONTRAINDICATION_FLAGS]


class RulesForm(forms.Form):
    rules = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "mono"}),
                            help_text="A JSON list of rules; see the fact vocabulary below.")
    note = forms.CharField(required=False, max_length=2000, label="What changed and why",
                           widget=forms.TextInput(attrs={"size": 80}))

    @staticmethod
    def dump(rules) -> str:
        return json.dumps(rules, indent=2, ensure_ascii=False)
