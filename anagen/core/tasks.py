"""Background tasks: long work (image analysis, reports) off the request.

``enqueue("anagen.assessments.jobs.trichogram_analysis_run", analysis_id)`` runs the named
function with its arguments:

- by default on one in-process worker thread, once the current transaction has committed
  (so the job sees the rows the request wrote, and a rolled-back request runs nothing);
- inline, at once, when ``settings.ANAGEN_TASKS_EAGER`` is true (``ANAGEN_TASKS_EAGER=1``; the
  tests set it), so a test sees the finished result.

A job records its own progress and errors on its own rows; the runner only logs what escapes
it. Arguments must be plain values (ids, strings): the job loads its records itself, because
it runs in another thread with its own database connection. A deployment that outgrows one
machine swaps this module's ``enqueue`` for a real queue (Celery on Redis) with the same call.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import import_module

from django.conf import settings
from django.db import connections, transaction

log = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _eager() -> bool:
    value = getattr(settings, "ANAGEN_TASKS_EAGER", None)
    if value is None:
        value = os.environ.get("ANAGEN_TASKS_EAGER", "").strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _resolve(callable_path: str):
    module_path, _, name = callable_path.rpartition(".")
    if not module_path:
        raise ValueError(f"{callable_path!r} is not a dotted path to a function (module.function).")
    func = getattr(import_module(module_path), name, None)
    if not callable(func):
        raise ValueError(f"{callable_path!r} does not name a function.")
    return func


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anagen-task")
        return _executor


def run(callable_path: str, *args, audit_context: dict | None = None) -> None:
    """Run one job now, in this thread, logging (never raising) what escapes it.

    ``audit_context`` (from :func:`anagen.audit.context.capture` at enqueue time) makes the
    job's writes carry the user, address and request id that queued it.
    """
    from anagen.audit.context import restored

    try:
        with restored(audit_context):
            _resolve(callable_path)(*args)
    except Exception:
        log.exception("background task %s%r failed", callable_path, args)


def _run_in_worker(callable_path: str, args: tuple, audit_context: dict | None = None) -> None:
    try:
        run(callable_path, *args, audit_context=audit_context)
    finally:
        # This thread's connections would otherwise stay open (and, on SQLite, hold the file).
        connections.close_all()


def enqueue(callable_path: str, *args) -> Future | None:
    """Run ``callable_path(*args)`` in the background after the transaction commits.

    The path is resolved now, so a typo fails in the request rather than later in a thread.
    Returns nothing in eager mode (the job has already run); otherwise the job is submitted
    when the surrounding transaction commits.
    """
    from anagen.audit.context import capture

    _resolve(callable_path)
    audit_context = capture()
    if _eager():
        run(callable_path, *args, audit_context=audit_context)
        return None
    transaction.on_commit(lambda: _pool().submit(_run_in_worker, callable_path, tuple(args), audit_context))
    return None


def wait_idle(timeout: float | None = 30.0) -> None:
    """Block until the jobs submitted so far have finished (for management commands and tests)."""
    done = threading.Event()
    _pool().submit(done.set)
    done.wait(timeout)
