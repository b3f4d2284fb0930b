"""The in-process background runner."""

from __future__ import annotations

import pytest

from anagen.core import tasks

calls: list = []


def record(*args):
    calls.append(args)


def explode(*args):
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()


def test_eager_mode_runs_the_job_at_once(settings):
    settings.ANAGEN_TASKS_EAGER = True
    tasks.enqueue("anagen.assessments.tests.test_tasks.record", 1, "a")
    assert calls == [(1, "a")]


def test_by_default_the_job_runs_on_the_worker_after_commit(db, settings, django_capture_on_commit_callbacks):
    settings.ANAGEN_TASKS_EAGER = False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasks.enqueue("anagen.assessments.tests.test_tasks.record", 2)
    assert calls == []  # nothing before the commit
    for callback in callbacks:
        callback()
    tasks.wait_idle()
    assert calls == [(2,)]


def test_a_failing_job_is_logged_not_raised(settings, caplog):
    settings.ANAGEN_TASKS_EAGER = True
    tasks.enqueue("anagen.assessments.tests.test_tasks.explode", 3)
    assert "background task" in caplog.text and "boom" in caplog.text


def test_a_misspelt_job_fails_in_the_caller():
    with pytest.raises((ImportError, ValueError)):
        tasks.enqueue("anagen.assessments.tests.test_tasks.no_such_function")
