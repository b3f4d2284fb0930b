"""API authentication: a bearer token (integrations) or the browser's session (pages' scripts).

``BearerTokenMiddleware`` resolves ``Authorization: Bearer TOKEN`` into ``request.user`` before
the audit middleware runs, so changes made through the API are attributed to the token's owner.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from ninja.utils import check_csrf

from anagen.accounts.services import token_check

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class BearerTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        request.api_token_used = False
        if header[:7].lower() == "bearer " and request.path.startswith("/api/"):
            raw = header[7:].strip()
            user, reason = token_check(raw)
            request.api_token_used = True
            request.api_token_expired = reason == "expired"
            request.api_token_valid = user is not None
            if user is not None:
                request.user = user
            else:
                from django.contrib.auth.models import AnonymousUser

                request.user = SimpleLazyObject(AnonymousUser)
        return self.get_response(request)


def staff_auth(request):
    """ninja auth callable: the authenticated staff member, or None (401)."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_active):
        return None
    if not getattr(request, "api_token_used", False) and request.method not in SAFE_METHODS:
        # Session-authenticated writes need the CSRF token, as the pages do.
        if check_csrf(request) is not None:
            return None
    return user
