"""Study pages for data quality, the lock and the results (issue items 8, 9, 10 in part):

- ``quality``: data queries (raise, answer, close), source-data verification flags, the
  database lock and recorded unlock. Every team member but the evaluators (who see no subject
  records); no arm is shown.
- ``results``: CONSORT, baseline table, primary and supporting analyses, per-visit means, plots,
  adverse events, listing; the PDF report; the CONSORT figure as SVG or PNG. They reveal the
  arms: see :mod:`anagen.studies.analysis_services` for who may see them (403 otherwise).
- ``dataset.csv`` and ``dictionary.csv``: the analysis dataset and its data dictionary; the
  blinded study statistician and investigators get it without the arm columns before the lock.
- ``odm.xml``: the study as CDISC ODM 1.3.2 with its audit trail (:mod:`anagen.studies.odm`),
  under the same rule (blinded: no allocation); ``exports``: the page that lists the exports.
- ``baseline.csv``, ``effects.csv``, ``change.csv``, ``adverse-events.csv``, ``listing.csv``: each
  results table, by arm for whoever may see the results; pooled with no arm for the blinded
  statistician and investigators before the lock (the analyses not at all).
- ``sample-size``: sample-size planning for the study's design (no arm is revealed).
"""

from __future__ import annotations

import csv
import dataclasses
import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from anagen.core.dates import date_text, datetime_text
from anagen.core.errors import ActionError
from anagen.core.permissions import role_required

from . import analysis_services, blinding, datasets, lock, quality_services, selectors
from .models import DataQuery, SideMeasurement, SourceVerification, StudyRole
from .views import STUDY_PAGE_ROLES

class RaiseForm(forms.Form):
    subject = forms.ChoiceField()
    # A plain field shown as a select: a visit that is not offered (another subject's, another
    # clinic's) gets the service's message, not a generic "not one of the choices".
    visit = forms.CharField(required=False, label="Assessment visit (optional)", widget=forms.Select,
                            help_text="The subject's visit the data point was recorded at, if the query is about one.")
    data_point = forms.CharField(max_length=120, help_text="e.g. density_per_cm2 at week 12")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class LockForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label="Your password",
                               help_text="Re-enter your password to sign the lock.")


class UnlockForm(LockForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason for unlocking")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = "Re-enter your password to sign the unlock."


class UnblindForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label="Your password",
                               help_text="Re-enter your password to sign the unblinding of the analysis.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "unblind_%s")  # shown beside the unlock form, which has a password too
        super().__init__(*args, **kwargs)


class SdvForm(forms.Form):
    subject = forms.ChoiceField()
    data_point = forms.CharField(max_length=120, help_text="e.g. baseline density_per_cm2")
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "sdv_%s")  # the page's forms share field names; ids stay unique
        super().__init__(*args, **kwargs)


class VisitImageSelect(forms.Select):
    """The photograph select: each option names its visit (``data-visit="<subject>:<visit>"``, the
    visit select's value), so that the page's script can offer only the chosen visit's images.
    Without the script every image is listed, grouped by subject and visit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit_of: dict[str, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        visit = self.visit_of.get(str(value))
        if visit:
            option["attrs"]["data-visit"] = visit
        return option


class SideValueForm(forms.Form):
    visit = forms.ChoiceField(label="Subject and assessment visit")
    side = forms.ChoiceField(choices=[("left", "Left"), ("right", "Right")])
    density_per_cm2 = forms.FloatField(label="Target-area density (hairs/cm²)", min_value=0, max_value=1000)
    # A plain field shown as a select: an image that is not offered gets the service's message
    # (another patient's, another visit's, voided), not a generic "not one of the choices".
    image = forms.CharField(required=False, label="Photograph of this half (optional)", widget=VisitImageSelect,
                            help_text="The half's target-area image of that visit the value was counted from. "
                                      "Once it is read blind, the analysis takes the blinded reading.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "side_%s")  # the query form has a visit select too
        super().__init__(*args, **kwargs)


def _subject_visits(user, subjects) -> list[tuple]:
    """(subject, visit) for the subjects' assessment visits held at a clinic the user works at,
    by subject code and visit date."""
    from anagen.assessments.models import AssessmentVisit

    by_patient = {s.patient_id: s for s in subjects}
    visits = AssessmentVisit.objects.filter(patient_id__in=list(by_patient), clinic_id__in=list(user.clinic_ids))
    return sorted(((by_patient[v.patient_id], v) for v in visits),
                  key=lambda sv: (sv[0].code, sv[1].visit_date, sv[1].pk))


def _side_visit_choices(user, subjects) -> list[tuple[str, str]]:
    """The subjects' assessment visits held at a clinic the user works at."""
    return [(f"{s.pk}:{v.pk}", f"{s.code}, {date_text(v.visit_date)}") for s, v in _subject_visits(user, subjects)]


