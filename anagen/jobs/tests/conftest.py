import pytest


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.ANAGEN_TASKS_EAGER = True


# The assessments fixtures (a visit, a calibrated device, a small synthetic phototrichogram).
from anagen.assessments.tests.conftest import (  # noqa: E402,F401
    device, patient, scalp_png, visit)
