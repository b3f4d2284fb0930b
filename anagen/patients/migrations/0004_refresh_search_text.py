from django.db import migrations


def refresh(apps, schema_editor):
    from anagen.patients.rules import search_text

    Patient = apps.get_model("patients", "Patient")
    batch = []
    for p in Patient.objects.only("id", "first_name", "last_name", "email", "patient_number", "phone").iterator(chunk_size=2000):
        p.search_text = search_text(first_name=p.first_name, last_name=p.last_name, email=p.email,
                                    patient_number=p.patient_number, phone=p.phone)
        batch.append(p)
        if len(batch) >= 2000:
            Patient.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Patient.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    """search_text now also holds the phone digits, so part of a number is found fast."""

    dependencies = [("patients", "0003_search_index")]
    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
