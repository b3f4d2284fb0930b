from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/diagnosis/", views.patient_diagnosis, name="diagnosis"),
    path("<int:pk>/staging/new/", views.staging_add, name="staging_add"),
    path("<int:pk>/medical-history/", views.medical_history_edit, name="medical_history"),
    path("<int:pk>/hair-loss-history/", views.hair_loss_history_edit, name="hair_loss_history"),
    path("<int:pk>/prior-treatments/new/", views.prior_treatment_add, name="prior_treatment_add"),
    path("<int:pk>/prior-treatments/<int:treatment_pk>/remove/", views.prior_treatment_remove,
         name="prior_treatment_remove"),
    path("<int:pk>/consents/new/", views.consent_add, name="consent_add"),
    path("<int:pk>/consents/<int:consent_pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
]
