"""Forms for the study pages. Arms and visits are typed one per line; the criteria as JSON rules
(the screening rule language) with age and sex bounds in their own fields."""

from __future__ import annotations

import json

from django import forms

from anagen.core.widgets import IsoDateInput

from anagen.accounts.models import Clinic, Role, User

from .eligibility import SEXES
from .models import FACTORS, Algorithm, Design, SignatureMeaning, StudyRole, SubjectStatus


def _arms_text(arms) -> str:
    return "\n".join(f"{a['code']} | {a['name']} | {'placebo' if a['is_placebo'] else 'active'} | {a['ratio']}"
                     for a in arms)


def _visits_text(visits) -> str:
    return "\n".join(f"{v['code']} | {v['label']} | {v['week']} | {v['window_days']}" for v in visits)


class StudyForm(forms.Form):
    title = forms.CharField(max_length=200)
    registry_id = forms.CharField(max_length=60, required=False, label="Registry id")
    sponsor = forms.CharField(max_length=200, required=False)
    principal_investigator = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    sites = forms.ModelMultipleChoiceField(queryset=Clinic.objects.none(), widget=forms.CheckboxSelectMultiple)
    design = forms.ChoiceField(choices=Design.choices)
    arms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="One arm per line: code | name | active or placebo | ratio")
    target_enrolment = forms.IntegerField(min_value=0, max_value=100000, initial=0)
    research_consent_version = forms.CharField(max_length=40, required=False,
                                               help_text="The research consent form version subjects must have signed.")
    age_min_years = forms.IntegerField(min_value=0, max_value=120, required=False, label="Minimum age (years)")
    age_max_years = forms.IntegerField(min_value=0, max_value=120, required=False, label="Maximum age (years)")
    sexes = forms.MultipleChoiceField(choices=[(s, s) for s in SEXES], initial=list(SEXES),
                                      widget=forms.CheckboxSelectMultiple)
    criteria_rules = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, initial="[]",
                                     label="Criteria (screening rules, JSON)",
                                     help_text="effect \"indication\" = inclusion, \"contraindication\" = exclusion, "
                                               "\"review\" = to confirm; \"modalities\": \"all\".")
    primary_endpoint = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    secondary_endpoints = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                          help_text="One per line.")
    visits = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}),
                             help_text="One visit per line: code | label | week | window (± days)")
    algorithm = forms.ChoiceField(choices=Algorithm.choices)
    block_multiples = forms.CharField(required=False, initial="1, 2",
                                      help_text="Block size = sum of the ratio × one of these, drawn at random.")
    strata_factors = forms.MultipleChoiceField(choices=list(FACTORS.items()), required=False,
                                               widget=forms.CheckboxSelectMultiple)
    minimization_factors = forms.MultipleChoiceField(choices=list(FACTORS.items()), required=False,
                                                     widget=forms.CheckboxSelectMultiple)
    p_best = forms.FloatField(min_value=0.01, max_value=1.0, initial=0.8, label="p_best (minimization)")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        clinics = Clinic.objects.filter(pk__in=list(user.clinic_ids)) if user else Clinic.objects.none()
        self.fields["sites"].queryset = clinics
        self.fields["principal_investigator"].queryset = (
            User.objects.filter(role_grants__role=Role.CLINICIAN, clinics__in=clinics, is_active=True).distinct())

    @classmethod
    def initial_for(cls, study=None) -> dict:
        from .services import DEFAULT_VISITS, protocol_content

        if study is None:
            return {"visits": _visits_text(DEFAULT_VISITS), "arms": "A | Active | active | 1\nP | Placebo | placebo | 1",
                    "algorithm": Algorithm.PERMUTED_BLOCKS}
        c = protocol_content(study)
        r = c["randomization"]
        return {
            "title": c["title"], "registry_id": c["registry_id"], "sponsor": c["sponsor"],
            "principal_investigator": study.principal_investigator_id, "sites": [s["id"] for s in c["sites"]],
            "design": c["design"], "arms": _arms_text(c["arms"]), "target_enrolment": c["target_enrolment"],
            "research_consent_version": c["research_consent_version"],
            "age_min_years": c["criteria"].get("age_min_years"), "age_max_years": c["criteria"].get("age_max_years"),
            "sexes": c["criteria"].get("sexes") or list(SEXES),
            "criteria_rules": json.dumps(c["criteria"].get("rules") or [], indent=2, ensure_ascii=False),
            "primary_endpoint": c["primary_endpoint"], "secondary_endpoints": "\n".join(c["secondary_endpoints"]),
            "visits": _visits_text(c["visits"]), "algorithm": r["algorithm"],
            "block_multiples": ", ".join(str(m) for m in r["block_multiples"]),
            "strata_factors": r["strata_factors"], "minimization_factors": r["minimization_factors"],
            "p_best": r["p_best"],
        }

    def clean_arms(self):
        arms = []
        for n, line in enumerate(l for l in self.cleaned_data["arms"].splitlines() if l.strip()):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 2:
                raise forms.ValidationError(f"Line {n + 1}: write code | name | active or placebo | ratio.")
            kind = parts[2].lower() if len(parts) > 2 and parts[2] else "active"
            if kind not in ("active", "placebo"):
                raise forms.ValidationError(f"Line {n + 1}: the third part is 'active' or 'placebo'.")
            try:
                ratio = int(parts[3]) if len(parts) > 3 and parts[3] else 1
            except ValueError:
                raise forms.ValidationError(f"Line {n + 1}: the ratio is a whole number.") from None
            arms.append({"code": parts[0], "name": parts[1], "is_placebo": kind == "placebo", "ratio": ratio})
        return arms

    def clean_visits(self):
        visits = []
        for n, line in enumerate(l for l in self.cleaned_data["visits"].splitlines() if l.strip()):
            parts = [p.strip() for p in line.split("|")]
            try:
                code, label, week, window = parts[0], parts[1], int(parts[2]), int(parts[3])
            except (IndexError, ValueError):
                raise forms.ValidationError(f"Line {n + 1}: write code | label | week | window in days.") from None
            visits.append({"code": code, "label": label, "week": week, "window_days": window})
        return visits

    def clean_criteria_rules(self):
        text = self.cleaned_data["criteria_rules"].strip() or "[]"
        try:
            rules = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
        if not isinstance(rules, list):
            raise forms.ValidationError("Give the criteria as a JSON list of rules.")
        return rules

    def clean_block_multiples(self):
        text = self.cleaned_data["block_multiples"].strip()
        try:
            return [int(x) for x in text.replace(" ", "").split(",") if x] or [1, 2]
        except ValueError:
            raise forms.ValidationError("Write whole numbers separated by commas, e.g. 1, 2.") from None

    def protocol(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"], "registry_id": d["registry_id"], "sponsor": d["sponsor"],
            "principal_investigator": d["principal_investigator"], "sites": list(d["sites"]), "design": d["design"],
            "arms": d["arms"], "target_enrolment": d["target_enrolment"],
            "research_consent_version": d["research_consent_version"],
            "criteria": {"rules": d["criteria_rules"], "age_min_years": d["age_min_years"],
                         "age_max_years": d["age_max_years"], "sexes": d["sexes"]},
            "primary_endpoint": d["primary_endpoint"],
            "secondary_endpoints": [l.strip() for l in d["secondary_endpoints"].splitlines() if l.strip()],
            "visits": d["visits"], "algorithm": d["algorithm"], "block_multiples": d["block_multiples"],
            "strata_factors": d["strata_factors"], "minimization_factors": d["minimization_factors"],
            "p_best": d["p_best"],
        }


