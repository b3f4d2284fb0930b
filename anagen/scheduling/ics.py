"""An appointment as an iCalendar (.ics) file, built with the ``icalendar`` library.

The event's times are written in UTC (``...Z``); the clinic's timezone travels along as a
VTIMEZONE component and ``X-WR-TIMEZONE`` so calendar apps show the clinic's local time. The
summary names the kind of appointment and the clinic, never the patient or a diagnosis.
"""

from __future__ import annotations

from datetime import timezone as dt_timezone

from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from .models import Appointment, AppointmentStatus


def appointment_summary(appointment: Appointment) -> str:
    return f"{appointment.get_kind_display()} – Anagen {appointment.clinic.name}"


def appointment_location(appointment: Appointment) -> str:
    if appointment.is_video:
        return appointment.meeting_url
    room = f" ({appointment.room.name})" if appointment.room_id else ""
    return f"{appointment.clinic.name}{room}, {appointment.clinic.address}".strip().rstrip(",")


def appointment_ics(appointment: Appointment) -> bytes:
    clinic = appointment.clinic
    local = timezone.localtime(appointment.starts_at, clinic.tz)
    cal = Calendar()
    cal.add("prodid", "-//Anagen//Scheduling//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if appointment.status == AppointmentStatus.CANCELLED else "PUBLISH")
    cal.add("x-wr-timezone", clinic.timezone)
    try:
        cal.add_component(Timezone.from_tzid(clinic.timezone))
    except Exception:  # an unusual zone without transitions: the UTC times alone still place the event
        pass

    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@anagen")
    event.add("dtstamp", timezone.now().astimezone(dt_timezone.utc))
    event.add("dtstart", appointment.starts_at.astimezone(dt_timezone.utc))
    event.add("dtend", appointment.ends_at.astimezone(dt_timezone.utc))
    event.add("sequence", appointment.sequence)
    event.add("summary", appointment_summary(appointment))
    event.add("location", appointment_location(appointment))
    lines = [f"{appointment.get_kind_display()} with {appointment.clinician} at Anagen {clinic.name}.",
             f"Local time: {local:%A %d %B %Y, %H:%M} ({clinic.timezone})."]
    if appointment.is_video:
        lines.append(f"Join the video consultation: {appointment.meeting_url}")
        event.add("url", appointment.meeting_url)
    if clinic.phone:
        lines.append(f"To change or cancel, call {clinic.phone}.")
    event.add("description", "\n".join(lines))
    event.add("status", {AppointmentStatus.CANCELLED: "CANCELLED"}.get(appointment.status, "CONFIRMED"))
    if clinic.email:
        organizer = vCalAddress(f"mailto:{clinic.email}")
        organizer.params["cn"] = vText(f"Anagen {clinic.name}")
        event["organizer"] = organizer
    cal.add_component(event)
    return cal.to_ical()


def ics_filename(appointment: Appointment) -> str:
    return f"anagen-appointment-{appointment.pk}.ics"
