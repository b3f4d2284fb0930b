"""Public inquiry pages (no login) and the coordinators' inbox."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from anagen.audit.selectors import record_history
from anagen.core.errors import ActionError
from anagen.core.permissions import FRONT_DESK_ROLES, role_required
from anagen.patients.forms import apply_action_error
from anagen.patients.models import Patient
from anagen.patients.services import DuplicatePatient

from . import forms, rules, selectors, services
from .models import InquiryKind, InquiryStatus

PAGE_TITLES = {"question": "Ask a question", "consultation": "Request a free consultation"}


def client_hash_of(request) -> str:
    # The direct peer address; a deployment behind a proxy sets REMOTE_ADDR from the proxy header.
    return services.client_hash(request.META.get("REMOTE_ADDR", ""))


def _submit(request, form, kind: str, self_check: dict | None = None):
    """Send a valid public inquiry form: the thank-you redirect, the rate-limit page, or None with
    the service's refusals added to ``form``."""
    data = form.cleaned_data
    clinic, video = form.clinic_and_video() if kind == InquiryKind.CONSULTATION else (None, False)
    try:
        services.inquiry_submit(
            kind=kind, name=data["name"], email=data["email"], phone=data["phone"], concern=data["concern"],
            preferred_clinic=clinic, prefers_video=video, preferred_times=data.get("preferred_times", ""),
            consent_to_contact=data["consent_to_contact"], client=client_hash_of(request),
            honeypot=data["website"], self_check=self_check)
    except services.RateLimited as exc:
        return render(request, "intake/rate_limited.html", {"message": exc.message}, status=429)
    except services.InquiryInvalid as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return None
    return redirect(reverse("intake:thanks") + f"?kind={kind}")


def _public_form(request, kind: str):
    if request.method == "POST":
        form = forms.InquiryForm(request.POST, kind=kind)
        if form.is_valid():
            response = _submit(request, form, kind)
            if response is not None:
                return response
    else:
        form = forms.InquiryForm(kind=kind)
    return render(request, "intake/public_form.html", {"form": form, "kind": kind, "title": PAGE_TITLES[kind]},
                  status=400 if form.errors else 200)


def ask(request):
    return _public_form(request, InquiryKind.QUESTION)


def consultation(request):
    return _public_form(request, InquiryKind.CONSULTATION)


SELF_CHECK_CONCERN = "I took the self-check and would like a free consultation about my hair loss."


def self_check(request):
    """'Am I a candidate?': plain questions, what a consultation would look at, then a request.

    Step one asks the questions (GET, or POST without ``request``); step two shows the outcome
    with the consultation form, the answers riding along as hidden fields; sending it stores the
    request with the answers and the rules' findings for the coordinator and the clinician.
    """
    if request.method != "POST":
        return render(request, "intake/self_check.html", {"form": forms.SelfCheckForm(), "step": "questions"})
    answers_form = forms.SelfCheckForm(request.POST, hidden="request" in request.POST)
    if not answers_form.is_valid():
        return render(request, "intake/self_check.html",
                      {"form": forms.SelfCheckForm(request.POST), "step": "questions"}, status=400)
    try:
        record = services.self_check_record(answers_form.answers())
    except services.InquiryInvalid as exc:
        return render(request, "intake/self_check.html", {"form": forms.SelfCheckForm(request.POST),
                                                          "step": "questions", "error": exc.message}, status=400)
    hidden = forms.SelfCheckForm(initial=answers_form.answers(), hidden=True)
    if "request" not in request.POST:
        form = forms.InquiryForm(kind=InquiryKind.CONSULTATION, initial={"concern": SELF_CHECK_CONCERN})
        return render(request, "intake/self_check.html", {"record": record, "hidden": hidden, "form": form,
                                                          "step": "outcome"})
    form = forms.InquiryForm(request.POST, kind=InquiryKind.CONSULTATION)
    if form.is_valid():
        response = _submit(request, form, InquiryKind.CONSULTATION, self_check=record)
        if response is not None:
            return response
    return render(request, "intake/self_check.html", {"record": record, "hidden": hidden, "form": form,
                                                      "step": "outcome"}, status=400)


def privacy(request):
    return render(request, "intake/privacy.html")


def thanks(request):
    kind = request.GET.get("kind", "question")
    return render(request, "intake/thanks.html", {"kind": kind})


@role_required(*FRONT_DESK_ROLES)
def inbox(request):
    status = request.GET.get("status", "open")
    qs = selectors.inbox(user=request.user, status=status)[:200]
    return render(request, "intake/inbox.html", {
        "inquiries": qs, "status": status, "counts": selectors.status_counts(user=request.user),
        "statuses": [("open", "Open"), *InquiryStatus.choices, ("all", "All")],
    })


