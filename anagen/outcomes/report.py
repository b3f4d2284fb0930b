"""The patient's progress report as a PDF (HTML rendered by WeasyPrint).

The report holds the clinic's header, the patient's name and number, the treatment sessions,
the progress chart (the page's SVG with a y axis from zero and larger labels), the baseline and
latest target-area images two by two (photograph and the engine's overlay, each sized to fit the
page), the numbers with their change from baseline under plain-language headings, a short
glossary, the global assessments, and a plain-language note on how the measurements were made.
Table rows and image rows are never split across pages.

Images are embedded as data URIs, downscaled to at most :data:`IMAGE_MAX_PX` pixels on the long
side, so the report works with any storage backend and stays small. One patient's report
renders in about a second: the report link on the timeline asks for it in the background
(:mod:`anagen.jobs.prepared`, kind ``progress_report``) and the direct URL still makes it in
the request, for API clients and scripts.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone

from . import charts, selectors

log = logging.getLogger(__name__)

IMAGE_MAX_PX = 900
# The chart is 640 units wide and printed about 180 mm wide: 16 units is about 9 pt on paper.
REPORT_CHART_FONT = 16


@dataclass(frozen=True)
class ReportImage:
    label: str
    visit_date: object
    image_uri: str
    overlay_uri: str
    corrected: bool


def _data_uri(field_file) -> str:
    """A downscaled PNG/JPEG data URI of a stored image, or "" if it cannot be read."""
    if not field_file:
        return ""
    try:
        from PIL import Image

        with field_file.open("rb") as fh:
            img = Image.open(io.BytesIO(fh.read()))
            img.load()
        img.thumbnail((IMAGE_MAX_PX, IMAGE_MAX_PX))
        buf = io.BytesIO()
        if img.mode in ("RGBA", "LA", "P"):
            img.save(buf, format="PNG", optimize=True)
            mime = "image/png"
        else:
            img.convert("RGB").save(buf, format="JPEG", quality=85)
            mime = "image/jpeg"
        return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"
    except Exception:  # a missing or unreadable file leaves a gap in the report, not a failed report
        log.warning("progress report: cannot read image %s", getattr(field_file, "name", field_file), exc_info=True)
        return ""


def _target_image(visit_id: int):
    """The visit's counted target-area image (the measurement's source, else the latest target image)."""
    Image = selectors._model("assessments", "TrichogramImage")
    Measurement = selectors._model("assessments", "Measurement")
    if Image is None:
        return None
    if Measurement is not None and any(f.name == "source_image" for f in Measurement._meta.get_fields()):
        m = Measurement.objects.filter(visit_id=visit_id).select_related("source_image").first()
        if m is not None and m.source_image_id:
            return m.source_image
    return Image.objects.filter(visit_id=visit_id, kind="target").order_by("-uploaded_at", "-id").first()


def _report_image(label: str, point) -> ReportImage | None:
    if point is None:
        return None
    image = _target_image(point.visit_id)
    if image is None:
        return None
    analysis = getattr(image, "analysis", None)  # None while the image has no analysis
    overlay = None
    corrected = False
    if analysis is not None:
        if analysis.corrected_overlay:
            overlay, corrected = analysis.corrected_overlay, True
        elif analysis.overlay:
            overlay = analysis.overlay
    return ReportImage(label=label, visit_date=point.visit_date, image_uri=_data_uri(image.file),
                       overlay_uri=_data_uri(overlay) if overlay else "", corrected=corrected)


GLOBAL_LABELS = {-3: "−3 greatly worse", -2: "−2 moderately worse", -1: "−1 slightly worse", 0: "0 no change",
                 1: "+1 slightly improved", 2: "+2 moderately improved", 3: "+3 greatly improved"}


def _global_label(value: int | None) -> str:
    return "–" if value is None else GLOBAL_LABELS.get(value, str(value))


def progress_report_context(*, user, patient) -> dict:
    progress = selectors.patient_progress(user=user, patient=patient)
    from anagen.assessments.selectors import can_see_photographs

    # The target-area images are clinical photographs: a coordinator's copy of the report has the numbers only.
    images = [im for im in (_report_image("Baseline", progress.baseline), _report_image("Latest", progress.latest))
              if im is not None] if can_see_photographs(user) else []
    latest_row = next((r for r in reversed(progress.rows) if r.point is progress.latest), None)
    # The report's chart: the y axis from zero, so a small change does not look large, and labels
    # big enough to read once the chart is printed at the width of an A4 page.
    chart = (charts.measurement_charts(progress.points, progress.sessions, y_from_zero=True,
                                       font_size=REPORT_CHART_FONT)[0] if progress.points else None)
    return {
        "chart": chart,
        "plain": True,
        "patient": patient,
        "clinic": patient.clinic,
        "progress": progress,
        "images": images,
        "latest_row": latest_row,
        "globals": [{"visit_date": v.visit_date, "investigator": _global_label(v.investigator_global),
                     "patient": _global_label(v.patient_global)}
                    for v in progress.visits
                    if getattr(v, "investigator_global", None) is not None
                    or getattr(v, "patient_global", None) is not None],
        "generated_at": timezone.localtime(),
        "generated_by": user,
    }


def progress_report_html(*, user, patient) -> str:
    return render_to_string("outcomes/report.html", progress_report_context(user=user, patient=patient))


def render_pdf(html: str, *, uncompressed: bool = False) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=".").write_pdf(uncompressed_pdf=uncompressed)


def progress_report_pdf(*, user, patient, uncompressed: bool = False) -> bytes:
    """The report as PDF bytes (``uncompressed`` keeps the text searchable, for tests)."""
    return render_pdf(progress_report_html(user=user, patient=patient), uncompressed=uncompressed)


def report_filename(patient) -> str:
    return f"progress-report-{patient.patient_number}-{timezone.localdate():%Y-%m-%d}.pdf"


def prepared_check(user, params: dict):
    """Background report (:mod:`anagen.jobs.prepared`): the same right as the timeline page."""
    from anagen.jobs.prepared import Access

    patient = selectors.patient_for_outcomes(user=user, pk=int(params["patient"]))
    from django.urls import reverse

    return Access(title=f"Progress report of {patient.patient_number}", subject=f"patient:{patient.pk}",
                  clinic_id=patient.clinic_id, detail={"format": "pdf"},
                  back_url=reverse("outcomes:patient", kwargs={"pk": patient.pk}),
                  back_label="Timeline and progress")


def prepared_produce(user, params: dict):
    from anagen.jobs.prepared import Made

    patient = selectors.patient_for_outcomes(user=user, pk=int(params["patient"]))
    return Made(content=progress_report_pdf(user=user, patient=patient), filename=report_filename(patient),
                content_type="application/pdf")