def _query_visit_choices(user, subjects) -> list[tuple[str, str]]:
    """The raise form's visit select: none, then each subject's visits at the user's clinics
    (subject code and visit date, never a patient name)."""
    return [("", "None: not about one visit"),
            *((str(v.pk), f"{s.code}, visit of {date_text(v.visit_date)}") for s, v in _subject_visits(user, subjects))]


def _query_visit(value: str):
    """The posted visit of a query, or None; the service checks it is the subject's and held at a
    clinic the user works at."""
    from anagen.assessments.models import AssessmentVisit
    from anagen.core.errors import NotFound

    if not value:
        return None
    visit = AssessmentVisit.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if visit is None:
        raise NotFound("No such assessment visit at a clinic you work at.")
    return visit


def _side_images(user, patient_ids):
    """The target-area images a half's value may name: not voided, of the given patients' visits
    held at a clinic the user works at (another clinic's photographs are never listed)."""
    from anagen.assessments.models import ImageKind, TrichogramImage

    return (TrichogramImage.objects.filter(visit__patient_id__in=list(patient_ids),
                                           visit__clinic_id__in=list(user.clinic_ids), kind=ImageKind.TARGET,
                                           voided_at__isnull=True)
            .select_related("visit")
            .order_by("visit__patient_id", "visit__visit_date", "visit_id", "uploaded_at", "id"))


def _side_image_choices(user, subjects) -> tuple[list, dict[str, str]]:
    """The photograph select: "none", then one group per subject and visit, each of its target images
    by upload date (codes and dates only: the page names subjects by their codes); and per image
    the visit select's value of its visit."""
    by_patient = {s.patient_id: s for s in subjects}
    per_visit: dict[int, list] = {}
    for image in _side_images(user, by_patient):
        per_visit.setdefault(image.visit_id, []).append(image)
    choices: list = [("", "None: the value as recorded")]
    visit_of: dict[str, str] = {}
    for images in per_visit.values():
        visit = images[0].visit
        subject = by_patient[visit.patient_id]
        group = f"{subject.code}, visit of {date_text(visit.visit_date)}"
        choices.append((group, [(str(i.pk), f"Target image {n} of {len(images)}, uploaded "
                                            f"{datetime_text(timezone.localtime(i.uploaded_at))}")
                                for n, i in enumerate(images, start=1)]))
        visit_of.update({str(i.pk): f"{subject.pk}:{visit.pk}" for i in images})
    return choices, visit_of


def _side_image(user, value: str):
    """The posted photograph, or None; a clear refusal for one that is not at the user's clinics."""
    from anagen.assessments.models import TrichogramImage

    if not value:
        return None
    image = None
    if value.isdigit():
        image = (TrichogramImage.objects.filter(pk=int(value), visit__clinic_id__in=list(user.clinic_ids))
                 .select_related("visit").first())
    if image is None:
        raise ActionError("No such photograph at a clinic you work at: choose one of the subject's target-area "
                          "images of that visit, or none.", field="image")
    return image


class PlanForm(forms.Form):
    difference = forms.FloatField(label="Difference to detect (hairs/cm²)", initial=10)
    sd = forms.FloatField(label="SD", initial=20, help_text="Split-scalp: SD of the within-patient difference; "
                                                           "parallel: SD of the change from baseline.")
    rho = forms.FloatField(label="Baseline-follow-up correlation (parallel, ANCOVA)", required=False,
                           min_value=-0.99, max_value=0.99)
    power = forms.FloatField(initial=0.8, min_value=0.5, max_value=0.99)
    alpha = forms.FloatField(initial=0.05, min_value=0.001, max_value=0.2)
    dropout = forms.FloatField(label="Drop-out share", initial=0.1, min_value=0, max_value=0.9)


def _study(request, pk):
    return selectors.study_get(user=request.user, pk=pk)