class SignForm(forms.Form):
    meaning = forms.ChoiceField(choices=SignatureMeaning.choices, widget=forms.RadioSelect)
    password = forms.CharField(widget=forms.PasswordInput, label="Your password",
                               help_text="Re-enter your password to sign.")


class AmendForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reason for the amendment")


class MemberForm(forms.Form):
    email = forms.EmailField(label="Staff e-mail")
    role = forms.ChoiceField(choices=StudyRole.choices)


class EndForm(forms.Form):
    prefix = "end"  # shares the subject page with the code-break form
    status = forms.ChoiceField(choices=[(SubjectStatus.WITHDRAWN, "Withdrawn"),
                                        (SubjectStatus.LOST, "Lost to follow-up")])
    on = forms.DateField(label="Date", widget=IsoDateInput())
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class CodeBreakForm(forms.Form):
    prefix = "code_break"
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             label="Emergency that needs the assignment")


class DeviationForm(forms.Form):
    prefix = "deviation"
    category = forms.ChoiceField(choices=[])
    visit_code = forms.ChoiceField(label="Visit (if any)", required=False, choices=[])
    occurred_on = forms.DateField(label="Date it happened", required=False, widget=IsoDateInput())
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    reveals_allocation = forms.BooleanField(
        required=False, label="The details would reveal the allocation (shown to unblinded members only)")

    def __init__(self, *args, visits=(), **kwargs):
        from .models import DETECTED_CATEGORIES, DeviationCategory

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.value, c.label) for c in DeviationCategory
                                           if c not in DETECTED_CATEGORIES]
        self.fields["visit_code"].choices = [("", "-")] + [(v["code"], v.get("label") or v["code"]) for v in visits]


