"""Patient pages: list with search, registration, the record, and its edit pages.

Every page asks for a role that may see patients (403 otherwise) and a patient of the user's
clinics (404 otherwise); the write pages then ask for the role the service needs.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from anagen.accounts.models import Clinic
from anagen.audit.selectors import record_history
from anagen.core.errors import ActionError
from anagen.core.permissions import CLINICAL_ROLES, FRONT_DESK_ROLES, PATIENT_RECORD_ROLES, check_role, has_role, role_required

from . import forms, selectors, services
from .models import Consent, HairLossHistory, MedicalHistory, PriorTreatment
from .sections import sections_for

PAGE_SIZE = 25


@role_required(*PATIENT_RECORD_ROLES)
def patient_list(request):
    q = request.GET.get("q", "").strip()[:200]
    qs = selectors.search_order(selectors.patient_search(user=request.user, q=q)).select_related("clinic")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "patients/list.html", {
        "q": q, "page": page, "can_register": has_role(request.user, *FRONT_DESK_ROLES),
    })


def _my_clinics(user):
    return Clinic.objects.filter(id__in=list(user.clinic_ids), is_active=True)


@role_required(*FRONT_DESK_ROLES)
def patient_create(request):
    clinics = _my_clinics(request.user)
    duplicate = None
    if request.method == "POST":
        form = forms.RegisterForm(request.POST, clinics=clinics)
        if form.is_valid():
            data = form.cleaned_data
            try:
                patient = services.patient_register(
                    actor=request.user, clinic=data["clinic"], first_name=data["first_name"],
                    last_name=data["last_name"], date_of_birth=data["date_of_birth"], sex=data["sex"],
                    email=data["email"], phone=data["phone"], address=data["address"], notes=data["notes"],
                    allow_duplicate=data["allow_duplicate"])
            except services.DuplicatePatient as exc:
                duplicate = exc.existing
                form.add_error(None, exc.message)
            except ActionError as exc:
                forms.apply_action_error(form, exc)
            else:
                messages.success(request, f"Registered {patient.full_name} as {patient.patient_number}.")
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = forms.RegisterForm(clinics=clinics, initial={"clinic": clinics.first()})
    return render(request, "patients/form.html", {
        "form": form, "title": "Register a patient", "submit": "Register", "duplicate": duplicate,
        "cancel_url": reverse("patients:list"),
    })


def _age(born, today):
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@role_required(*PATIENT_RECORD_ROLES)
def patient_detail(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    user = request.user
    consents = list(patient.consents.select_related("recorded_by", "withdrawn_by"))
    stagings = list(patient.stagings.select_related("assessed_by"))
    prior = list(patient.prior_treatments.all())
    medical = MedicalHistory.objects.filter(patient=patient).first()
    hair_loss = HairLossHistory.objects.filter(patient=patient).first()
    related = [*consents, *stagings, *prior, *(r for r in (medical, hair_loss) if r)]
    patient_sections = sections_for(request, patient)
    return render(request, "patients/detail.html", {
        "patient": patient,
        "consents": consents,
        "stagings": stagings,
        "current_stagings": selectors.current_stagings(patient),
        "prior_treatments": prior,
        "medical": medical,
        "medical_flags": [(f.replace("_", " ").capitalize(), getattr(medical, f)) for f in MedicalHistory.FLAGS] if medical else [],
        "hair_loss": hair_loss,
        "can_edit_contact": has_role(user, *FRONT_DESK_ROLES),
        "can_clinical": has_role(user, *CLINICAL_ROLES),
        "can_consent": has_role(user, *services.CONSENT_ROLES),
        "can_history": has_role(user, *services.HISTORY_ROLES),
        "age": _age(patient.date_of_birth, timezone.localtime(timezone.now(), patient.clinic.tz).date()),
        "patient_sections": patient_sections,
        "chart_facts": [fact for section in patient_sections for fact in section.get("facts", ())],
        "chart_alerts": selectors.chart_alerts(patient, consents=consents, medical=medical),
        "history": record_history(patient, related=related),
    })


def _form_page(request, patient, form, *, title, submit="Save", duplicate=None, help_text=""):
    return render(request, "patients/form.html", {
        "form": form, "title": title, "submit": submit, "patient": patient, "duplicate": duplicate,
        "help_text": help_text, "cancel_url": reverse("patients:detail", kwargs={"pk": patient.pk}),
    })


def _done(request, patient, message):
    messages.success(request, message)
    return redirect("patients:detail", pk=patient.pk)


def _record_page(request, patient, form, write, *, done, title, submit="Save"):
    """Show ``form``; on a valid post, ``write(actor=..., patient=..., **cleaned_data)`` (a service)
    and go back to the patient page, or show the service's refusal on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            write(actor=request.user, patient=patient, **form.cleaned_data)
        except ActionError as exc:
            forms.apply_action_error(form, exc)
        else:
            return _done(request, patient, done)
    return _form_page(request, patient, form, title=title, submit=submit)


