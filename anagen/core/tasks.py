"""Background tasks: long work (image analysis, exports) off the request.

``enqueue("anagen.assessments.jobs.trichogram_analysis_run", analysis_id)`` runs the named
function with its arguments on the Huey queue once the current transaction has committed, or
inline at once when ``ANAGEN_TASKS_EAGER`` is set (the tests). The queue, the Job record, the
retries and the worker live in :mod:`anagen.jobs`; this module keeps the one call the apps use.
"""

from __future__ import annotations

from anagen.jobs.services import enqueue, resolve  # noqa: F401
