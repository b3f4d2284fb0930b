"""Seed the default duration of each kind of appointment (editable afterwards in the admin)."""

from django.db import migrations

DEFAULTS = [
    ("free_consultation", 30, "In person, free of charge."),
    ("video_consultation", 30, "By video; the meeting link is sent with the confirmation."),
    ("procedure", 120, "Micrograft, exosome or PRP session in a procedure room."),
    ("follow_up", 30, "Assessment visit: standardized photos and phototrichogram."),
]


def seed(apps, schema_editor):
    AppointmentType = apps.get_model("scheduling", "AppointmentType")
    for kind, minutes, description in DEFAULTS:
        AppointmentType.objects.get_or_create(kind=kind, defaults={"duration_minutes": minutes,
                                                                   "description": description})


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_types_availability_outbox")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
