"""Ties each audited change to the staff member, address and request that made it."""

from __future__ import annotations

from auditlog.context import set_extra_data
from auditlog.middleware import AuditlogMiddleware

from .context import new_request_id, request_id


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, plus a request id that is sent back as ``X-Request-ID``.

    API requests authenticated by bearer token have their user set by
    ``anagen.api.auth.BearerTokenMiddleware`` before this runs, so they are attributed too.
    """

    def __call__(self, request):
        rid = new_request_id()
        token = request_id.set(rid)
        request.request_id = rid
        try:
            with set_extra_data(context_data=self.get_extra_data(request)):
                response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response
