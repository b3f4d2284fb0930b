"""The request an audited change came from, kept in a context variable."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("anagen_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current_request_id() -> str | None:
    """Getter for django-auditlog's correlation id (``AUDITLOG_CID_GETTER``)."""
    return request_id.get()


def _current_data() -> dict | None:
    """django-auditlog's context now, or None. Its context variable outlives the ``with`` that
    set it (only the signal receiver is disconnected on exit), so a value counts only while its
    receiver is still connected."""
    from auditlog.context import auditlog_value
    from django.db.models.signals import pre_save

    try:
        data = auditlog_value.get()
    except LookupError:
        return None
    duid = data.get("signal_duid")
    if duid is None or not any(key[0] == duid for key, *_ in pre_save.receivers):
        return None
    return data


@contextmanager
def _with_data(data: dict):
    from auditlog.context import auditlog_value, set_extra_data

    previous = _current_data()
    try:
        with set_extra_data(context_data=data):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


@contextmanager
def acting_as(actor):
    """Attribute the writes inside to ``actor``, keeping the request's address and id."""
    data = {k: v for k, v in (_current_data() or {}).items() if k != "signal_duid"}
    data["actor"] = actor
    with _with_data(data):
        yield


def capture() -> dict:
    """The audit context now (who, from where, which request), as plain values for a job."""
    data = _current_data() or {}
    actor = data.get("actor")
    return {
        "actor_id": getattr(actor, "pk", None),
        "remote_addr": data.get("remote_addr"),
        "remote_port": data.get("remote_port"),
        "request_id": request_id.get(),
    }


@contextmanager
def restored(captured: dict | None):
    """Run a background job's writes as the user and request that queued it."""
    if not captured:
        yield
        return
    actor = None
    if captured.get("actor_id"):
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.filter(pk=captured["actor_id"]).first()
    token = request_id.set(captured.get("request_id"))
    try:
        with _with_data({"actor": actor, "remote_addr": captured.get("remote_addr"),
                         "remote_port": captured.get("remote_port")}):
            yield
    finally:
        request_id.reset(token)


def current_actor():
    """The staff member the audit trail will attribute the next write to (None outside a request)."""
    actor = (_current_data() or {}).get("actor")
    return actor if getattr(actor, "pk", None) else None
