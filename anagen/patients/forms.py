"""Forms for the patient pages. They check shape; the services check the rules."""

from __future__ import annotations

from django import forms

from anagen.core.widgets import IsoDateInput

from . import rules
from .models import ConsentKind, Diagnosis, MedicalHistory, PriorTreatmentKind, Sex, StagingScale, TreatmentResponse

DATE_INPUT = IsoDateInput()
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80)
    date_of_birth = forms.DateField(required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS,
                                    help_text="YYYY-MM-DD or DD/MM/YYYY.")
    sex = forms.ChoiceField(choices=Sex.choices, initial=Sex.UNKNOWN)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=32, required=False, widget=forms.TextInput(attrs={"type": "tel"}),
                            help_text="Any spacing; national numbers are read as UK (+44).")
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def clean_phone(self):
        try:
            return rules.normalize_phone(self.cleaned_data["phone"])
        except rules.PhoneError as exc:
            raise forms.ValidationError(str(exc)) from None


class RegisterForm(ContactForm):
    clinic = forms.ModelChoiceField(queryset=None, empty_label=None)
    allow_duplicate = forms.BooleanField(required=False, label="Register anyway",
                                         help_text="Tick only when you have checked that this is a different person.")

    def __init__(self, *args, clinics=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        order = ["clinic", *[f for f in self.fields if f != "clinic"]]
        self.order_fields(order)


class EditContactForm(ContactForm):
    allow_duplicate = forms.BooleanField(required=False, label="Save anyway",
                                         help_text="Tick only when you have checked that this is a different person.")


class DiagnosisForm(forms.Form):
    diagnosis = forms.ChoiceField(choices=Diagnosis.choices, required=False)
    diagnosis_detail = forms.CharField(max_length=200, required=False, label="Detail")


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices)
    document_version = forms.CharField(max_length=40, help_text="The version printed on the signed form, e.g. v3 2025-01.")


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.TextInput())


class StagingForm(forms.Form):
    scale = forms.ChoiceField(choices=StagingScale.choices)
    stage = forms.ChoiceField(choices=[(s, s) for s in dict.fromkeys(st for v in rules.STAGES.values() for st in v)],
                              help_text="Norwood I–VII (with III vertex), Ludwig I–III, Sinclair 1–5.")
    assessed_on = forms.DateField(widget=DATE_INPUT, input_formats=DATE_FORMATS)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class MedicalHistoryForm(forms.Form):
    medications = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    allergies = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flag in MedicalHistory.FLAGS:
            self.fields[flag] = forms.BooleanField(required=False, label=flag.replace("_", " ").capitalize())
        self.order_fields([*MedicalHistory.FLAGS, "medications", "allergies", "notes"])


class HairLossHistoryForm(forms.Form):
    onset_year = forms.IntegerField(required=False, min_value=1900, max_value=2200)
    progression = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    family_history = forms.NullBooleanField(required=False, widget=forms.Select(
        choices=[("unknown", "Not known"), ("true", "Yes"), ("false", "No")]))
    pattern_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class PriorTreatmentForm(forms.Form):
    treatment = forms.ChoiceField(choices=PriorTreatmentKind.choices)
    started_on = forms.DateField(required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS)
    stopped_on = forms.DateField(required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS,
                                 help_text="Leave empty while still taking it.")
    response = forms.ChoiceField(choices=TreatmentResponse.choices, initial=TreatmentResponse.UNKNOWN)
    notes = forms.CharField(required=False, max_length=5000)


def apply_action_error(form: forms.Form, exc) -> None:
    """Show a service's ActionError next to its field (or at the top of the form)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