class DeviationCloseForm(forms.Form):
    note = forms.CharField(label="How it was handled", widget=forms.Textarea(attrs={"rows": 2}))


# --- treatment and placebo delivery (issue item 5) -------------------------------------------------


class StudyLotForm(forms.Form):
    prefix = "study_lot"
    lot = forms.ModelChoiceField(queryset=None, label="Lot (stock of a study site)")
    arm = forms.ChoiceField(choices=[], label="Arm it is set aside for")

    def __init__(self, *args, lots, arms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots
        self.fields["arm"].choices = [(a.code, str(a)) for a in arms]


class PreparationForm(forms.Form):
    """The unblinded preparer's form: the visit, the treatment, and per syringe a lot (or, on the
    active side of a treatment that implants the patient's own material, the subject's released
    sample) and a volume."""

    prefix = "prep"
    visit_code = forms.ChoiceField(choices=[], label="Visit")
    modality = forms.ModelChoiceField(queryset=None, label="Treatment recorded on the procedure")

    def __init__(self, *args, visits, modalities, study_lots, sides, side_arms, samples=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit_code"].choices = visits
        self.fields["modality"].queryset = modalities
        self.sides = sides
        for side in sides:
            arm = side_arms[side]
            where = f"side {side}" if side else "the syringe"
            key = side or "X"
            own_sample = samples is not None and samples.exists() and not arm.is_placebo
            self.fields[f"lot_{key}"] = forms.ModelChoiceField(
                queryset=study_lots.filter(arm=arm), label=f"Lot for {where} ({arm})", required=not own_sample,
                help_text=f"{where[0].upper()}{where[1:]} gets {arm.name}.")
            if own_sample:
                self.fields[f"sample_{key}"] = forms.ModelChoiceField(
                    queryset=samples, required=False, label=f"Or the subject's own sample for {where}",
                    help_text="For a treatment that implants the patient's own material (e.g. a micrograft "
                              "suspension): the released sample this syringe is filled from; leave the lot empty.")
            self.fields[f"quantity_{key}"] = forms.DecimalField(
                min_value=0, max_digits=8, decimal_places=2, label=f"Volume for {where} (ml)")

    def syringes(self) -> dict:
        d = self.cleaned_data
        out = {}
        for side in self.sides:
            key = side or "X"
            sample = d.get(f"sample_{key}")
            study_lot = d.get(f"lot_{key}")
            out[side] = (sample or (study_lot.lot if study_lot else None), d[f"quantity_{key}"])
        return out


class DiscardForm(forms.Form):
    """The unblinded preparer discards one spoiled syringe, saying why."""

    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="What happened to it (for example 'dropped on the floor'). Shown to the "
                                       "study's unblinded members only.")

    def __init__(self, *args, side: str, **kwargs):
        kwargs.setdefault("prefix", f"discard_{side or 'X'}")
        super().__init__(*args, **kwargs)


class RefillForm(forms.Form):
    """The unblinded preparer fills a new syringe for a side whose syringe was discarded."""

    lot = forms.ModelChoiceField(queryset=None)
    quantity = forms.DecimalField(min_value=0, max_digits=8, decimal_places=2, label="Volume (ml)")

    def __init__(self, *args, side: str, arm, study_lots, **kwargs):
        kwargs.setdefault("prefix", f"refill_{side or 'X'}")
        super().__init__(*args, **kwargs)
        where = f"side {side}" if side else "the syringe"
        self.fields["lot"].queryset = study_lots.filter(arm=arm)
        self.fields["lot"].label = f"Lot for {where} ({arm})"


class InjectionForm(forms.Form):
    """The blinded injector's form for one labelled syringe: the procedure record's fields."""

    performed_on = forms.DateField(widget=IsoDateInput, label="Date given")
    anaesthesia = forms.ChoiceField(choices=[])
    anaesthesia_detail = forms.CharField(max_length=200, required=False)
    needle = forms.CharField(max_length=60, required=False, label="Needle (gauge and length)")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, side: str, **kwargs):
        from anagen.treatments.models import Procedure
        from anagen.treatments.rules import ZONES

        kwargs.setdefault("prefix", f"inject_{side or 'X'}")
        super().__init__(*args, **kwargs)
        self.fields["anaesthesia"].choices = Procedure.Anaesthesia.choices
        self.zone_names = []
        for code, label in ZONES:
            self.fields[f"zone_{code}"] = forms.DecimalField(required=False, min_value=0, max_digits=5,
                                                             decimal_places=2, label=f"{label} (ml)")
            self.zone_names.append(f"zone_{code}")

    def zones(self) -> dict:
        return {name[5:]: v for name in self.zone_names if (v := self.cleaned_data.get(name)) not in (None, 0)}
