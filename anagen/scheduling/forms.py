"""Forms for booking and moving appointments; the services hold the rules.

Date-times are entered in the clinic's local time: validate them inside
``timezone.override(clinic.tz)`` so the parsed value is aware in that zone.
"""

from __future__ import annotations

from django import forms

from anagen.core.widgets import IsoDateInput

from anagen.accounts.models import Clinic, Room, User
from anagen.patients.models import Patient

from .models import AppointmentKind, Weekday

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


def _local_datetime_field(**kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(input_formats=DATETIME_FORMATS,
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                               **kwargs)


class BookingForm(forms.Form):
    patient = _PersonChoice(queryset=Patient.objects.none(), empty_label="Choose a patient",
                            error_messages={"required": "Choose the patient.",
                                            "invalid_choice": "That patient is not registered at this clinic; choose one from the list."})
    clinician = _PersonChoice(queryset=User.objects.none(), empty_label="Choose a clinician",
                              error_messages={"required": "Choose the clinician.",
                                              "invalid_choice": "That clinician does not work at this clinic."})
    kind = forms.ChoiceField(choices=AppointmentKind.choices, error_messages={"required": "Choose the kind of appointment."})
    starts_at = _local_datetime_field(label="Starts at (clinic's local time)",
                                      error_messages={"required": "Give the date and time.",
                                                      "invalid": "Give the date and time as YYYY-MM-DD HH:MM."})
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, empty_label="From the clinician's hours",
                                  help_text="Leave empty for a video consultation, or to use the room of the clinician's hours.")
    duration_minutes = forms.IntegerField(required=False, min_value=5, max_value=480,
                                          help_text="Empty: the usual length for this kind.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                            help_text="Seen by staff only.")

    def __init__(self, *args, clinic: Clinic, patients, clinicians, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients
        self.fields["clinician"].queryset = clinicians
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True).order_by("name")
        if kinds is not None:
            self.fields["kind"].choices = [(k, AppointmentKind(k).label) for k in kinds]


class RescheduleForm(forms.Form):
    starts_at = _local_datetime_field(label="New start (clinic's local time)",
                                      error_messages={"required": "Give the new date and time.",
                                                      "invalid": "Give the date and time as YYYY-MM-DD HH:MM."})
    clinician = _PersonChoice(queryset=User.objects.none(), required=False, empty_label="Same clinician")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, empty_label="Same room")

    def __init__(self, *args, clinic: Clinic, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True).order_by("name")


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, error_messages={"required": "Give the reason for cancelling."},
                             widget=forms.TextInput())


class AvailabilityForm(forms.Form):
    clinician = _PersonChoice(queryset=User.objects.none(), empty_label="Choose a clinician")
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, empty_label="Any room")
    valid_from = forms.DateField(widget=IsoDateInput())
    valid_until = forms.DateField(required=False, widget=IsoDateInput())

    def __init__(self, *args, clinic: Clinic, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True).order_by("name")