def _quality_context(request, study, **extra) -> dict:
    subjects = selectors.subject_list(user=request.user, study=study).exclude(status="screen_failed")
    choices = [(s.pk, s.code) for s in subjects]
    raise_form = extra.pop("raise_form", None) or RaiseForm()
    sdv_form = extra.pop("sdv_form", None) or SdvForm()
    raise_form.fields["subject"].choices = choices
    raise_form.fields["visit"].widget.choices = _query_visit_choices(request.user, subjects)
    sdv_form.fields["subject"].choices = choices
    role = blinding.study_role(request.user, study)
    split = study.design == "split_scalp"
    side_form = extra.pop("side_form", None) or SideValueForm()
    can_record_sides = split and role in quality_services.SIDE_VALUE_ROLES
    if can_record_sides:
        randomized = list(subjects.filter(allocation__isnull=False))
        side_form.fields["visit"].choices = _side_visit_choices(request.user, randomized)
        widget = side_form.fields["image"].widget
        widget.choices, widget.visit_of = _side_image_choices(request.user, randomized)
    return {
        "study": study, "role": role, "split": split, "side_form": side_form,
        "can_record_sides": can_record_sides,
        "side_values": (SideMeasurement.objects.filter(subject__in=subjects)
                        .select_related("subject", "visit", "source_image")
                        .order_by("subject__code", "visit__visit_date", "side") if split else []), "locked": lock.is_locked(study), "last_event": lock.last_event(study),
        "events": study.lock_events.select_related("by", "unblinded_by").order_by("-at", "-id"),
        "queries": DataQuery.objects.filter(study=study, subject__in=subjects)
        .select_related("subject", "visit", "raised_by", "answered_by", "closed_by"),
        "verifications": SourceVerification.objects.filter(study=study, subject__in=subjects)
        .select_related("subject", "verified_by"),
        "raise_form": raise_form, "sdv_form": sdv_form,
        "lock_form": extra.pop("lock_form", None) or LockForm(),
        "unlock_form": extra.pop("unlock_form", None) or UnlockForm(),
        "unblind_form": extra.pop("unblind_form", None) or UnblindForm(),
        "results_released": lock.results_released(study), "unblinding_meaning": lock.UNBLINDING_MEANING,
        "can_raise": role in quality_services.RAISE_ROLES, "can_answer": role in quality_services.ANSWER_ROLES,
        "can_sdv": role in quality_services.SDV_ROLES, "can_lock": role in lock.LOCK_ROLES,
        "is_statistician": role in quality_services.STATISTICIAN_ROLES,
        **extra,
    }


def _query(study, request) -> DataQuery:
    from django.http import Http404

    try:
        return DataQuery.objects.get(study=study, pk=int(request.POST.get("query", "")))
    except (DataQuery.DoesNotExist, ValueError, TypeError):
        raise Http404("No such query in this study.") from None


