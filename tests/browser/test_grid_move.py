"""Moving an appointment in the time grid: by dragging it, and by keyboard (its Move link, then a
free slot), at desktop and tablet widths, with axe-core on the grid in both modes."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from tests.browser.a11y import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def shot(page, name, size):
    page.set_viewport_size(size)
    page.shot(name)
    page.set_viewport_size(DESKTOP)


def local_hhmm(appointment, clinic) -> str:
    appointment.refresh_from_db()
    return timezone.localtime(appointment.starts_at, clinic.tz).strftime("%H:%M")


def test_coordinator_moves_appointments_by_dragging_and_by_keyboard(page, browser_login, clinic, coordinator, clinician,
                                                                    admin_user):
    from anagen.accounts.services import staff_create
    from anagen.patients.services import patient_register
    from anagen.scheduling.services import appointment_book, availability_add

    today = timezone.localtime(timezone.now(), clinic.tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    other = staff_create(email="doc2@birmingham.test", password=None, roles=["clinician"], clinics=[clinic],
                         first_name="Otto", last_name="Osei")
    availability_add(actor=admin_user, clinician=clinician, clinic=clinic, weekday=0, start_time=time(9, 0),
                     end_time=time(13, 0), valid_from=monday - timedelta(days=7))
    availability_add(actor=admin_user, clinician=other, clinic=clinic, weekday=0, start_time=time(9, 0),
                     end_time=time(13, 0), valid_from=monday - timedelta(days=7))
    daniel = patient_register(actor=coordinator, clinic=clinic, first_name="Daniel", last_name="Okafor",
                              email="daniel@example.test")
    priya = patient_register(actor=coordinator, clinic=clinic, first_name="Priya", last_name="Shah",
                             email="priya@example.test")
    rooms = {r.name: r for r in clinic.rooms.all()}

    def start(hhmm):
        h, m = map(int, hhmm.split(":"))
        return timezone.make_aware(timezone.datetime.combine(monday, time(h, m)), clinic.tz)

    moving = appointment_book(actor=coordinator, patient=daniel, clinician=clinician, clinic=clinic,
                              kind="free_consultation", starts_at=start("10:00"), room=rooms["Consulting 1"])
    appointment_book(actor=coordinator, patient=priya, clinician=other, clinic=clinic, kind="free_consultation",
                     starts_at=start("11:00"), room=rooms["Consulting 1"], duration_minutes=60)

    browser_login(coordinator)
    page.set_viewport_size(DESKTOP)
    grid_url = f"/calendar/grid/?clinic={clinic.pk}&date={monday:%Y-%m-%d}&kind=free_consultation"
    page.goto(grid_url)
    assert page.locator("#move-help").is_visible()
    assert_accessible(page)
    shot(page, "grid-before-moving-desktop", DESKTOP)
    shot(page, "grid-before-moving-tablet", TABLET)

    def cell(column, hhmm):
        # Columns: 1 Time, 2 Clara Clinician, 3 Otto Osei.
        return f"td.slot[data-start='{monday:%Y-%m-%d}T{hhmm}'][data-clinician='{column.pk}']"

    # 1. Drag Daniel's 10:00 onto Otto's column at 11:30: Otto is still with Priya then (11:00-12:00).
    with page.expect_navigation():
        page.drag_and_drop("a.appt[draggable=true] >> text=Daniel Okafor", cell(other, "11:30"))
    error = page.locator("ul.messages .msg.error")
    assert "not moved" in error.inner_text() and "already booked" in error.inner_text()
    assert local_hhmm(moving, clinic) == "10:00" and moving.clinician == clinician
    shot(page, "grid-drop-refused-desktop", DESKTOP)

    # 2. Drag it onto Otto's free 12:00: moved, to Otto, shown there.
    page.goto(grid_url)
    with page.expect_navigation():
        page.drag_and_drop("a.appt[draggable=true] >> text=Daniel Okafor", cell(other, "12:00"))
    assert "Moved Daniel Okafor's free consultation" in page.locator("body").inner_text()
    assert local_hhmm(moving, clinic) == "12:00" and moving.clinician == other
    assert page.locator(f"td.slot.appointment >> text=Daniel Okafor").count() == 1
    assert page.locator(f"{cell(other, '12:00')}").count() == 0  # the appointment starts there now
    shot(page, "grid-after-drag-desktop", DESKTOP)
    shot(page, "grid-after-drag-tablet", TABLET)

    # 3. Without dragging: Tab to its Move link, Enter, then a free slot's Move here button.
    move_link = page.locator("a.move-link[aria-label^='Move Daniel Okafor']")
    move_link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**move={moving.pk}**")
    assert page.locator("a.appt[aria-current=true]").inner_text().startswith("12:00")
    assert page.locator("button.free-slot").count() > 0
    assert_accessible(page)
    shot(page, "grid-move-mode-desktop", DESKTOP)
    shot(page, "grid-move-mode-tablet", TABLET)
    target = page.locator(f"button.free-slot[aria-label='Move to {monday:%a %d/%m} 09:30 with {clinician}']")
    target.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Moved Daniel Okafor's free consultation" in page.locator("body").inner_text()
    assert local_hhmm(moving, clinic) == "09:30" and moving.clinician == clinician
    assert moving.room == rooms["Consulting 1"]
    page.set_viewport_size(TABLET)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    shot(page, "grid-after-keyboard-move-tablet", TABLET)
