"""Pages show times in the clinic's local time: the timezone of the clinics a person works at."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from anagen.core.middleware import ClinicTimezoneMiddleware


def _zone_seen(user, path="/patients/"):
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get(path)
    request.user, request.session = user, SessionStore()
    ClinicTimezoneMiddleware(view)(request)
    return seen["zone"], timezone.get_current_timezone_name()


def test_a_clinic_in_another_zone_sees_its_own_local_time(db):
    from anagen.accounts.models import Clinic
    from anagen.accounts.services import staff_create

    ny = Clinic.objects.create(name="New York", slug="ny", address="5th Avenue", timezone="America/New_York")
    user = staff_create(email="c@ny.test", password=None, roles=["coordinator"], clinics=[ny], first_name="N",
                        last_name="Y")
    assert _zone_seen(user) == ("America/New_York", "Europe/London")  # and put back afterwards
    assert _zone_seen(user, "/api/v1/patients")[0] == "Europe/London"  # the API answers with offsets
    london = Clinic.objects.create(name="London", slug="ldn", address="Strand", timezone="Europe/London")
    user.clinics.add(london)
    request_zone, _ = _zone_seen(user)
    assert request_zone == "Europe/London"  # two zones: the default, and each schedule page names its clinic's


def test_a_date_time_is_written_in_the_clinics_format_and_zone():
    from datetime import datetime
    from datetime import timezone as dt_timezone

    from django.template import Context, Template

    with timezone.override("America/New_York"):
        out = Template('{{ t|date:"SHORT_DATETIME_FORMAT" }}').render(
            Context({"t": datetime(2026, 3, 14, 14, 30, tzinfo=dt_timezone.utc)}))
    assert out == "14/03/2026 10:30"
