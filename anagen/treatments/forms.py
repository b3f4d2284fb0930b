"""Forms for the treatment pages. They only parse input; every rule is in the services."""

from __future__ import annotations

from django import forms

from anagen.core.widgets import IsoDateInput

from . import rules
from .models import AdverseEvent, Lot, Modality, PlanStatus, Procedure, ProductKind, SampleKind

DATE = IsoDateInput()  # what <input type=date> reads
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PlanForm(forms.Form):
    modalities = forms.ModelMultipleChoiceField(queryset=Modality.objects.filter(is_active=True),
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text="One treatment, or a combination.")
    start_on = forms.DateField(widget=DATE, label="First session")
    sessions = forms.IntegerField(required=False, min_value=1, max_value=rules.MAX_SESSIONS,
                                  help_text="Empty: the catalogue's typical number.")
    interval_days = forms.IntegerField(required=False, min_value=0, max_value=rules.MAX_INTERVAL_DAYS,
                                       label="Interval (days)", help_text="Empty: the catalogue's interval.")
    follow_up_weeks = forms.CharField(required=False, label="Follow-up assessments (weeks after the last session)",
                                      help_text="E.g. 4, 12, 23, 44, 58. Empty: the catalogue's schedule.")
    aftercare = forms.CharField(required=False, widget=forms.Textarea,
                                help_text="Empty: the catalogue's aftercare for the treatments chosen.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlanReviseForm(forms.Form):
    modalities = forms.ModelMultipleChoiceField(queryset=Modality.objects.filter(is_active=True),
                                                widget=forms.CheckboxSelectMultiple)
    start_on = forms.DateField(widget=DATE, label="First session")
    sessions = forms.IntegerField(min_value=1, max_value=rules.MAX_SESSIONS)
    interval_days = forms.IntegerField(min_value=0, max_value=rules.MAX_INTERVAL_DAYS, label="Interval (days)")
    follow_up_weeks = forms.CharField(required=False, label="Follow-up assessments (weeks after the last session)")
    aftercare = forms.CharField(required=False, widget=forms.Textarea)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(choices=PlanStatus.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason for the change",
                             help_text="Required: kept with the previous values in the plan's history.")


class ConfirmForm(forms.Form):
    starts_at = forms.DateTimeField(widget=DATETIME, label="Date and time",
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    room = forms.ModelChoiceField(queryset=None, required=False, empty_label="Clinician's usual room")

    def __init__(self, *args, clinic=None, **kwargs):
        super().__init__(*args, **kwargs)
        from anagen.accounts.models import Room

        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True) if clinic else Room.objects.none()


class ProcedureForm(forms.Form):
    modality = forms.ModelChoiceField(queryset=Modality.objects.filter(is_active=True), label="Treatment")
    plan = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not part of a plan")
    performed_on = forms.DateField(widget=DATE, label="Date")
    delivery = forms.ChoiceField(choices=Procedure.Delivery.choices)
    anaesthesia = forms.ChoiceField(choices=Procedure.Anaesthesia.choices)
    anaesthesia_detail = forms.CharField(required=False, max_length=200, label="Anaesthetic and dose")
    device = forms.CharField(required=False, max_length=120)
    needle = forms.CharField(required=False, max_length=60, label="Needle (gauge and length)")
    microneedling_depth_mm = forms.DecimalField(required=False, min_value=0, max_value=5, decimal_places=2,
                                                label="Micro-needling depth (mm)")
    sample = forms.ModelChoiceField(queryset=None, required=False, empty_label="No autologous sample",
                                    help_text="Only this patient's released samples are listed.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    LOT_ROWS = 3

    def __init__(self, *args, plans=None, samples=None, lots=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans if plans is not None else Modality.objects.none()
        self.fields["sample"].queryset = samples if samples is not None else Modality.objects.none()
        for i in range(1, self.LOT_ROWS + 1):
            self.fields[f"lot_{i}"] = forms.ModelChoiceField(queryset=lots if lots is not None else Lot.objects.none(),
                                                             required=False, label=f"Product lot {i}",
                                                             empty_label="—")
            self.fields[f"quantity_{i}"] = forms.DecimalField(required=False, min_value=0, decimal_places=2,
                                                              label=f"Quantity {i}")

    def lots(self) -> list:
        out = []
        for i in range(1, self.LOT_ROWS + 1):
            lot = self.cleaned_data.get(f"lot_{i}")
            qty = self.cleaned_data.get(f"quantity_{i}")
            if lot is not None:
                out.append((lot, qty))
            elif qty:
                self.add_error(f"lot_{i}", "Choose the lot the quantity was taken from.")
        return out


def zones_from_post(data) -> dict[str, str]:
    """Zones ticked on the map (or given a volume) -> their volume as typed."""
    zones = {}
    for code in rules.ZONE_CODES:
        volume = (data.get(f"volume_{code}") or "").strip()
        if data.get(f"zone_{code}") or volume:
            zones[code] = volume
    return zones


class AdverseEventForm(forms.ModelForm):
    class Meta:
        model = AdverseEvent
        fields = ["procedure", "description", "onset_on", "severity", "serious", "relation", "action",
                  "action_detail", "outcome", "resolved_on"]
        widgets = {"onset_on": DATE, "resolved_on": DATE, "description": forms.Textarea(attrs={"rows": 3}),
                   "action_detail": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, procedures=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].queryset = procedures if procedures is not None else Procedure.objects.none()
        self.fields["procedure"].required = False


class ProductForm(forms.Form):
    name = forms.CharField(max_length=120)
    manufacturer = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ProductKind.choices)
    unit = forms.CharField(max_length=20, initial="ml", help_text="ml, vial, kit, tablet…")


class LotForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None)
    clinic = forms.ModelChoiceField(queryset=None)
    lot_number = forms.CharField(max_length=60)
    expires_on = forms.DateField(widget=DATE, label="Expiry date")
    quantity = forms.DecimalField(min_value=0, decimal_places=2, label="Quantity received")

    def __init__(self, *args, products=None, clinics=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products
        self.fields["clinic"].queryset = clinics


class RecallForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason for the recall")


class HarvestForm(forms.Form):
    kind = forms.ChoiceField(choices=SampleKind.choices)
    harvested_at = forms.DateTimeField(widget=DATETIME, required=False, label="Harvested at",
                                       input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                       help_text="Empty: now.")
    biopsy_count = forms.IntegerField(required=False, min_value=1, max_value=20, label="Number of biopsies")
    biopsy_diameter_mm = forms.DecimalField(required=False, decimal_places=1, label="Punch diameter (mm)",
                                            initial=2)
    lipoaspirate_ml = forms.DecimalField(required=False, decimal_places=1, label="Lipoaspirate volume (ml)")
    donor_site = forms.CharField(required=False, max_length=80, initial="Occipital scalp")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CustodyForm(forms.Form):
    step = forms.ChoiceField(choices=[])
    at = forms.DateTimeField(widget=DATETIME, required=False, label="When", help_text="Empty: now.",
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    processing_method = forms.CharField(required=False, max_length=200,
                                        help_text="For processing: e.g. mechanical disaggregation in saline.")
    passage = forms.IntegerField(required=False, min_value=0, max_value=50, label="Culture passage")
    cell_count = forms.IntegerField(required=False, min_value=0, label="Cell count")
    viability_pct = forms.FloatField(required=False, min_value=0, max_value=100, label="Viability %")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Required for a discard: say why.")

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = [(s, rules.STATUS_LABELS[s]) for s in steps]

    def details(self) -> dict:
        d = self.cleaned_data
        return {k: d.get(k) for k in ("processing_method", "passage", "cell_count", "viability_pct")
                if d.get(k) not in (None, "")}