@role_required(*PATIENT_RECORD_ROLES)
def patient_edit(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *FRONT_DESK_ROLES)
    duplicate = None
    fields = ["first_name", "last_name", "date_of_birth", "sex", "email", "phone", "address", "notes"]
    if request.method == "POST":
        form = forms.EditContactForm(request.POST)
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in fields}
            try:
                services.patient_update(actor=request.user, patient=patient,
                                        allow_duplicate=form.cleaned_data["allow_duplicate"], **data)
            except services.DuplicatePatient as exc:
                duplicate = exc.existing
                form.add_error(None, exc.message)
            except ActionError as exc:
                forms.apply_action_error(form, exc)
            else:
                return _done(request, patient, "Contact details saved.")
    else:
        form = forms.EditContactForm(initial={f: getattr(patient, f) for f in fields})
    return _form_page(request, patient, form, title=f"Contact details: {patient.full_name}", duplicate=duplicate)


@role_required(*PATIENT_RECORD_ROLES)
def patient_diagnosis(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *CLINICAL_ROLES)
    form = forms.DiagnosisForm(request.POST or None, initial={"diagnosis": patient.diagnosis,
                                                              "diagnosis_detail": patient.diagnosis_detail})
    return _record_page(request, patient, form, services.patient_update, done="Diagnosis saved.", title=f"Diagnosis: {patient.full_name}")


@role_required(*PATIENT_RECORD_ROLES)
def staging_add(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *CLINICAL_ROLES)
    form = forms.StagingForm(request.POST or None)
    return _record_page(request, patient, form, services.staging_record, done="Stage recorded.", title=f"Record a stage: {patient.full_name}", submit="Record")


@role_required(*PATIENT_RECORD_ROLES)
def medical_history_edit(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *CLINICAL_ROLES)
    current = MedicalHistory.objects.filter(patient=patient).first()
    initial = {f: getattr(current, f) for f in (*MedicalHistory.FLAGS, "medications", "allergies", "notes")} if current else {}
    form = forms.MedicalHistoryForm(request.POST or None, initial=initial)
    return _record_page(request, patient, form, services.medical_history_update, done="Medical history saved.", title=f"Medical history: {patient.full_name}")


@role_required(*PATIENT_RECORD_ROLES)
def hair_loss_history_edit(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *services.HISTORY_ROLES)
    current = HairLossHistory.objects.filter(patient=patient).first()
    initial = {f: getattr(current, f) for f in ("onset_year", "progression", "family_history", "pattern_notes")} if current else {}
    form = forms.HairLossHistoryForm(request.POST or None, initial=initial)
    return _record_page(request, patient, form, services.hair_loss_history_update, done="Hair-loss history saved.", title=f"Hair-loss history: {patient.full_name}")


@role_required(*PATIENT_RECORD_ROLES)
def prior_treatment_add(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *services.HISTORY_ROLES)
    form = forms.PriorTreatmentForm(request.POST or None)
    return _record_page(request, patient, form, services.prior_treatment_add, done="Prior treatment added.", title=f"Add a prior treatment: {patient.full_name}", submit="Add")


@require_POST
@role_required(*PATIENT_RECORD_ROLES)
def prior_treatment_remove(request, pk, treatment_pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *services.HISTORY_ROLES)
    item = PriorTreatment.objects.filter(patient=patient, pk=treatment_pk).first()
    if item is None:
        raise Http404("No such prior treatment.")
    services.prior_treatment_remove(actor=request.user, prior_treatment=item)
    return _done(request, patient, f"Removed {item.get_treatment_display()} from prior treatments.")


@role_required(*PATIENT_RECORD_ROLES)
def consent_add(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *services.CONSENT_ROLES)
    form = forms.ConsentForm(request.POST or None, initial={"kind": request.GET.get("kind")})
    return _record_page(request, patient, form, services.consent_record, done="Consent recorded.", title=f"Record a consent: {patient.full_name}", submit="Record")


@role_required(*PATIENT_RECORD_ROLES)
def consent_withdraw(request, pk, consent_pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    check_role(request.user, *services.CONSENT_ROLES)
    consent = Consent.objects.filter(patient=patient, pk=consent_pk).first()
    if consent is None:
        raise Http404("No such consent.")
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(actor=request.user, consent=consent, reason=form.cleaned_data["reason"])
        except ActionError as exc:
            forms.apply_action_error(form, exc)
        else:
            return _done(request, patient, f"{consent.get_kind_display()} consent withdrawn.")
    return _form_page(request, patient, form, title=f"Withdraw {consent}", submit="Withdraw consent",
                      help_text="The consent stays on the record, marked withdrawn with the time, you and the reason.")
