from django.urls import path
from django.contrib.auth.decorators import login_required
from django.views.generic import TemplateView

app_name = "intake"
urlpatterns = [
    path("ask/", login_required(TemplateView.as_view(template_name="core/home.html")), name="ask"),
    path("consultation/", login_required(TemplateView.as_view(template_name="core/home.html")), name="consultation"),
    path("inbox/", login_required(TemplateView.as_view(template_name="core/home.html")), name="inbox"),
]
