"""Screening pages: run a screening on a patient, see the result, read and edit the rules."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from anagen.audit.selectors import history_for_records, record_history
from anagen.core.errors import ActionError
from anagen.core.permissions import role_required

from . import selectors, services
from .facts import initial_answers
from .forms import RulesForm, ScreeningForm
from .rules import EFFECTS, FACTS, MODALITIES, OPERATORS
from .selectors import RESULT_ROLES, RULE_VIEW_ROLES


@role_required(*RESULT_ROLES)
def patient_screenings(request, patient_pk: int):
    patient = selectors.patient_for_screening(user=request.user, pk=patient_pk)
    runs = selectors.screening_runs(user=request.user, patient=patient)
    return render(request, "screening/patient_screenings.html", {
        "patient": patient, "runs": runs, "can_run": selectors.can_run(request.user),
        "self_checks": selectors.self_checks(patient)})


@role_required(*RESULT_ROLES)
def screening_new(request, patient_pk: int):
    # Coordinators and admins may read results but only clinicians screen: 403 before anything else.
    patient = selectors.patient_for_screening(user=request.user, pk=patient_pk, run=True)
    status = 200
    if request.method == "POST":
        form = ScreeningForm(request.POST)
        if form.is_valid():
            try:
                screenings = services.screening_run(actor=request.user, patient=patient, answers=form.answers(),
                                                    modalities=form.cleaned_data["modalities"],
                                                    notes=form.cleaned_data["notes"])
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = 400
            else:
                messages.success(request, "Screening saved.")
                return redirect("screening:run", run_id=screenings[0].run_id)
        else:
            status = 400
    else:
        form = ScreeningForm(initial_answers=initial_answers(patient))
    return render(request, "screening/screening_form.html", {
        "patient": patient, "form": form, "rule_set": selectors.rule_set_active(),
        "has_medical_history": _has_medical_history(patient), "self_checks": selectors.self_checks(patient)},
        status=status)


def _has_medical_history(patient) -> bool:
    try:
        patient.medical_history
    except Exception:
        return False
    return True


@role_required(*RESULT_ROLES)
def run_detail(request, run_id):
    run = selectors.screening_run_get(user=request.user, run_id=run_id)
    patient = run.screenings[0].patient
    history = history_for_records(type(run.screenings[0]), [s.pk for s in run.screenings])
    facts = run.screenings[0].facts
    fact_rows = [(FACTS[name].label, facts.get(name)) for name in FACTS if name in facts]
    return render(request, "screening/run_detail.html", {
        "run": run, "patient": patient, "history": history, "fact_rows": fact_rows,
        "can_run": selectors.can_run(request.user) and request.user.can_see_clinic(patient.clinic_id)})


@role_required(*RULE_VIEW_ROLES)
def rules(request):
    versions = list(selectors.rule_set_list(user=request.user))
    active = next((v for v in versions if v.is_active), None)
    return render(request, "screening/rules.html", {
        "versions": versions, "active": active, "can_edit": selectors.can_edit_rules(request.user),
        **_vocabulary()})


@role_required(*RULE_VIEW_ROLES)
def rule_version(request, version: int):
    rule_set = selectors.rule_set_get(user=request.user, version=version)
    return render(request, "screening/rule_version.html", {
        "rule_set": rule_set, "rules_json": RulesForm.dump(rule_set.rules),
        "can_edit": selectors.can_edit_rules(request.user), "history": record_history(rule_set)})


@role_required(*RULE_VIEW_ROLES)
def rules_edit(request):
    if not selectors.can_edit_rules(request.user):
        raise PermissionDenied("Only an admin can change the screening rules.")
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = RulesForm(request.POST)
        if form.is_valid():
            try:
                parsed = services.parse_rules_text(form.cleaned_data["rules"])
                rule_set = services.rule_set_publish(actor=request.user, rules=parsed, note=form.cleaned_data["note"])
            except services.RulesInvalid as exc:
                errors = exc.errors
                form.add_error(None, exc.message)
                status = 400
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                messages.success(request, f"Published version {rule_set.version}; it is now active.")
                return redirect("screening:rules")
        else:
            status = 400
    else:
        source = None
        if request.GET.get("from"):
            source = selectors.rule_set_get(user=request.user, version=request.GET["from"])
        source = source or selectors.rule_set_active()
        form = RulesForm(initial={"rules": RulesForm.dump(source.rules if source else []),
                                  "note": f"Based on version {source.version}" if source else ""})
    return render(request, "screening/rules_edit.html", {
        "form": form, "errors": errors, "active": selectors.rule_set_active(), **_vocabulary()}, status=status)


def _vocabulary() -> dict:
    return {
        "facts": [(name, f.label, f.kind, ", ".join(f.choices)) for name, f in FACTS.items()],
        "operators": OPERATORS, "effects": EFFECTS, "modalities": MODALITIES,
    }