@role_required(*STUDY_PAGE_ROLES)
def quality(request, pk: int):
    study = _study(request, pk)
    if blinding.study_role(request.user, study) == StudyRole.EVALUATOR:
        raise PermissionDenied("Evaluators read coded images; the subjects' data are not shown to them.")
    if request.method != "POST":
        return render(request, "studies/analysis/quality.html", _quality_context(request, study))
    action = request.POST.get("action", "")
    extra: dict = {}
    try:
        if action == "raise":
            form = extra["raise_form"] = RaiseForm(request.POST)
            form.fields["subject"].choices = [(str(s.pk), s.code) for s in selectors.subject_list(
                user=request.user, study=study)]
            if not form.is_valid():
                raise ActionError("Fill in the subject, the data point and the question.")
            subject = selectors.subject_get(user=request.user, study=study, pk=form.cleaned_data["subject"])
            visit = _query_visit(form.cleaned_data["visit"])
            quality_services.query_raise(actor=request.user, subject=subject, data_point=form.cleaned_data["data_point"],
                                         question=form.cleaned_data["question"], visit=visit)
            messages.success(request, f"Query raised on {subject.code}"
                                      + (f", visit of {date_text(visit.visit_date)}." if visit else "."))
        elif action == "answer":
            query = _query(study, request)
            quality_services.query_answer(actor=request.user, query=query, answer=request.POST.get("answer", ""))
            messages.success(request, f"Query on {query.subject.code} answered.")
        elif action == "close":
            query = _query(study, request)
            quality_services.query_close(actor=request.user, query=query, note=request.POST.get("note", ""))
            messages.success(request, f"Query on {query.subject.code} closed.")
        elif action == "sdv":
            form = extra["sdv_form"] = SdvForm(request.POST)
            form.fields["subject"].choices = [(str(s.pk), s.code) for s in selectors.subject_list(
                user=request.user, study=study)]
            if not form.is_valid():
                raise ActionError("Choose the subject and name the data point verified.")
            subject = selectors.subject_get(user=request.user, study=study, pk=form.cleaned_data["subject"])
            quality_services.sdv_flag(actor=request.user, subject=subject, data_point=form.cleaned_data["data_point"],
                                      note=form.cleaned_data["note"])
            messages.success(request, f"{form.cleaned_data['data_point']} of {subject.code} flagged as verified.")
        elif action == "side_value":
            form = extra["side_form"] = SideValueForm(request.POST)
            subjects = selectors.subject_list(user=request.user, study=study).filter(allocation__isnull=False)
            form.fields["visit"].choices = _side_visit_choices(request.user, subjects)
            if not form.is_valid():
                raise ActionError("Choose the subject's visit and the side, and give the density (0 to 1000 hairs/cm²).")
            subject_pk, visit_pk = form.cleaned_data["visit"].split(":")
            subject = selectors.subject_get(user=request.user, study=study, pk=subject_pk)
            from anagen.assessments.models import AssessmentVisit

            visit = AssessmentVisit.objects.get(pk=int(visit_pk), patient_id=subject.patient_id)
            image = _side_image(request.user, form.cleaned_data["image"])
            quality_services.side_value_record(actor=request.user, subject=subject, visit=visit,
                                               side=form.cleaned_data["side"],
                                               density_per_cm2=form.cleaned_data["density_per_cm2"], image=image)
            messages.success(request, f"{subject.code}: {form.cleaned_data['side']} side recorded"
                                      + (" with its photograph." if image else "."))
        elif action == "lock":
            form = extra["lock_form"] = LockForm(request.POST)
            lock.study_lock(actor=request.user, study=study, password=request.POST.get("password", ""))
            messages.success(request, "The database is locked: the study's data no longer change.")
        elif action == "unblind":
            form = extra["unblind_form"] = UnblindForm(request.POST)
            lock.analysis_unblind(actor=request.user, study=study, password=request.POST.get("password", ""))
            messages.success(request, "The unblinding of the analysis is signed: the results are open to the study's "
                                      "statisticians and investigators.")
        elif action == "unlock":
            form = extra["unlock_form"] = UnlockForm(request.POST)
            lock.study_unlock(actor=request.user, study=study, password=request.POST.get("password", ""),
                              reason=request.POST.get("reason", ""))
            messages.warning(request, "The database is unlocked; the reason is recorded.")
        else:
            raise ActionError("Unknown action.")
    except ActionError as exc:
        extra["error"] = exc.message
        return render(request, "studies/analysis/quality.html", _quality_context(request, study, **extra),
                      status=exc.status if exc.status in (400, 404, 409) else 400)
    return redirect("studies:quality", pk=study.pk)


def _rendered(request, pk, kind: str):
    study = _study(request, pk)
    res, rendered = analysis_services.rendered_for(user=request.user, study=study, kind=kind)
    return study, res, rendered


def _context(request, study, res, rendered, *, for_pdf=False) -> dict:
    from .report import results_context

    return results_context(user=request.user, study=study, res=res, rendered=rendered, for_pdf=for_pdf)


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def results(request, pk: int):
    study, res, rendered = _rendered(request, pk, "svg")
    return render(request, "studies/analysis/results.html", _context(request, study, res, rendered))


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def report_pdf(request, pk: int):
    from .report import report_pdf as make

    pdf, filename = make(user=request.user, study=_study(request, pk),
                         uncompressed=request.GET.get("uncompressed") == "1")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*STUDY_PAGE_ROLES)
@require_POST
def report_prepare(request, pk: int):
    """Ask for the PDF study report in the background; its page shows progress and the download."""
    from anagen.jobs.prepared import request_file

    prepared = request_file(user=request.user, kind="study_report", params={"study": _study(request, pk).pk})
    return redirect("jobs:prepared", key=prepared.key)


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def consort_figure(request, pk: int, fmt: str = "svg"):
    from anagen.evidence.figures import consort_diagram

    from .datasets import build

    study = _study(request, pk)
    analysis_services.check_results(request.user, study)
    data = build(study)
    chart = consort_diagram(analysis_services.consort_counts(data))
    if fmt == "png":
        return HttpResponse(chart.png(dpi=130), content_type="image/png")
    return HttpResponse(chart.svg(), content_type="image/svg+xml")


def _export_allowed(request, study) -> bool:
    """True: the full dataset; False: the blinded one (no arm columns); 403 for everyone else."""
    return analysis_services.export_full(request.user, study)


