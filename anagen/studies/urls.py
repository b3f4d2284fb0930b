from django.urls import path

from . import views, views_reading

app_name = "studies"
urlpatterns = [
    path("", views.study_list, name="list"),
    path("new", views.study_new, name="new"),
    path("<int:pk>/", views.study_detail, name="detail"),
    path("<int:pk>/edit", views.study_edit, name="edit"),
    path("<int:pk>/sign", views.study_sign, name="sign"),
    path("<int:pk>/amend", views.study_amend, name="amend"),
    path("<int:pk>/close-recruitment", views.study_close_recruitment, name="close_recruitment"),
    path("<int:pk>/team", views.study_team, name="team"),
    path("<int:pk>/versions/<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/subjects/", views.subject_list, name="subjects"),
    path("<int:pk>/subjects/<int:subject_pk>/", views.subject_detail, name="subject"),
    path("<int:pk>/subjects/<int:subject_pk>/randomize", views.subject_randomize, name="randomize"),
    path("<int:pk>/subjects/<int:subject_pk>/end", views.subject_end, name="end"),
    path("<int:pk>/subjects/<int:subject_pk>/code-break", views.subject_code_break, name="code_break"),
    path("<int:pk>/enrol/<int:patient_pk>", views.enrol, name="enrol"),
    path("<int:pk>/dashboard", views.dashboard, name="dashboard"),
    path("<int:pk>/balance", views.balance, name="balance"),
    path("<int:pk>/deviations/", views.deviation_list, name="deviations"),
    path("<int:pk>/deviations/<int:deviation_pk>/close", views.deviation_close, name="deviation_close"),
    path("<int:pk>/subjects/<int:subject_pk>/deviations", views.deviation_report, name="deviation_report"),
    # Blinded reading: the evaluator's queue (their home page), coded images, agreement.
    path("reading/", views_reading.queue, name="reading"),
    path("reading/<str:code>/", views_reading.read, name="reading_image"),
    path("reading/<str:code>/sign", views_reading.sign, name="reading_sign"),
    path("reading/<str:code>/image.png", views_reading.image_file, name="reading_file"),
    path("reading/<str:code>/overlay.png", views_reading.overlay, name="reading_overlay"),
    path("reading/<str:code>/adjudicate", views_reading.adjudicate, name="reading_adjudicate"),
    path("<int:pk>/agreement", views_reading.agreement, name="reading_agreement"),
    path("<int:pk>/reading/code", views_reading.code_images, name="reading_code"),
]

# Data quality, the lock and the results (anagen/studies/views_analysis.py).
from . import views_analysis  # noqa: E402

urlpatterns += [
    path("<int:pk>/quality", views_analysis.quality, name="quality"),
    path("<int:pk>/results/", views_analysis.results, name="results"),
    path("<int:pk>/results/report.pdf", views_analysis.report_pdf, name="report_pdf"),
    path("<int:pk>/results/report/prepare", views_analysis.report_prepare, name="report_prepare"),
    path("<int:pk>/results/consort.svg", views_analysis.consort_figure, {"fmt": "svg"}, name="consort_svg"),
    path("<int:pk>/results/consort.png", views_analysis.consort_figure, {"fmt": "png"}, name="consort_png"),
    path("<int:pk>/results/dataset.csv", views_analysis.dataset_csv, name="dataset_csv"),
    path("<int:pk>/results/dictionary.csv", views_analysis.dictionary_csv, name="dictionary_csv"),
    path("<int:pk>/results/odm.xml", views_analysis.odm_xml, name="odm_xml"),
    path("<int:pk>/exports", views_analysis.exports, name="exports"),
    path("<int:pk>/sample-size", views_analysis.sample_size, name="sample_size"),
    *[path(f"<int:pk>/results/{t}.csv", views_analysis.table_csv, {"table": t.replace("-", "_")}, name=f"{t}_csv")
      for t in ("baseline", "effects", "change", "adverse-events", "listing")],
]

# Treatment and placebo delivery (anagen/studies/views_delivery.py).
from . import views_delivery  # noqa: E402

urlpatterns += [
    path("<int:pk>/lots", views_delivery.study_lots, name="lots"),
    path("<int:pk>/subjects/<int:subject_pk>/treatment", views_delivery.treatment, name="treatment"),
    path("<int:pk>/subjects/<int:subject_pk>/treatment/prepare", views_delivery.prepare, name="prepare"),
    path("<int:pk>/subjects/<int:subject_pk>/treatment/inject", views_delivery.inject, name="inject"),
    path("<int:pk>/subjects/<int:subject_pk>/treatment/discard", views_delivery.discard, name="discard"),
    path("<int:pk>/subjects/<int:subject_pk>/treatment/refill", views_delivery.refill, name="refill"),
]
