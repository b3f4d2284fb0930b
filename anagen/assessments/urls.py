from django.urls import path

from . import views, views_validation

app_name = "assessments"
urlpatterns = [
    path("patients/<int:patient_id>/visits/", views.patient_visits, name="patient_visits"),
    path("patients/<int:patient_id>/compare/", views.compare, name="compare"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/assessment", views.visit_update, name="visit_update"),
    path("visits/<int:pk>/photos", views.photo_upload, name="photo_upload"),
    path("visits/<int:pk>/images", views.image_upload, name="image_upload"),
    path("visits/<int:pk>/exclusion", views.measurement_exclude, name="measurement_exclude"),
    path("images/<int:pk>/", views.image_detail, name="image"),
    path("images/<int:pk>/status.json", views.image_status, name="image_status"),
    path("images/<int:pk>/file", views.image_file, name="image_file"),
    path("images/<int:pk>/overlay.png", views.image_overlay, name="image_overlay"),
    path("images/<int:pk>/corrections", views.image_correct, name="image_correct"),
    path("images/<int:pk>/retry", views.image_retry, name="image_retry"),
    path("images/<int:pk>/void", views.image_void, name="image_void"),
    path("images/<int:pk>/reanalyse", views.image_reanalyse, name="image_reanalyse"),
    path("images/<int:pk>/match", views.image_match, name="image_match"),
    path("photos/<int:pk>/file", views.photo_file, name="photo_file"),
    path("images/<int:pk>/reference", views_validation.image_reference, name="image_reference"),
    path("devices/", views_validation.device_list, name="device_list"),
    path("devices/<int:pk>/validation/", views_validation.device_validation, name="device_validation"),
    path("devices/<int:pk>/adjustments", views_validation.device_adjustment_fit, name="device_adjustment_fit"),
    path("adjustments/<int:pk>/activation", views_validation.adjustment_activation, name="adjustment_activation"),
]
