from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("", views.outcome_table, name="table"),
    path("outcomes.csv", views.outcome_table_csv, name="table_csv"),
    path("patients/<int:pk>/", views.patient_timeline, name="patient"),
    path("patients/<int:pk>/report.pdf", views.patient_report, name="report"),
    path("patients/<int:pk>/report/prepare", views.patient_report_prepare, name="report_prepare"),
]
