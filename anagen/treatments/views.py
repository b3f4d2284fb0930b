"""Treatment pages: catalogue, plans and bookings, procedures, adverse events, stock and recalls,
and the lab's sample pages. Every page asks the role (403) and the clinic (404) through the
selectors, and writes through the services."""

from __future__ import annotations

import io

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from anagen.accounts.models import Clinic, Role
from anagen.audit.selectors import record_history

from . import blinded
from anagen.core.errors import ActionError, NotFound
from anagen.core.permissions import CLINICAL_ROLES, FRONT_DESK_ROLES, has_role, role_required

from . import forms, rules, selectors, services
from .models import PlanStatus, ProposalStatus

ANY_TREATMENT_ROLE = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.LAB_SCIENTIST)


def _patient(request, pk):
    from anagen.patients.selectors import patient_get

    return patient_get(user=request.user, pk=pk)


def _fail(request, form, exc: ActionError, template: str, context: dict):
    """Show a service's refusal next to the form, with its status (400, 409…)."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    field = exc.field if form is not None and exc.field in form.fields else None
    if form is not None:
        form.add_error(field, exc.message)
    return render(request, template, {**context, "form": form}, status=exc.status)


# --- catalogue ----------------------------------------------------------------------------------

@role_required(*ANY_TREATMENT_ROLE)
def catalogue(request):
    user = request.user
    return render(request, "treatments/catalogue.html", {
        "modalities": selectors.modality_list(user=user),
        "can_stock": has_role(user, *selectors.STOCK_VIEW_ROLES),
        "can_recall": has_role(user, *selectors.TREATMENT_VIEW_ROLES),
        "can_lab": has_role(user, *selectors.SAMPLE_VIEW_ROLES),
        "can_edit": has_role(user, Role.ADMIN),
    })


# --- plans --------------------------------------------------------------------------------------

@role_required(*CLINICAL_ROLES)
def plan_new(request, patient_pk):
    patient = _patient(request, patient_pk)
    form = forms.PlanForm(request.POST or None, initial={"start_on": timezone.localdate()})
    ctx = {"patient": patient, "latest": services.latest_screening_decisions(patient)}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=request.user, patient=patient, modalities=list(d["modalities"]), start_on=d["start_on"],
                sessions=d["sessions"], interval_days=d["interval_days"],
                follow_up_weeks=d["follow_up_weeks"] if d["follow_up_weeks"].strip() else None,
                aftercare=d["aftercare"] or None, notes=d["notes"])
        except ActionError as exc:
            return _fail(request, form, exc, "treatments/plan_form.html", ctx)
        messages.success(request, "Plan created. The proposed visits are listed below for the coordinator to book.")
        return redirect("treatments:plan", pk=plan.pk)
    return render(request, "treatments/plan_form.html", {**ctx, "form": form}, status=400 if form.errors else 200)


@role_required(*selectors.TREATMENT_VIEW_ROLES)
def plan_detail(request, pk):
    plan = selectors.plan_get(user=request.user, pk=pk)
    return render(request, "treatments/plan_detail.html", _plan_context(request, plan))


def _plan_context(request, plan, confirm_forms=None):
    user = request.user
    proposals = list(plan.proposals.select_related("appointment", "confirmed_by").order_by("proposed_on", "kind",
                                                                                         "sequence"))
    can_confirm = has_role(user, *FRONT_DESK_ROLES) and plan.status == PlanStatus.ACTIVE
    confirm_forms = confirm_forms or {}
    for p in proposals:
        if can_confirm and p.status == ProposalStatus.PROPOSED:
            p.form = confirm_forms.get(p.pk) or forms.ConfirmForm(
                clinic=plan.clinic, prefix=f"p{p.pk}", initial={"starts_at": f"{p.proposed_on:%Y-%m-%d}T10:00"})
    revisions = list(plan.revisions.select_related("changed_by"))
    return {
        "plan": plan, "patient": plan.patient,
        "current": [p for p in proposals if p.status != ProposalStatus.SUPERSEDED],
        "superseded": [p for p in proposals if p.status == ProposalStatus.SUPERSEDED],
        "revisions": revisions,
        "procedures": plan.procedures.select_related("modality", "clinician"),
        "can_confirm": can_confirm,
        "can_change": has_role(user, *CLINICAL_ROLES),
        "history": record_history(plan, related=[*revisions, *proposals]),
    }


@role_required(*CLINICAL_ROLES)
def plan_revise(request, pk):
    plan = selectors.plan_get(user=request.user, pk=pk)
    initial = {"modalities": list(plan.modalities.all()), "start_on": plan.start_on, "sessions": plan.sessions,
               "interval_days": plan.interval_days, "aftercare": plan.aftercare, "notes": plan.notes,
               "follow_up_weeks": ", ".join(map(str, plan.follow_up_weeks)), "status": plan.status}
    form = forms.PlanReviseForm(request.POST or None, initial=initial)
    ctx = {"plan": plan, "patient": plan.patient}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.plan_revise(actor=request.user, plan=plan, reason=d["reason"], modalities=list(d["modalities"]),
                                 start_on=d["start_on"], sessions=d["sessions"], interval_days=d["interval_days"],
                                 follow_up_weeks=d["follow_up_weeks"], aftercare=d["aftercare"], notes=d["notes"],
                                 status=d["status"])
        except ActionError as exc:
            return _fail(request, form, exc, "treatments/plan_revise.html", ctx)
        messages.success(request, "Plan changed; the previous values are kept in its history.")
        return redirect("treatments:plan", pk=plan.pk)
    return render(request, "treatments/plan_revise.html", {**ctx, "form": form}, status=400 if form.errors else 200)


@require_POST
@role_required(*FRONT_DESK_ROLES)
def proposal_confirm(request, pk):
    proposal = selectors.proposal_get(user=request.user, pk=pk)
    plan = proposal.plan
    form = forms.ConfirmForm(request.POST, clinic=plan.clinic, prefix=f"p{proposal.pk}")
    error = None
    if form.is_valid():
        try:
            services.proposal_confirm(actor=request.user, proposal=proposal, starts_at=form.cleaned_data["starts_at"],
                                      room=form.cleaned_data["room"])
        except ActionError as exc:
            if isinstance(exc, NotFound):
                raise Http404(exc.message) from None
            error = exc
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{proposal.label} booked.")
            return redirect("treatments:plan", pk=plan.pk)
    ctx = _plan_context(request, plan, confirm_forms={proposal.pk: form})
    return render(request, "treatments/plan_detail.html", ctx, status=error.status if error else 400)


# --- procedures ---------------------------------------------------------------------------------

@role_required(*CLINICAL_ROLES)
def procedure_new(request, patient_pk):
    user = request.user
    patient = _patient(request, patient_pk)
    plans = selectors.plan_list(user=user, patient=patient).filter(status=PlanStatus.ACTIVE)
    lots = selectors.lot_list(user=user, usable_only=True, clinic_id=patient.clinic_id)
    samples = selectors.released_samples(user=user, patient=patient)
    initial = {"performed_on": timezone.localdate()}
    if request.GET.get("plan"):
        plan = plans.filter(pk=request.GET["plan"]).first()
        if plan:
            initial.update(plan=plan, modality=plan.modalities.first())
    form = forms.ProcedureForm(request.POST or None, initial=initial, plans=plans, samples=samples, lots=lots)
    zones = forms.zones_from_post(request.POST) if request.method == "POST" else {}
    ctx = {"patient": patient, "zones": [(code, label, zones.get(code)) for code, label in rules.ZONES],
           "max_ml": rules.MAX_ZONE_VOLUME_ML, "has_consent": services.has_treatment_consent(patient)}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        lot_rows = form.lots()
        if not form.errors:
            try:
                procedure = services.procedure_record(
                    actor=user, patient=patient, modality=d["modality"], performed_on=d["performed_on"], zones=zones,
                    plan=d["plan"], delivery=d["delivery"], anaesthesia=d["anaesthesia"],
                    anaesthesia_detail=d["anaesthesia_detail"], device=d["device"], needle=d["needle"],
                    microneedling_depth_mm=d["microneedling_depth_mm"], lots=lot_rows, sample=d["sample"],
                    notes=d["notes"])
            except ActionError as exc:
                return _fail(request, form, exc, "treatments/procedure_form.html", ctx)
            messages.success(request, "Procedure recorded.")
            return redirect("treatments:procedure", pk=procedure.pk)
    return render(request, "treatments/procedure_form.html", {**ctx, "form": form},
                  status=400 if form.errors else 200)


@role_required(*selectors.TREATMENT_VIEW_ROLES)
def procedure_detail(request, pk):
    procedure = selectors.procedure_get(user=request.user, pk=pk)
    zones = list(procedure.zones.all())
    uses = list(procedure.product_uses.all())  # only the lots the user may see (selectors.procedure_list)
    return render(request, "treatments/procedure_detail.html", {
        "procedure": procedure, "patient": procedure.patient, "zones": zones, "uses": uses,
        "study_product": blinded.procedure_notes(request.user, [procedure.pk]).get(procedure.pk),
        "treated": {z.zone for z in zones},
        "adverse_events": procedure.adverse_events.all(),
        "can_record": has_role(request.user, *CLINICAL_ROLES),
        "history": record_history(procedure, related=[*zones, *uses]),
    })


# --- adverse events -----------------------------------------------------------------------------

@role_required(*CLINICAL_ROLES)
def adverse_event_new(request, patient_pk):
    patient = _patient(request, patient_pk)
    procedures = selectors.procedure_list(user=request.user, patient=patient)
    initial = {"onset_on": timezone.localdate()}
    if request.GET.get("procedure"):
        initial["procedure"] = procedures.filter(pk=request.GET["procedure"]).first()
    form = forms.AdverseEventForm(request.POST or None, initial=initial, procedures=procedures)
    ctx = {"patient": patient}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            event = services.adverse_event_record(actor=request.user, patient=patient, **d)
        except ActionError as exc:
            return _fail(request, form, exc, "treatments/adverse_event_form.html", ctx)
        messages.success(request, "Adverse event recorded.")
        return redirect("treatments:adverse_event", pk=event.pk)
    return render(request, "treatments/adverse_event_form.html", {**ctx, "form": form},
                  status=400 if form.errors else 200)


@role_required(*selectors.TREATMENT_VIEW_ROLES)
def adverse_event_detail(request, pk):
    event = selectors.adverse_event_get(user=request.user, pk=pk)
    can_update = has_role(request.user, *CLINICAL_ROLES)
    form = None
    status = 200
    if can_update:
        procedures = selectors.procedure_list(user=request.user, patient=event.patient)
        form = forms.AdverseEventForm(request.POST or None, instance=None, procedures=procedures, initial={
            f: getattr(event, f) for f in services.AE_UPDATABLE} | {"procedure": event.procedure})
        if request.method == "POST" and form.is_valid():
            d = {k: v for k, v in form.cleaned_data.items() if k in services.AE_UPDATABLE}
            try:
                services.adverse_event_update(actor=request.user, event=event, **d)
            except ActionError as exc:
                if isinstance(exc, NotFound):
                    raise Http404(exc.message) from None
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, "Adverse event updated.")
                return redirect("treatments:adverse_event", pk=event.pk)
        elif request.method == "POST":
            status = 400
    elif request.method == "POST":
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only clinicians update adverse events.")
    return render(request, "treatments/adverse_event_detail.html", {
        "event": event, "patient": event.patient, "form": form, "history": record_history(event)}, status=status)


# --- stock and recalls --------------------------------------------------------------------------

@role_required(*selectors.STOCK_VIEW_ROLES)
def lots(request):
    user = request.user
    clinics = Clinic.objects.filter(pk__in=user.clinic_ids)
    products = selectors.product_list(user=user)
    lot_form = forms.LotForm(request.POST if request.POST.get("form") == "lot" else None, products=products,
                             clinics=clinics, prefix="lot")
    product_form = forms.ProductForm(request.POST if request.POST.get("form") == "product" else None, prefix="product")
    status = 200
    if request.method == "POST":
        status = 400
        try:
            if request.POST.get("form") == "lot" and lot_form.is_valid():
                lot = services.lot_receive(actor=user, **lot_form.cleaned_data)
                messages.success(request, f"{lot} received: {lot.quantity_on_hand} {lot.product.unit}.")
                return redirect("treatments:lots")
            if request.POST.get("form") == "product" and product_form.is_valid():
                product = services.product_create(actor=user, **product_form.cleaned_data)
                messages.success(request, f"{product} added; receive its lots below.")
                return redirect("treatments:lots")
        except ActionError as exc:
            form = lot_form if request.POST.get("form") == "lot" else product_form
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = exc.status
    today = timezone.localdate()
    return render(request, "treatments/lots.html", {
        "lots": selectors.lot_list(user=user), "today": today, "lot_form": lot_form, "product_form": product_form,
    }, status=status)


@role_required(*selectors.STOCK_VIEW_ROLES)
def lot_detail(request, pk):
    lot = selectors.lot_get(user=request.user, pk=pk)
    form = forms.RecallForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.lot_recall(actor=request.user, lot=lot, reason=form.cleaned_data["reason"])
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, f"{lot} recalled. The patients who received it are listed below.")
                return redirect("treatments:lot", pk=lot.pk)
    uses = selectors.lot_recipients(user=request.user, lot_number=lot.lot_number).filter(lot=lot)
    return render(request, "treatments/lot_detail.html", {
        "lot": lot, "uses": uses, "form": form, "today": timezone.localdate(), "history": record_history(lot)},
        status=status)


@role_required(*selectors.TREATMENT_VIEW_ROLES)
def recall_search(request):
    q = (request.GET.get("lot") or "").strip()
    uses = list(selectors.lot_recipients(user=request.user, lot_number=q)) if q else []
    patients = {u.procedure.patient_id for u in uses}
    return render(request, "treatments/recall.html", {"q": q, "uses": uses, "patient_count": len(patients)})


# --- samples (the lab's pages show the code and patient number only) ----------------------------

@role_required(*selectors.SAMPLE_VIEW_ROLES)
def samples(request):
    status = request.GET.get("status") or ""
    code = (request.GET.get("code") or "").strip()
    if code:
        try:
            sample = selectors.sample_by_code(user=request.user, code=code)
        except Http404:
            messages.error(request, f"No sample with code {code} at the clinics you work at; check the label.")
        else:
            return redirect("treatments:sample", pk=sample.pk)
    qs = selectors.sample_list(user=request.user, status=status if status in rules.STATUS_LABELS else None)
    return render(request, "treatments/samples.html", {"samples": qs[:200], "status": status,
                                                       "statuses": rules.STATUSES})


@role_required(*CLINICAL_ROLES)
def sample_new(request, patient_pk):
    patient = _patient(request, patient_pk)
    form = forms.HarvestForm(request.POST or None)
    ctx = {"patient": patient}
    if request.method == "POST" and form.is_valid():
        try:
            sample = services.sample_harvest(actor=request.user, patient=patient, **form.cleaned_data)
        except ActionError as exc:
            return _fail(request, form, exc, "treatments/sample_form.html", ctx)
        messages.success(request, f"Sample {sample.code} recorded. Print its label and send it to the lab.")
        return redirect("treatments:sample", pk=sample.pk)
    return render(request, "treatments/sample_form.html", {**ctx, "form": form}, status=400 if form.errors else 200)


@role_required(*selectors.SAMPLE_VIEW_ROLES)
def sample_detail(request, pk):
    user = request.user
    sample = selectors.sample_get(user=user, pk=pk)
    steps = [s for s in rules.allowed_steps(sample.status) if s != rules.IMPLANTED]
    can_record = has_role(user, *services.CUSTODY_ROLES) and bool(steps)
    form = forms.CustodyForm(request.POST or None, steps=steps) if can_record else None
    status = 200
    if request.method == "POST":
        if form is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Your role does not record custody steps, or the sample's chain is closed.")
        status = 400
        if form.is_valid():
            try:
                services.custody_record(actor=user, sample=sample, step=form.cleaned_data["step"],
                                        at=form.cleaned_data["at"], details=form.details(),
                                        notes=form.cleaned_data["notes"])
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, "Custody step recorded.")
                return redirect("treatments:sample", pk=sample.pk)
    events = list(sample.custody.select_related("by"))
    return render(request, "treatments/sample_detail.html", {
        "sample": sample, "events": events, "form": form, "show_patient_link": selectors.can_see_identity(user),
        "history": record_history(sample, related=events)}, status=status)


def qr_svg(text: str) -> str:
    """An inline SVG QR code for ``text`` (no external service, prints sharp at any size)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode()
    return svg[svg.index("<svg"):]


@role_required(*selectors.SAMPLE_VIEW_ROLES)
def sample_label(request, pk):
    sample = selectors.sample_get(user=request.user, pk=pk)
    return render(request, "treatments/sample_label.html", {"sample": sample, "qr": mark_safe(qr_svg(sample.code))})
