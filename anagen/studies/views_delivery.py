"""Treatment and placebo delivery pages (issue item 5): the study's lots (unblinded pharmacist),
and a subject's treatment page: the preparer fills and labels the syringes, the blinded injector
records each labelled syringe as a procedure. What a user sees of a syringe comes from
:func:`anagen.studies.blinding.syringe_view`, never from the syringe itself."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from anagen.accounts.models import Role
from anagen.core.errors import ActionError
from anagen.core.permissions import role_required

from . import blinding, delivery, selectors
from .lock import is_locked
from .forms import DiscardForm, InjectionForm, PreparationForm, RefillForm, StudyLotForm
from .views import STUDY_PAGE_ROLES, _form_error


# The study's unblinded preparer may be a lab scientist (the micrograft suspension is made in the
# lab): these pages let the lab role in, and then only its study's preparers.
DELIVERY_PAGE_ROLES = (*STUDY_PAGE_ROLES, Role.LAB_SCIENTIST)


def _is_preparer(user, study) -> bool:
    return blinding.study_role(user, study) in delivery.PREPARER_ROLES


def check_delivery_access(user, study) -> None:
    """The delivery pages and routes: the study page roles, or the study's preparer in any role."""
    if not user.has_role(*STUDY_PAGE_ROLES) and not _is_preparer(user, study):
        raise PermissionDenied("These pages are for the study's team; the lab sees them as the study's preparer.")


def _is_injector(user, study) -> bool:
    return blinding.study_role(user, study) in delivery.INJECTOR_ROLES and user.has_role(Role.CLINICIAN)


# --- the study's lots -----------------------------------------------------------------------------

@role_required(*DELIVERY_PAGE_ROLES)
def study_lots(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    if not _is_preparer(request.user, study):
        raise PermissionDenied("The study's lots are shown to its unblinded pharmacist only.")
    form = StudyLotForm(request.POST or None, lots=delivery.lots_to_set_aside(user=request.user, study=study),
                        arms=study.arms.all())
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                sl = delivery.study_lot_add(actor=request.user, study=study, lot=form.cleaned_data["lot"],
                                            arm_code=form.cleaned_data["arm"])
            except ActionError as exc:
                _form_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"{sl.lot} is set aside for {sl.arm}.")
                return redirect("studies:lots", pk=study.pk)
    return render(request, "studies/delivery/lots.html", {
        "study": study, "form": form, "study_lots": delivery.lots_for_preparer(user=request.user, study=study),
        "today": timezone.localdate()}, status=status)


# --- a subject's treatment ------------------------------------------------------------------------

def _preparation_form(request, study, subject, data=None):
    from anagen.treatments.models import Modality

    sides = delivery.sides(study)
    side_arms = {s: delivery._arm_for(study, subject.allocation, s) for s in sides}
    return PreparationForm(data, visits=delivery.visit_codes(subject),
                           modalities=Modality.objects.filter(is_active=True),
                           study_lots=delivery.lots_for_preparer(user=request.user, study=study),
                           sides=sides, side_arms=side_arms,
                           samples=delivery.released_samples(user=request.user, subject=subject))


def _treatment_page(request, study, subject, *, prep_form=None, inject_forms=None, change_forms=None, status=200):
    user = request.user
    assignment = blinding.assignment_view(user, subject)
    can_prepare = (_is_preparer(user, study) and assignment.randomized and subject.status == "randomized"
                   and not is_locked(study))
    change_forms = change_forms or {}
    preparations = []
    for prep in delivery.preparations_for(subject=subject):
        rows = []
        for syringe in prep.syringes.all():
            view = blinding.syringe_view(user, syringe)
            form = discard_form = None
            if not syringe.injected and not syringe.discarded and _is_injector(user, study):
                form = (inject_forms or {}).get((prep.visit_code, syringe.side)) or InjectionForm(
                    side=syringe.side, initial={"performed_on": timezone.localdate()})
            if can_prepare and not syringe.injected and not syringe.discarded and not syringe.sample_id:
                discard_form = change_forms.get(("discard", prep.visit_code, syringe.side)) or DiscardForm(
                    side=syringe.side)
            rows.append((view, form, discard_form))
        refills = []
        if can_prepare:
            in_use = {s.side for s in prep.syringes.all() if not s.discarded}
            for side in delivery.sides(study):
                if side not in in_use:
                    refills.append((side, change_forms.get(("refill", prep.visit_code, side)) or _refill_form(
                        request, study, subject, side)))
        preparations.append((prep, rows, refills))
    if can_prepare and prep_form is None:
        prep_form = _preparation_form(request, study, subject)
    return render(request, "studies/delivery/treatment.html", {
        "study": study, "subject": subject, "assignment": assignment, "preparations": preparations,
        "prep_form": prep_form if can_prepare else None, "is_injector": _is_injector(user, study),
        "sees_study_pages": user.has_role(*STUDY_PAGE_ROLES),
    }, status=status)


def _refill_form(request, study, subject, side, data=None):
    return RefillForm(data, side=side, arm=delivery._arm_for(study, subject.allocation, side),
                      study_lots=delivery.lots_for_preparer(user=request.user, study=study))


