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
