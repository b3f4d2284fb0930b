from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("clinicians/<int:clinician_pk>/", views.calendar, name="clinician_calendar"),
    path("grid/", views.grid, name="grid"),
    path("patients.json", views.patient_search_json, name="patient_search"),
    path("book/", views.book, name="book"),
    path("availability/", views.availability, name="availability"),
    path("appointments/<int:pk>/", views.detail, name="detail"),
    path("appointments/<int:pk>/ics", views.ics, name="ics"),
    path("appointments/<int:pk>/reschedule", views.reschedule, name="reschedule"),
    path("appointments/<int:pk>/move", views.grid_move, name="grid_move"),
    path("appointments/<int:pk>/cancel", views.cancel, name="cancel"),
    path("appointments/<int:pk>/no-show", views.no_show, name="no_show"),
    path("appointments/<int:pk>/complete", views.complete, name="complete"),
]
