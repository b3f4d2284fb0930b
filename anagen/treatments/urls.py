from django.urls import path

from . import views

app_name = "treatments"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("plans/new/<int:patient_pk>/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/revise/", views.plan_revise, name="plan_revise"),
    path("proposals/<int:pk>/confirm/", views.proposal_confirm, name="proposal_confirm"),
    path("procedures/new/<int:patient_pk>/", views.procedure_new, name="procedure_new"),
    path("procedures/<int:pk>/", views.procedure_detail, name="procedure"),
    path("adverse-events/new/<int:patient_pk>/", views.adverse_event_new, name="adverse_event_new"),
    path("adverse-events/<int:pk>/", views.adverse_event_detail, name="adverse_event"),
    path("lots/", views.lots, name="lots"),
    path("lots/<int:pk>/", views.lot_detail, name="lot"),
    path("recall/", views.recall_search, name="recall"),
    path("samples/", views.samples, name="samples"),
    path("samples/new/<int:patient_pk>/", views.sample_new, name="sample_new"),
    path("samples/<int:pk>/", views.sample_detail, name="sample"),
    path("samples/<int:pk>/label/", views.sample_label, name="sample_label"),
]