def _csv_response(rows, header, filename) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def dataset_csv(request, pk: int):
    filename, header, rows = analysis_services.dataset_export(user=request.user, study=_study(request, pk))
    return _csv_response(rows, header, filename)


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def dictionary_csv(request, pk: int):
    filename, header, rows = analysis_services.dictionary_export(user=request.user, study=_study(request, pk))
    return _csv_response(rows, header, filename)


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def odm_xml(request, pk: int):
    from .odm import odm_for

    export = odm_for(user=request.user, study=_study(request, pk))
    response = HttpResponse(export.content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def exports(request, pk: int):
    """The study's exports this member may download: full (with the arms) or blinded."""
    study = _study(request, pk)
    full = _export_allowed(request, study)
    return render(request, "studies/analysis/exports.html", {
        "study": study, "full": full, "locked": lock.is_locked(study)})


def _num(x, digits=4):
    return "" if x is None else f"{x:.{digits}f}"


def _effect_rows(effects):
    for e in effects:
        yield [e.method, e.analysis_set, e.contrast, e.visit_week or "", _num(e.estimate), _num(e.ci[0]), _num(e.ci[1]),
               _num(e.p_value, 6), e.n, e.n_missing, e.n_unblinded, e.note]


def _table(res, table: str) -> tuple[list[str], list[list]]:
    if table == "baseline":
        return ["characteristic", *res.baseline["columns"]], [[label, *cells] for label, cells in res.baseline["rows"]]
    if table == "effects":
        effects = [*(res.primary.results if res.primary else ()), *(res.per_protocol.results if res.per_protocol else ())]
        # the active arms against each other (studies with at least two), noted like the primary rows
        for between in (res.between_active, res.between_active_pp):
            if between is not None:
                effects += [dataclasses.replace(c.effect, note=analysis_services.multiplicity_note(c))
                            for c in between.contrasts]
        if res.supporting is not None:
            effects += list(getattr(res.supporting, "effects", None) or [res.supporting])
        return (["method", "analysis_set", "contrast", "visit_week", "estimate", "ci_lower", "ci_upper", "p_value",
                 "n", "n_missing", "n_unblinded", "note"], list(_effect_rows(effects)))
    if table == "change":
        rows = res.change.rows if res.change else ()
        return (["arm", "visit_week", "n", "n_missing", "mean_change", "sd", "ci_lower", "ci_upper", "note"],
                [[r.arm, r.visit_week, r.n, r.n_missing, _num(r.mean), _num(r.sd), _num(r.ci[0]), _num(r.ci[1]), r.note]
                 for r in rows])
    if table == "adverse_events":
        return (["subject", "arm", "onset_on", "severity", "serious", "relation", "description"],
                [[e["subject"], e["arm"], e["onset_on"], e["severity"], int(e["serious"]), e["relation"],
                  e["description"]] for e in res.adverse_events["events"]])
    return ["subject", "what", "detail"], [[r["subject"], r["kind"], r["detail"]] for r in res.listing]


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def table_csv(request, pk: int, table: str):
    """One results table as CSV, by the dataset export's rule: by arm for whoever may see the
    results; pooled, with no arm (``blinded``), for the blinded statistician and investigators
    before the lock (the analyses have no blinded variant: 403)."""
    study = _study(request, pk)
    if analysis_services.export_full(request.user, study):
        res = analysis_services.results_for(user=request.user, study=study, figures=False)
        header, rows = _table(res, table)
        kind = "interim" if res.interim else "final"
    else:
        header, rows = analysis_services.blinded_table(datasets.build(study), table)
        kind = "blinded"
    return _csv_response(rows, header, f"study-{study.pk}-{table.replace('_', '-')}-{kind}-"
                                       f"{timezone.localdate():%Y-%m-%d}.csv")


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def sample_size(request, pk: int):
    study = _study(request, pk)
    if blinding.study_role(request.user, study) not in analysis_services.PLANNING_ROLES:
        raise PermissionDenied("Sample-size planning is for the study's statisticians and investigators.")
    form = PlanForm(request.GET or None)
    result, error, status = None, None, 200
    if request.GET:
        if form.is_valid():
            try:
                result = analysis_services.plan_sample_size(user=request.user, study=study, **form.cleaned_data)
            except ActionError as exc:
                error, status = exc.message, 400
        else:
            status = 400
    return render(request, "studies/analysis/sample_size.html", {
        "study": study, "form": form, "result": result, "error": error,
        "split": study.design == "split_scalp"}, status=status)
