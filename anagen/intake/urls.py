from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("ask/", views.ask, name="ask"),
    path("consultation/", views.consultation, name="consultation"),
    path("self-check/", views.self_check, name="self_check"),
    path("thanks/", views.thanks, name="thanks"),
    path("privacy/", views.privacy, name="privacy"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.inquiry_detail, name="detail"),
    path("inbox/<int:pk>/answer/", views.inquiry_answer, name="answer"),
    path("inbox/<int:pk>/close/", views.inquiry_close, name="close"),
    path("inbox/<int:pk>/convert/", views.inquiry_convert, name="convert"),
]