@role_required(*DELIVERY_PAGE_ROLES)
def treatment(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    check_delivery_access(request.user, study)
    return _treatment_page(request, study, selectors.subject_get(user=request.user, study=study, pk=subject_pk))


@role_required(*DELIVERY_PAGE_ROLES)
@require_POST
def prepare(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    if not _is_preparer(request.user, study):
        raise PermissionDenied("Only the study's unblinded pharmacist prepares study product.")
    if not hasattr(subject, "allocation"):
        messages.error(request, f"{subject.code} has not been randomized: randomize the subject first.")
        return redirect("studies:treatment", pk=study.pk, subject_pk=subject.pk)
    form = _preparation_form(request, study, subject, request.POST)
    status = 400
    if form.is_valid():
        try:
            prep = delivery.preparation_record(actor=request.user, subject=subject,
                                               visit_code=form.cleaned_data["visit_code"],
                                               modality=form.cleaned_data["modality"], syringes=form.syringes())
        except ActionError as exc:
            _form_error(form, exc)
            status = exc.status
        else:
            labels = ", ".join(f"'{s.label}'" for s in prep.syringes.all())
            messages.success(request, f"Prepared and labelled: {labels}.")
            return redirect("studies:treatment", pk=study.pk, subject_pk=subject.pk)
    return _treatment_page(request, study, subject, prep_form=form, status=status)


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def inject(request, pk: int, subject_pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    if not _is_injector(request.user, study):
        raise PermissionDenied("Only a study investigator who is a clinician records an injection.")
    visit_code = request.POST.get("visit_code", "")
    side = request.POST.get("side", "")
    form = InjectionForm(request.POST, side=side.strip().upper() if len(side.strip()) <= 1 else "X")
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            procedure = delivery.injection_record(
                actor=request.user, subject=subject, visit_code=visit_code, side=side, performed_on=d["performed_on"],
                zones=form.zones(), anaesthesia=d["anaesthesia"], anaesthesia_detail=d["anaesthesia_detail"],
                needle=d["needle"], notes=d["notes"])
        except ActionError as exc:
            _form_error(form, exc)
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, f"Injection recorded as procedure {procedure.pk}.")
            return redirect("studies:treatment", pk=study.pk, subject_pk=subject.pk)
    return _treatment_page(request, study, subject, inject_forms={(visit_code, side): form}, status=status)


def _preparer_subject(request, pk, subject_pk):
    study = selectors.study_get(user=request.user, pk=pk)
    check_delivery_access(request.user, study)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
    if not _is_preparer(request.user, study):
        raise PermissionDenied("Only the study's unblinded pharmacist discards and refills study syringes.")
    if not hasattr(subject, "allocation"):
        raise PermissionDenied(f"{subject.code} has not been randomized.")
    return study, subject


def _posted_side(request) -> str:
    side = request.POST.get("side", "").strip().upper()
    return side if len(side) <= 1 else "X"


def _syringe_change(request, study, subject, *, kind: str, visit_code: str, side: str, form, act, done):
    """Run ``act(cleaned_data)`` for a valid form; then back to the treatment page with ``done(syringe)``
    said, or the page again with the form's errors."""
    status = 400
    if form.is_valid():
        try:
            syringe = act(form.cleaned_data)
        except ActionError as exc:
            _form_error(form, exc)
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, done(syringe))
            return redirect("studies:treatment", pk=study.pk, subject_pk=subject.pk)
    return _treatment_page(request, study, subject, change_forms={(kind, visit_code, side): form}, status=status)


@role_required(*DELIVERY_PAGE_ROLES)
@require_POST
def discard(request, pk: int, subject_pk: int):
    """The unblinded preparer discards a spoiled syringe before it is given."""
    study, subject = _preparer_subject(request, pk, subject_pk)
    visit_code, side = request.POST.get("visit_code", ""), _posted_side(request)
    return _syringe_change(
        request, study, subject, kind="discard", visit_code=visit_code, side=side,
        form=DiscardForm(request.POST, side=side),
        act=lambda d: delivery.syringe_discard(actor=request.user, subject=subject, visit_code=visit_code, side=side,
                                               reason=d["reason"]),
        done=lambda syringe: f"'{syringe.label}' of visit {visit_code} is discarded; fill a new one below.")


@role_required(*DELIVERY_PAGE_ROLES)
@require_POST
def refill(request, pk: int, subject_pk: int):
    """The unblinded preparer fills a new syringe for a side whose syringe was discarded."""
    study, subject = _preparer_subject(request, pk, subject_pk)
    visit_code, side = request.POST.get("visit_code", ""), _posted_side(request)
    if side not in delivery.sides(study):
        messages.error(request, "Choose a side of this study's syringes.")
        return redirect("studies:treatment", pk=study.pk, subject_pk=subject.pk)
    return _syringe_change(
        request, study, subject, kind="refill", visit_code=visit_code, side=side,
        form=_refill_form(request, study, subject, side, request.POST),
        act=lambda d: delivery.syringe_refill(actor=request.user, subject=subject, visit_code=visit_code, side=side,
                                              source=d["lot"].lot, quantity=d["quantity"]),
        done=lambda syringe: f"A new '{syringe.label}' is filled and labelled for visit {visit_code}.")
