"""Speed and memory of the FHIR export: bulk NDJSON for a clinic, and one patient's $everything.

    .venv/bin/python benchmarks/fhir_export.py [--patients 2000] [--database-url URL]

Seeds a fresh SQLite database (``var/bench/fhir_export.sqlite3``; or ``--database-url``, which
is dropped and refilled, so never point it at a database you want to keep) with one clinic and
``--patients`` patients, each with two consents, a staging, a procedure (one zone, one exosome
lot), three assessment visits with measurements, and an adverse event for every tenth. The seed
uses ``bulk_create`` (no audit entries), so it is fast; the export reads the same tables either
way. Then it runs, each in a fresh child process so peak memory is the export's own:

- ``anagen fhir export --all --out DIR`` identified, then ``--deidentified``: seconds inside the
  command, resources per second, peak resident memory of the process (beside the peak of a
  process that only sets Django up, for comparison);
- ``$everything`` for 20 patients in one process: median and worst milliseconds per Bundle.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(n_patients: int) -> None:
    from datetime import date, datetime, timedelta, timezone
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from anagen.accounts.models import Clinic
    from anagen.accounts.services import staff_create
    from anagen.assessments.models import AssessmentVisit, DeviceProfile, Measurement
    from anagen.patients.models import Consent, Patient, StagingAssessment
    from anagen.treatments.models import (AdverseEvent, Lot, Modality, Procedure, ProcedureZone, Product,
                                          ProductUse)

    clinic = Clinic.objects.create(name="Bench clinic", slug="bench", address="1 Bench St")
    doctor = staff_create(email="bench-doctor@example.test", password="x" * 12, roles=["clinician"], clinics=[clinic])
    device = DeviceProfile.objects.create(clinic=clinic, name="Bench dermoscope", px_per_mm=100.0, is_default=True)
    product = Product.objects.create(name="Bench exosomes", manufacturer="Bench Labs", kind="exosome", unit="vial")
    lot = Lot.objects.create(product=product, clinic=clinic, lot_number="B-1", expires_on=date(2030, 1, 1),
                             quantity_on_hand=Decimal("100000"))
    modality = Modality.objects.get(code="exosomes")
    given = datetime(2025, 1, 1, 9, tzinfo=timezone.utc)
    Patient.objects.bulk_create([
        Patient(clinic=clinic, patient_number=f"BN-{i:06d}", first_name=f"First{i}", last_name=f"Last{i}",
                date_of_birth=date(1970 + i % 30, 1 + i % 12, 1 + i % 28), sex="male" if i % 2 else "female",
                email=f"p{i}@example.test", phone=f"+4477009{i:05d}", address=f"{i} Bench Road",
                diagnosis="male_aga" if i % 2 else "female_aga")
        for i in range(n_patients)], batch_size=2000)
    patients = list(Patient.objects.filter(clinic=clinic).order_by("pk"))
    Consent.objects.bulk_create([Consent(patient=p, kind=k, document_version="v1", given_at=given, recorded_by=doctor)
                                 for p in patients for k in ("treatment", "photography")], batch_size=2000)
    StagingAssessment.objects.bulk_create([StagingAssessment(patient=p, scale="norwood", stage="III",
                                                             assessed_on=date(2025, 1, 1), assessed_by=doctor)
                                           for p in patients], batch_size=2000)
    Procedure.objects.bulk_create([Procedure(patient=p, clinic=clinic, modality=modality, clinician=doctor,
                                             performed_on=date(2025, 1, 15)) for p in patients], batch_size=2000)
    procs = list(Procedure.objects.filter(clinic=clinic).order_by("pk"))
    ProcedureZone.objects.bulk_create([ProcedureZone(procedure=x, zone="vertex", volume_ml=Decimal("2")) for x in procs],
                                      batch_size=2000)
    ProductUse.objects.bulk_create([ProductUse(procedure=x, lot=lot, quantity=Decimal("1")) for x in procs],
                                   batch_size=2000)
    AdverseEvent.objects.bulk_create([AdverseEvent(patient=x.patient, clinic=clinic, procedure=x, description="Swelling",
                                                   onset_on=date(2025, 1, 16), severity=1, relation="possible",
                                                   reported_by=doctor) for x in procs[::10]], batch_size=2000)
    AssessmentVisit.objects.bulk_create([
        AssessmentVisit(patient=p, clinic=clinic, visit_date=date(2025, 1, 1) + timedelta(weeks=w), is_baseline=w == 0,
                        performed_by=doctor) for p in patients for w in (0, 12, 24)], batch_size=2000)
    Measurement.objects.bulk_create([
        Measurement(visit=v, hair_count=80 + v.pk % 20, field_area_cm2=0.65, terminal_count=70, vellus_count=10,
                    mean_diameter_um=55.0 + v.pk % 7, anagen_pct=85.0, engine_version="1.2.0", profile_name="default")
        for v in AssessmentVisit.objects.filter(clinic=clinic)], batch_size=2000)
    del device


def _child(database_url: str, argv: list[str]) -> tuple[float, int]:
    """Run ``anagen ARGV`` in a fresh process: seconds inside the command (Django set up first,
    so interpreter start and imports are not counted) and the process's peak RSS in MB."""
    code = ("import os, resource, time, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'anagen.settings'); "
            "django.setup(); from anagen.cli import main; t = time.perf_counter(); main(%r); "
            "print('SECONDS', time.perf_counter() - t); "
            "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)" % argv)
    env = dict(os.environ, DATABASE_URL=database_url)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    seconds = float(done.stdout.rsplit("SECONDS", 1)[1].split()[0])
    rss_kb = int(done.stdout.rsplit("MAXRSS_KB", 1)[1].split()[0])
    return seconds, rss_kb // 1024


def _child_export(database_url: str, deidentified: bool) -> tuple[float, int, int]:
    """Seconds, resources written and the child's peak RSS in MB."""
    out = tempfile.mkdtemp(prefix="fhir-bench-")
    argv = ["fhir", "export", "--all", "--out", out] + (["--deidentified"] if deidentified else [])
    seconds, rss_mb = _child(database_url, argv)
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    total = sum(o["count"] for o in manifest["output"])
    return seconds, total, rss_mb


def _everything_ms(n: int = 20) -> tuple[float, float, int]:
    from anagen.fhir import selectors
    from anagen.patients.models import Patient

    opts = selectors.export_options(deidentified=False)
    times = []
    size = 0
    for p in Patient.objects.order_by("pk")[:n]:
        start = time.perf_counter()
        bundle = selectors.patient_bundle(p, opts, base_url="http://bench/api/v1/fhir")
        times.append((time.perf_counter() - start) * 1000)
        size = len(bundle["entry"])
    return statistics.median(times), max(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url
    if not url:
        path = ROOT / "var" / "bench" / "fhir_export.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    _django(url)
    if args.database_url:
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
    start = time.perf_counter()
    seed(args.patients)
    print(f"seeded {args.patients} patients in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})")
    _, base_mb = _child(url, ["check"])
    print(f"baseline: a process that sets up Django and runs `anagen check` peaks at {base_mb} MB")
    for deid in (False, True):
        seconds, total, rss_mb = _child_export(url, deid)
        kind = "de-identified" if deid else "identified"
        print(f"bulk {kind:13s}: {total} resources in {seconds:.2f} s ({total / seconds:,.0f} resources/s, "
              f"{args.patients / seconds:,.0f} patients/s), peak RSS {rss_mb} MB")
    median, worst, size = _everything_ms()
    print(f"$everything: median {median:.1f} ms, worst {worst:.1f} ms per Bundle of {size} resources (20 patients)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
