from django.urls import path

from . import views

app_name = "studies"
urlpatterns = [
    path("", views.study_list, name="list"),
    path("new", views.study_new, name="new"),
    path("reading/", views.evaluator_home, name="reading"),
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
]
