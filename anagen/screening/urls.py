from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("patients/<int:patient_pk>/", views.patient_screenings, name="patient"),
    path("patients/<int:patient_pk>/new", views.screening_new, name="new"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("rules/", views.rules, name="rules"),
    path("rules/edit", views.rules_edit, name="rules_edit"),
    path("rules/v<int:version>/", views.rule_version, name="rule_version"),
]
