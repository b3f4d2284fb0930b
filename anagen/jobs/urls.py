from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("documents/<uuid:key>/", views.prepared, name="prepared"),
    path("documents/<uuid:key>/download", views.prepared_download, name="prepared_download"),
]