@role_required(*FRONT_DESK_ROLES)
def inquiry_detail(request, pk, answer_form=None, close_form=None, status=200):
    inquiry = selectors.inquiry_get(user=request.user, pk=pk)
    return render(request, "intake/detail.html", {
        "inquiry": inquiry,
        "answer_form": answer_form or forms.AnswerForm(),
        "close_form": close_form or forms.CloseForm(),
        "history": record_history(inquiry),
    }, status=status)


@require_POST
@role_required(*FRONT_DESK_ROLES)
def inquiry_answer(request, pk):
    inquiry = selectors.inquiry_get(user=request.user, pk=pk)
    form = forms.AnswerForm(request.POST)
    if form.is_valid():
        try:
            inquiry = services.inquiry_answer(actor=request.user, inquiry=inquiry, answer=form.cleaned_data["answer"])
        except ActionError as exc:
            apply_action_error(form, exc)
        else:
            if inquiry.answer_emailed:
                messages.success(request, f"Answer saved and e-mailed to {inquiry.email}.")
            else:
                messages.success(request, "Answer saved. There is no e-mail address (or it could not be sent): "
                                          f"phone {inquiry.phone or 'the inquirer'} with it.")
            return redirect("intake:detail", pk=inquiry.pk)
    return inquiry_detail(request, pk, answer_form=form, status=400)


@require_POST
@role_required(*FRONT_DESK_ROLES)
def inquiry_close(request, pk):
    inquiry = selectors.inquiry_get(user=request.user, pk=pk)
    form = forms.CloseForm(request.POST)
    if form.is_valid():
        try:
            services.inquiry_close(actor=request.user, inquiry=inquiry, reason=form.cleaned_data["reason"])
        except ActionError as exc:
            apply_action_error(form, exc)
        else:
            messages.success(request, "Inquiry closed.")
            return redirect("intake:inbox")
    return inquiry_detail(request, pk, close_form=form, status=400)


@role_required(*FRONT_DESK_ROLES)
def inquiry_convert(request, pk):
    inquiry = selectors.inquiry_get(user=request.user, pk=pk)
    duplicate = None
    if request.method == "POST":
        form = forms.ConvertForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            existing = None
            if form.use_existing:
                existing = Patient.objects.filter(pk=data["existing_patient_id"],
                                                  clinic_id__in=list(request.user.clinic_ids)).first()
                if existing is None:
                    # Never fall back to registering a new patient when the coordinator chose the existing one.
                    form.add_error("duplicate_choice", "The existing record is not in a clinic you work at (or no "
                                                       "longer exists); choose “A different person” or search "
                                                       "for the patient.")
                    return render(request, "intake/convert.html", {"inquiry": inquiry, "form": form,
                                                                   "duplicate": None}, status=400)
            try:
                patient, appointment = services.inquiry_convert(
                    actor=request.user, inquiry=inquiry, clinic=data["clinic"], clinician=data["clinician"],
                    starts_at=data["starts_at"], video=data["mode"] == "video", first_name=data["first_name"],
                    last_name=data["last_name"], date_of_birth=data["date_of_birth"], existing_patient=existing,
                    allow_duplicate=form.allow_duplicate, room=data["room"])
            except DuplicatePatient as exc:
                duplicate = exc.existing
                form.add_error(None, exc.message)
                form.data = form.data.copy()
                form.data["existing_patient_id"] = str(duplicate.pk)
            except ActionError as exc:
                apply_action_error(form, exc)
            else:
                what = appointment.get_kind_display().lower()
                if existing is not None:
                    messages.success(request, f"Booked the existing patient {patient.full_name} "
                                              f"({patient.patient_number}) for {what}; no new record was created.")
                else:
                    messages.success(request, f"Registered a new patient, {patient.full_name} "
                                              f"({patient.patient_number}), and booked {what}.")
                return redirect("patients:detail", pk=patient.pk)
    else:
        first, last = rules.split_name(inquiry.name)
        initial = {"first_name": first, "last_name": last, "mode": "video" if inquiry.prefers_video else "in_person"}
        if inquiry.preferred_clinic_id:
            initial["clinic"] = inquiry.preferred_clinic_id
        form = forms.ConvertForm(user=request.user, initial=initial)
    return render(request, "intake/convert.html", {"inquiry": inquiry, "form": form, "duplicate": duplicate},
                  status=400 if form.errors else 200)
