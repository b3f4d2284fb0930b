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
