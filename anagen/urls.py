from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from anagen.api.urls import api
from anagen.core import views as core_views

admin.site.site_header = "Anagen administration"
admin.site.site_title = "Anagen admin"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("anagen/favicon.svg"), permanent=True)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("anagen.intake.urls")),
    path("patients/", include("anagen.patients.urls")),
    path("screening/", include("anagen.screening.urls")),
    path("calendar/", include("anagen.scheduling.urls")),
    path("treatments/", include("anagen.treatments.urls")),
    path("assessments/", include("anagen.assessments.urls")),
    path("outcomes/", include("anagen.outcomes.urls")),
    path("studies/", include("anagen.studies.urls")),
    path("jobs/", include("anagen.jobs.urls")),
]

handler400 = "anagen.core.views.error_400"
handler403 = "anagen.core.views.error_403"
handler404 = "anagen.core.views.error_404"
handler500 = "anagen.core.views.error_500"
