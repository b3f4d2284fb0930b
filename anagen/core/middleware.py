"""Response headers every page and API answer carries.

- ``Content-Security-Policy`` (settings.ANAGEN_CSP): scripts and styles only from our static
  files, so an injected ``<script>`` or ``style=`` does nothing. The API's interactive docs page
  (Swagger UI, bundled) adds style elements as it draws: it alone may use inline styles.
- ``Cache-Control: no-store`` on every answer to a signed-in staff member and on every API
  answer: a shared computer's browser cache or a proxy must not keep patient data.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import add_never_cache_headers

DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path
        if "Content-Security-Policy" not in response:
            docs = path.startswith("/api/") and path.rstrip("/").endswith("/docs")
            response["Content-Security-Policy"] = DOCS_CSP if docs else settings.ANAGEN_CSP
        user = getattr(request, "user", None)
        try:
            signed_in = bool(user is not None and user.is_authenticated)
        except Exception:  # the session could not be read (database down): assume the worst
            signed_in = True
        if (signed_in or path.startswith("/api/")) and not path.startswith(settings.STATIC_URL):
            # no-store, not just private: the page must not be kept on disk at all.
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response


class ClinicTimezoneMiddleware:
    """Show a signed-in staff member's pages in their clinic's local time.

    Dates are stored in UTC. When every clinic the person works at keeps the same timezone (the
    usual case), that zone is activated for the request, so every time on every page and in
    every message is the clinic's wall-clock time. Pages about one clinic's schedule (calendar,
    time grid, appointment) show that clinic's zone explicitly either way. The zone is read once
    per session.
    """

    SESSION_KEY = "anagen_clinic_tz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import zoneinfo

        from django.utils import timezone

        name = self._zone_name(request)
        if name:
            timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def _zone_name(self, request) -> str:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated or request.path.startswith("/api/"):
            return ""  # the API answers ISO 8601 with the offset
        cached = session.get(self.SESSION_KEY)
        if cached and cached[0] == user.pk:
            return cached[1]
        from anagen.accounts.models import Clinic

        zones = set(Clinic.objects.filter(staff=user).values_list("timezone", flat=True))
        name = zones.pop() if len(zones) == 1 else ""
        session[self.SESSION_KEY] = (user.pk, name)
        return name
