"""The study's results as a page context and as the PDF study report.

The results page and the report share one context; the report embeds its figures as PNG. The
report takes several seconds for a study of 100 subjects, so the results page asks for it in
the background (:mod:`anagen.jobs.prepared`, kind ``study_report``); the direct URL still makes
it in the request, for API clients and scripts. Either way the same right applies as for the
results page (:func:`anagen.studies.analysis_services.check_results`).
"""

from __future__ import annotations

import base64

from django.template.loader import render_to_string
from django.utils import timezone

from . import analysis_services, selectors


def results_context(*, user, study, res, rendered, for_pdf: bool = False) -> dict:
    from .reading_selectors import agreement_of

    if for_pdf:
        figures = {name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in rendered.items()}
    else:
        figures = {name: svg[svg.find("<svg"):] for name, svg in rendered.items()}
    agreement = agreement_of(study)
    main = agreement.icc.get("ICC(2,1)") if agreement.icc else None
    return {"study": study, "res": res, "data": res.data, "figures": figures, "generated_at": timezone.localtime(),
            "generated_by": user, "for_pdf": for_pdf, "locked_at": res.data.locked_at,
            "agreement": agreement, "icc_main": main}


def report_pdf(*, user, study, uncompressed: bool = False) -> tuple[bytes, str]:
    """(PDF bytes, file name) of the study report for ``user`` (checked like the results page)."""
    from anagen.outcomes.report import render_pdf

    res, rendered = analysis_services.rendered_for(user=user, study=study, kind="png")
    html = render_to_string("studies/analysis/report.html",
                            results_context(user=user, study=study, res=res, rendered=rendered, for_pdf=True))
    kind = "interim" if res.interim else "final"
    return render_pdf(html, uncompressed=uncompressed), f"study-{study.pk}-{kind}-report-{timezone.localdate():%Y-%m-%d}.pdf"


def prepared_check(user, params: dict):
    """Background report (:mod:`anagen.jobs.prepared`): the results page's own rule."""
    from anagen.jobs.prepared import Access

    study = selectors.study_get(user=user, pk=int(params["study"]))
    analysis_services.check_results(user, study)
    from django.urls import reverse

    return Access(title=f"Study report of {study.title}", subject=f"study:{study.pk}", clinic_id=None,
                  detail={"format": "pdf"}, back_url=reverse("studies:results", kwargs={"pk": study.pk}),
                  back_label="Study results")


def prepared_produce(user, params: dict):
    from anagen.jobs.prepared import Made

    study = selectors.study_get(user=user, pk=int(params["study"]))
    content, filename = report_pdf(user=user, study=study)
    return Made(content=content, filename=filename, content_type="application/pdf")
