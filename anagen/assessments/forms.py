"""Forms of the assessment pages. They only parse input; the services decide."""

from __future__ import annotations

from django import forms

from anagen.core.widgets import IsoDateInput
from django.utils import timezone

from .models import GLOBAL_SCALE, ImageKind, PhotoView

GLOBAL_CHOICES = [("", "Not assessed")] + [(str(v), label) for v, label in GLOBAL_SCALE]


def engine_profile_choices() -> list[tuple[str, str]]:
    try:
        from anagen.trichoscopy import list_profiles

        names = list_profiles()
    except Exception:  # the engine cannot be imported: offer the default only
        names = ["default"]
    return [(n, n) for n in names]


def _optional_int(value):
    return None if value in (None, "") else int(value)


class VisitForm(forms.Form):
    visit_date = forms.DateField(initial=timezone.localdate, widget=IsoDateInput())
    is_baseline = forms.BooleanField(required=False, label="Baseline visit (before the first session)")
    weeks_after_last_session = forms.IntegerField(required=False, min_value=0, label="Weeks after the last session")
    appointment = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[],
                                         label="Follow-up appointment")
    plan = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[], label="Treatment plan",
                                  help_text="Left empty, the plan of the latest procedure.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, appointments=(), plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", "—")] + [(p.pk, f"Plan from {p.start_on:%d/%m/%Y} ({p.get_status_display()})")
                                                    for p in plans]
        self.fields["weeks_after_last_session"].help_text = "Left empty, counted from the latest procedure."
        self.fields["appointment"].choices = [("", "None")] + [
            (a.pk, f"{timezone.localtime(a.starts_at):%d/%m/%Y %H:%M} · {a.get_kind_display()}") for a in appointments]


class GlobalAssessmentForm(forms.Form):
    investigator_global = forms.TypedChoiceField(choices=GLOBAL_CHOICES, coerce=int, empty_value=None, required=False,
                                                 label="Investigator global assessment")
    patient_global = forms.TypedChoiceField(choices=GLOBAL_CHOICES, coerce=int, empty_value=None, required=False,
                                            label="Patient global assessment")
    weeks_after_last_session = forms.IntegerField(required=False, min_value=0, label="Weeks after the last session")
    adverse_events_since_last_visit = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                                      label="Adverse events since the last visit")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PhotoUploadForm(forms.Form):
    view = forms.ChoiceField(choices=PhotoView.choices)
    file = forms.FileField(label="Photograph (JPEG, PNG or TIFF)",
                           widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/tiff"}))


class ImageUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImageKind.choices, initial=ImageKind.TARGET)
    device_profile = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[],
                                            label="Dermoscope")
    file = forms.FileField(label="Dermoscope image (JPEG, PNG or TIFF)",
                           widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/tiff"}))

    def __init__(self, *args, devices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device_profile"].choices = [("", "Clinic default")] + [(d.pk, str(d)) for d in devices]


class CorrectionForm(forms.Form):
    removed = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=[], label="Remove these hairs",
                                             widget=forms.CheckboxSelectMultiple)
    added = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
                            label="Add hairs", help_text="One hair per line: x0,y0,x1,y1 in image pixels "
                                                         "(or click its two ends on the overlay).")
    confirm_reason = forms.CharField(required=False, max_length=500, label="Reason for a large change",
                                     help_text="Needed only when the correction changes the count implausibly "
                                               "(more than doubles or halves it, or more hairs than the field "
                                               "can hold).")

    def __init__(self, *args, hair_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["removed"].choices = [(i, f"#{i}") for i in hair_ids]
