"""Study pages: protocol (draft, sign-off, amendments, versions), team, subjects, enrolment,
randomization, code-break and dashboard (blinded reading: views_reading.py).

Every page shows a subject's assignment only through :func:`anagen.studies.blinding.assignment_view`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from anagen.accounts.models import Role, User
from anagen.audit.selectors import record_history
from anagen.core.errors import ActionError
from anagen.core.permissions import role_required

from . import blinding, randomization, selectors, services
from .forms import AmendForm, CodeBreakForm, EndForm, MemberForm, SignForm, StudyForm
from .models import SignatureMeaning, StudyRole

# Staff roles that may open the studies pages at all (then: on the study's team, or 404).
STUDY_PAGE_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.EVALUATOR, Role.STATISTICIAN)


def _form_error(form, exc: ActionError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@role_required(*STUDY_PAGE_ROLES)
def study_list(request):
    return render(request, "studies/study_list.html", {
        "studies": selectors.study_list(user=request.user), "can_create": selectors.can_create_study(request.user)})


@role_required(*STUDY_PAGE_ROLES)
def study_new(request):
    if not selectors.can_create_study(request.user):
        raise PermissionDenied("Only a statistician or an admin starts a study.")
    status = 200
    if request.method == "POST":
        form = StudyForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.protocol()
            try:
                study = services.study_create(actor=request.user, **data)
            except ActionError as exc:
                _form_error(form, exc)
                status = 400
            else:
                messages.success(request, "Study created: its protocol is a draft until it is signed off.")
                return redirect("studies:detail", pk=study.pk)
        else:
            status = 400
    else:
        form = StudyForm(user=request.user, initial=StudyForm.initial_for())
    return render(request, "studies/study_form.html", {"form": form, "study": None}, status=status)


def _study_context(request, study) -> dict:
    version = services.current_version(study)
    return {
        "study": study, "version": version, "approved": services.approved_version(study),
        "versions": study.versions.order_by("-number").prefetch_related("signatures__signer"),
        "content": version.content, "role": blinding.study_role(request.user, study),
        "role_label": StudyRole(blinding.study_role(request.user, study)).label,
        "can_edit": selectors.can(request.user, study, "edit"),
        "can_enrol": selectors.can(request.user, study, "enrol"),
        "can_close_recruitment": blinding.study_role(request.user, study) in (
            *services.PROTOCOL_EDIT_ROLES, *services.INVESTIGATOR_ROLES),
        "unblinded": blinding.is_unblinded(request.user, study),
    }


@role_required(*STUDY_PAGE_ROLES)
def study_detail(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    ctx = _study_context(request, study)
    ctx.update(sign_form=SignForm(), amend_form=AmendForm(),
               signatures=ctx["version"].signatures.select_related("signer"),
               progress=selectors.enrolment_by_site(user=request.user, study=study),
               history=record_history(study))
    return render(request, "studies/study_detail.html", ctx)


@role_required(*STUDY_PAGE_ROLES)
def study_edit(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    if not selectors.can(request.user, study, "edit"):
        raise PermissionDenied("Only the study's statistician changes the protocol.")
    if services.current_version(study).is_approved:
        messages.error(request, "This protocol version is signed off: start an amendment with its reason first.")
        return redirect("studies:detail", pk=study.pk)
    status = 200
    if request.method == "POST":
        form = StudyForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.study_update(actor=request.user, study=study, **form.protocol())
            except ActionError as exc:
                _form_error(form, exc)
                status = 400
            else:
                messages.success(request, "Protocol draft saved; any earlier signatures on this draft were cleared.")
                return redirect("studies:detail", pk=study.pk)
        else:
            status = 400
    else:
        form = StudyForm(user=request.user, initial=StudyForm.initial_for(study))
    return render(request, "studies/study_form.html", {"form": form, "study": study}, status=status)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def study_sign(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            services.protocol_sign(actor=request.user, study=study, password=form.cleaned_data["password"],
                                   meaning=form.cleaned_data["meaning"])
        except ActionError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Signed: " + SignatureMeaning(form.cleaned_data["meaning"]).label)
            return redirect("studies:detail", pk=study.pk)
    ctx = _study_context(request, study)
    ctx.update(sign_form=form, amend_form=AmendForm(), signatures=ctx["version"].signatures.select_related("signer"),
               progress=selectors.enrolment_by_site(user=request.user, study=study), history=[])
    return render(request, "studies/study_detail.html", ctx, status=400)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def study_amend(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    form = AmendForm(request.POST)
    if form.is_valid():
        try:
            version = services.protocol_amend(actor=request.user, study=study, reason=form.cleaned_data["reason"])
        except ActionError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Amendment opened as version {version.number}: make the changes, then sign it off.")
            return redirect("studies:edit", pk=study.pk)
    ctx = _study_context(request, study)
    ctx.update(sign_form=SignForm(), amend_form=form, signatures=ctx["version"].signatures.select_related("signer"),
               progress=selectors.enrolment_by_site(user=request.user, study=study), history=[])
    return render(request, "studies/study_detail.html", ctx, status=400)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def study_close_recruitment(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    try:
        services.recruitment_close(actor=request.user, study=study)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The study is closed to recruitment; its subjects go on with their visits.")
    return redirect("studies:detail", pk=study.pk)


@role_required(*STUDY_PAGE_ROLES)
def study_team(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    can_manage = selectors.can(request.user, study, "edit")
    form = MemberForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only the study's statistician manages the team.")
        if form.is_valid():
            user = User.objects.filter(email=form.cleaned_data["email"].lower()).first()
            try:
                if user is None:
                    raise ActionError("No staff member has that e-mail address.", field="email")
                services.member_add(actor=request.user, study=study, user=user, role=form.cleaned_data["role"])
            except ActionError as exc:
                _form_error(form, exc)
                status = 400
            else:
                messages.success(request, f"{user} joined the study team.")
                return redirect("studies:team", pk=study.pk)
        else:
            status = 400
    return render(request, "studies/team.html", {"study": study, "members": selectors.members(study=study),
                                                 "form": form, "can_manage": can_manage}, status=status)


@role_required(*STUDY_PAGE_ROLES)
def version_detail(request, pk: int, number: int):
    study = selectors.study_get(user=request.user, pk=pk)
    version = selectors.version_get(user=request.user, study=study, number=number)
    return render(request, "studies/version_detail.html", {
        "study": study, "version": version, "content": version.content,
        "signatures": version.signatures.select_related("signer")})


@role_required(*STUDY_PAGE_ROLES)
def subject_list(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    rows = [(s, blinding.assignment_view(request.user, s)) for s in selectors.subject_list(user=request.user, study=study)]
    return render(request, "studies/subject_list.html", {"study": study, "rows": rows})


def _subject_page(request, study, subject, *, end_form=None, code_break_form=None, deviation_form=None, status=200):
    from . import deviations
    from .forms import DeviationForm

    assignment = blinding.assignment_view(request.user, subject)
    states = deviations.subject_visit_states(subject)
    no_data = {s.window.code for s in deviations.visits_without_data(states)}
    visits = subject.protocol_version.content.get("visits") or []
    role = blinding.study_role(request.user, study)
    # The data-quality page's rule: every team member but the evaluators (who get no subject page).
    sees_quality = role is not None and role != StudyRole.EVALUATOR
    return render(request, "studies/subject_detail.html", {
        "sees_quality": sees_quality,
        "queries": (subject.queries.select_related("visit", "raised_by", "answered_by", "closed_by")
                    .order_by("-raised_at", "-pk") if sees_quality else []),
        "verifications": (subject.verifications.select_related("verified_by").order_by("data_point")
                          if sees_quality else []),
        "schedule": [(s, s.window.code in no_data) for s in states],
        "can_book": request.user.has_role(Role.COORDINATOR, Role.CLINICIAN),
        "study": study, "subject": subject, "assignment": assignment,
        "can_randomize": selectors.can(request.user, study, "randomize"),
        "can_code_break": selectors.can(request.user, study, "code_break"),
        "end_form": end_form or EndForm(), "code_break_form": code_break_form or CodeBreakForm(),
        "code_breaks": subject.code_breaks.select_related("broken_by"),
        "deviations": [(d, deviations.description_for(request.user, d))
                       for d in subject.deviations.select_related("reported_by").order_by("reported_at", "pk")],
        "can_report": role in deviations.REPORT_ROLES,
        "deviation_form": deviation_form or DeviationForm(visits=visits),
    }, status=status)


@role_required(*STUDY_PAGE_ROLES)
def subject_detail(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    return _subject_page(request, study, selectors.subject_get(user=request.user, study=study, pk=subject_pk))


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def subject_randomize(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    try:
        randomization.subject_randomize(actor=request.user, subject=subject)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{subject.code} is randomized.")
    return redirect("studies:subject", pk=study.pk, subject_pk=subject.pk)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def subject_end(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.subject_end(actor=request.user, subject=subject, **form.cleaned_data)
        except ActionError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{subject.code}: {form.cleaned_data['status'].replace('_', ' ')} recorded.")
            return redirect("studies:subject", pk=study.pk, subject_pk=subject.pk)
    return _subject_page(request, study, subject, end_form=form, status=400)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def subject_code_break(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    form = CodeBreakForm(request.POST)
    if form.is_valid():
        try:
            services.code_break(actor=request.user, subject=subject, reason=form.cleaned_data["reason"])
        except ActionError as exc:
            _form_error(form, exc)
        else:
            messages.warning(request, f"The code of {subject.code} is broken; the study team has been told.")
            return redirect("studies:subject", pk=study.pk, subject_pk=subject.pk)
    return _subject_page(request, study, subject, code_break_form=form, status=400)


@role_required(*STUDY_PAGE_ROLES)
def enrol(request, pk: int, patient_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    if not selectors.can(request.user, study, "enrol"):
        raise PermissionDenied("Only a study investigator screens and enrols.")
    patient = selectors.patient_for_enrolment(user=request.user, pk=patient_pk)
    status, error = 200, None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "screen_fail":
                subject = services.subject_screen_fail(actor=request.user, study=study, patient=patient,
                                                       reason=request.POST.get("reason", ""))
                messages.info(request, f"Screen failure recorded as {subject.code}.")
            else:
                subject = services.subject_enrol(actor=request.user, study=study, patient=patient,
                                                 confirm_review=request.POST.get("confirm_review") == "on")
                messages.success(request, f"{patient} is enrolled as {subject.code}.")
        except ActionError as exc:
            error, status = exc.message, 400
        else:
            return redirect("studies:subject", pk=study.pk, subject_pk=subject.pk)
    check = selectors.enrolment_check(user=request.user, study=study, patient=patient)
    return render(request, "studies/enrol.html", {"study": study, "patient": patient, "check": check,
                                                  "error": error}, status=status)


@role_required(*STUDY_PAGE_ROLES)
def dashboard(request, pk: int):
    from . import deviations

    study = selectors.study_get(user=request.user, pk=pk)
    progress = selectors.enrolment_by_site(user=request.user, study=study)
    enrolled = sum(p.enrolled for p in progress)
    visits = deviations.study_visits(user=request.user, study=study)
    return render(request, "studies/dashboard.html", {
        "study": study, "progress": progress, "enrolled": enrolled,
        "randomized": sum(p.randomized for p in progress),
        "target_pct": round(100 * enrolled / study.target_enrolment) if study.target_enrolment else None,
        "visits": visits,
        "open_deviations": deviations.deviation_list(user=request.user, study=study, open_only=True).count()})


@role_required(*STUDY_PAGE_ROLES)
def balance(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    try:
        report, mismatches = randomization.balance(actor=request.user, study=study)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("studies:detail", pk=study.pk)
    return render(request, "studies/balance.html", {"study": study, "report": report, "mismatches": mismatches,
                                                    "arms": report.arms})


# --- visits and protocol deviations ---------------------------------------------------------------

@role_required(*STUDY_PAGE_ROLES)
def deviation_list(request, pk: int):
    from . import deviations
    from .forms import DeviationCloseForm

    study = selectors.study_get(user=request.user, pk=pk)
    if request.method == "POST":  # check the visits for deviations now
        if blinding.study_role(request.user, study) not in deviations.REPORT_ROLES:
            raise PermissionDenied("Only the study's investigators, coordinators and statisticians check visits.")
        opened, closed = deviations.deviations_refresh(actor=request.user, study=study)
        messages.success(request, f"Visits checked: {opened} new deviation(s), {closed} no longer found.")
        return redirect("studies:deviations", pk=study.pk)
    rows = [(d, deviations.description_for(request.user, d)) for d in deviations.deviation_list(user=request.user,
                                                                                                 study=study)]
    role = blinding.study_role(request.user, study)
    return render(request, "studies/deviations.html", {
        "study": study, "rows": rows, "close_form": DeviationCloseForm(),
        "can_check": role in deviations.REPORT_ROLES, "can_close": role in deviations.CLOSE_ROLES})


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def deviation_report(request, pk: int, subject_pk: int):
    from . import deviations
    from .forms import DeviationForm

    study = selectors.study_get(user=request.user, pk=pk)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    form = DeviationForm(request.POST, visits=subject.protocol_version.content.get("visits") or [])
    if form.is_valid():
        try:
            deviations.deviation_report(actor=request.user, subject=subject, **form.cleaned_data)
        except ActionError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Deviation recorded for {subject.code}.")
            return redirect("studies:subject", pk=study.pk, subject_pk=subject.pk)
    return _subject_page(request, study, subject, deviation_form=form, status=400)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def deviation_close(request, pk: int, deviation_pk: int):
    from . import deviations
    from .forms import DeviationCloseForm

    study = selectors.study_get(user=request.user, pk=pk)
    deviation = deviations.deviation_list(user=request.user, study=study).filter(pk=deviation_pk).first()
    if deviation is None:
        raise Http404("No such deviation at a clinic you work at.")
    form = DeviationCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say how the deviation was handled before closing it.")
    else:
        try:
            deviations.deviation_close(actor=request.user, deviation=deviation, note=form.cleaned_data["note"])
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Deviation closed.")
    return redirect("studies:deviations", pk=study.pk)
