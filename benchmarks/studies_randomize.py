"""Time to randomize one subject as a study fills up.

Usage::

    .venv/bin/python benchmarks/studies_randomize.py [--subjects 300] [--algorithm permuted_blocks|minimization]
        [--database sqlite|postgres] [--pg-url postgres://postgres@127.0.0.1:5432/anagen_bench_studies]

Each randomization passes every earlier subject's factors and arm to the evidence library (the
allocation is a pure function of the seed and the history), inside a transaction that locks the
study row, so its cost grows with the number randomized. Prints, for each band of subjects, the
median and worst milliseconds per ``subject_randomize`` call and its SQL query count. The
SQLite database is a fresh file under ``var/bench/``; the PostgreSQL database named in
``--pg-url`` is dropped and re-created (never point it at one you want to keep).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", type=int, default=300)
    ap.add_argument("--algorithm", choices=["permuted_blocks", "minimization"], default="permuted_blocks")
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/anagen_bench_studies")
    args = ap.parse_args()

    if args.database == "sqlite":
        path = ROOT / "var" / "bench" / "studies_randomize.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["ANAGEN_SQLITE_PATH"] = str(path)
    else:
        import psycopg

        base, name = args.pg_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = args.pg_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from anagen.accounts.models import Clinic
    from anagen.accounts.services import staff_create
    from anagen.patients.models import Patient
    from anagen.patients.services import consent_record, medical_history_update
    from anagen.studies import services
    from anagen.studies.randomization import subject_randomize

    clinics = [Clinic.objects.create(name=n, slug=n.lower()) for n in ("Birmingham", "Solihull")]
    stats = staff_create(email="stats@bench.test", password="pw", roles=["statistician"], clinics=clinics)
    doc = staff_create(email="doc@bench.test", password="pw", roles=["clinician"], clinics=clinics)
    scheme = ({"strata_factors": ["site", "sex"]} if args.algorithm == "permuted_blocks"
              else {"algorithm": "minimization", "minimization_factors": ["site", "sex", "stage_group"]})
    study = services.study_create(actor=stats, title="Benchmark", sites=clinics, research_consent_version="v1",
                                  arms=[{"code": "A", "name": "Active"}, {"code": "P", "name": "Placebo",
                                                                           "is_placebo": True}], **scheme)
    services.member_add(actor=stats, study=study, user=doc, role="investigator")
    services.protocol_sign(actor=stats, study=study, password="pw", meaning="statistical_approval")
    services.protocol_sign(actor=doc, study=study, password="pw", meaning="clinical_approval")
    study.refresh_from_db()

    started = time.perf_counter()
    subjects = []
    for i in range(args.subjects):
        p = Patient.objects.create(clinic=clinics[i % 2], patient_number=f"BN-{i:06d}", first_name=f"P{i}",
                                   last_name="Bench", sex="male" if i % 3 else "female", diagnosis="male_aga",
                                   date_of_birth=date(1980, 1, 1))
        medical_history_update(actor=doc, patient=p, anticoagulants=False)
        consent_record(actor=doc, patient=p, kind="research", document_version="v1")
        subjects.append(services.subject_enrol(actor=doc, study=study, patient=p))
    print(f"{args.database}, {args.algorithm}: enrolled {len(subjects)} subjects in "
          f"{time.perf_counter() - started:.1f} s")

    band = max(1, args.subjects // 6)
    print(f"{'subjects':>12} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    times, queries = [], []
    for i, s in enumerate(subjects, start=1):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            subject_randomize(actor=doc, subject=s)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        if i % band == 0 or i == len(subjects):
            print(f"{i - len(times) + 1:>5}-{i:<6} {statistics.median(times):>10.1f} {max(times):>8.1f} "
                  f"{max(queries):>8}")
            times, queries = [], []


if __name__ == "__main__":
    main()
