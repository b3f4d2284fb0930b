"""Forms for the public inquiry pages and the inbox. Shape here; rules in the services."""

from __future__ import annotations

from django import forms

from anagen.core.widgets import IsoDateInput

from anagen.accounts.models import Clinic, Role, Room, User

from .rules import CONCERN_MAX


class InquiryForm(forms.Form):
    name = forms.CharField(required=False, label="Your name")
    email = forms.CharField(required=False, label="E-mail", widget=forms.EmailInput())
    phone = forms.CharField(required=False, label="Phone", widget=forms.TextInput(attrs={"type": "tel"}),
                            help_text="An e-mail address or a phone number (or both), so we can reply.")
    concern = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=f"Up to {CONCERN_MAX:,} characters.")
    consent_to_contact = forms.BooleanField(required=False,
                                            label="I agree that the clinic contacts me about this request.")
    # A field people never see (CSS class "honey"); bots fill it in.
    website = forms.CharField(required=False, label="Leave this field empty",
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == "question":
            self.fields["concern"].label = "Your question"
        else:
            self.fields["concern"].label = "Your hair loss and what you would like to discuss"
            choices = [("", "Choose…"), ("video", "Video consultation")]
            choices += [(str(c.pk), c.name) for c in Clinic.objects.filter(is_active=True)]
            self.fields["preferred_clinic"] = forms.ChoiceField(choices=choices, required=False,
                                                                label="Where would you like to meet?")
            self.fields["preferred_times"] = forms.CharField(
                required=False, label="Preferred days and times", widget=forms.Textarea(attrs={"rows": 2}),
                help_text="For example: weekday mornings, or Thursday after 5 pm.")
            self.order_fields(["name", "email", "phone", "concern", "preferred_clinic", "preferred_times",
                               "consent_to_contact", "website"])

    def clinic_and_video(self) -> tuple[Clinic | None, bool]:
        value = self.cleaned_data.get("preferred_clinic") or ""
        if value == "video":
            return None, True
        if value.isdigit():
            return Clinic.objects.filter(pk=int(value), is_active=True).first(), False
        return None, False


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=10000)


class CloseForm(forms.Form):
    reason = forms.CharField(required=False, max_length=200, label="Reason (optional)")


class ClinicianChoice(forms.ModelChoiceField):
    def label_from_instance(self, user):
        clinics = ", ".join(c.name for c in user.clinics.all())
        return f"{user.get_full_name() or user.email} ({clinics})"


class ConvertForm(forms.Form):
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80)
    date_of_birth = forms.DateField(required=False, widget=IsoDateInput(),
                                    input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), empty_label=None)
    clinician = ClinicianChoice(queryset=User.objects.none())
    starts_at = forms.DateTimeField(label="Date and time (clinic's local time)",
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"])
    mode = forms.ChoiceField(choices=[("in_person", "In person"), ("video", "Video")], widget=forms.RadioSelect,
                             label="Consultation")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, empty_label="From the clinician's hours",
                                  help_text="In person only; leave it to use the room named in the clinician's hours.")
    # Shown only when a possible duplicate was found; one choice, so the two answers exclude each other.
    duplicate_choice = forms.ChoiceField(
        required=False, widget=forms.RadioSelect, label="The record found",
        choices=[("existing", "Same person: book for the existing patient record"),
                 ("new", "A different person: register a new patient anyway")])
    existing_patient_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = Clinic.objects.filter(id__in=list(user.clinic_ids), is_active=True)
        self.fields["clinician"].queryset = (
            User.objects.filter(is_active=True, role_grants__role=Role.CLINICIAN, clinics__in=list(user.clinic_ids))
            .distinct().prefetch_related("clinics").order_by("last_name", "first_name"))
        self.fields["room"].queryset = Room.objects.filter(clinic_id__in=list(user.clinic_ids), is_active=True,
                                                           clinic__is_active=True).select_related("clinic")

    def clean(self):
        data = super().clean()
        clinic, clinician = data.get("clinic"), data.get("clinician")
        if clinic and clinician and not clinician.clinics.filter(pk=clinic.pk).exists():
            self.add_error("clinician", f"{clinician} does not work at {clinic.name}; choose a clinician of {clinic.name}.")
        if data.get("duplicate_choice") == "existing" and not data.get("existing_patient_id"):
            self.add_error("duplicate_choice", "There is no existing record to book for; submit the form again to "
                                               "look for one, or choose “A different person”.")
        return data

    @property
    def use_existing(self) -> bool:
        return self.cleaned_data.get("duplicate_choice") == "existing"

    @property
    def allow_duplicate(self) -> bool:
        return self.cleaned_data.get("duplicate_choice") == "new"


class SelfCheckForm(forms.Form):
    """The self-check questions (:mod:`anagen.screening.selfcheck`), every one optional.

    With ``hidden`` the answers travel as hidden fields with the consultation request, and are
    checked again when it is sent.
    """

    def __init__(self, *args, hidden: bool = False, **kwargs):
        from anagen.screening.selfcheck import QUESTIONS

        kwargs.setdefault("prefix", "sc")
        super().__init__(*args, **kwargs)
        for q in QUESTIONS:
            widget = forms.HiddenInput() if hidden else forms.RadioSelect()
            self.fields[q.id] = forms.ChoiceField(choices=[(c.value, c.label) for c in q.choices], required=False,
                                                  label=q.text, help_text=q.help, widget=widget)

    def answers(self) -> dict[str, str]:
        return {k: v for k, v in self.cleaned_data.items() if v}
