"""Time to build a study's dataset from the records and compute its results (issue item 9).

Usage::

    .venv/bin/python benchmarks/studies_results.py [--subjects 100]

A fresh SQLite database under ``var/bench/``: a parallel study with ``--subjects`` randomized
subjects, each with a baseline and five follow-up visits measured (simulated values, evidence
library simulator). Prints the median of 3 runs, in milliseconds, and the SQL query count, for:
building the dataset (``datasets.build``), the results without figures (the API), the results
with the four figures (the page), the PDF report, and the page's work when the data have not
changed since the last view (results cached under the data's fingerprint).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


PASSWORD = "bench-results-pass-2026"  # passes the password-strength check


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", type=int, default=100)
    args = ap.parse_args()

    path = ROOT / "var" / "bench" / "studies_results.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ["ANAGEN_SQLITE_PATH"] = str(path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from anagen.accounts.models import Clinic
    from anagen.accounts.services import staff_create
    from anagen.assessments.models import AssessmentVisit, Measurement
    from anagen.evidence.simulate import simulate_study
    from anagen.outcomes.report import render_pdf
    from anagen.patients.models import Patient
    from anagen.patients.services import consent_record, medical_history_update
    from anagen.studies import analysis_services, datasets, services
    from anagen.studies.models import Allocation
    from anagen.studies.randomization import subject_randomize

    clinics = [Clinic.objects.create(name=n, slug=n.lower()) for n in ("Birmingham", "Solihull")]
    stats = staff_create(email="stats@bench.test", password=PASSWORD, roles=["statistician"], clinics=clinics)
    doc = staff_create(email="doc@bench.test", password=PASSWORD, roles=["clinician"], clinics=clinics)
    study = services.study_create(actor=stats, title="Benchmark", sites=clinics, research_consent_version="v1",
                                  primary_endpoint="Change in density at week 23", strata_factors=["site"],
                                  arms=[{"code": "A", "name": "Active"}, {"code": "P", "name": "Placebo",
                                                                           "is_placebo": True}])
    services.member_add(actor=stats, study=study, user=doc, role="investigator")
    ustats = staff_create(email="ustats@bench.test", password=PASSWORD, roles=["statistician"], clinics=clinics)
    services.member_add(actor=stats, study=study, user=ustats, role="unblinded_statistician")
    services.protocol_sign(actor=stats, study=study, password=PASSWORD, meaning="statistical_approval")
    services.protocol_sign(actor=doc, study=study, password=PASSWORD, meaning="clinical_approval")
    study.refresh_from_db()
    weeks = (4, 12, 23, 44, 58)
    sim = simulate_study(n_per_arm=args.subjects, visit_weeks=weeks, dropout=0.1, seed=1)
    pools = {arm: list(sim[sim["arm"] == arm]["subject"].unique()) for arm in ("placebo", "active")}
    anchor = date.today() - timedelta(days=420)
    started = time.perf_counter()
    for i in range(args.subjects):
        p = Patient.objects.create(clinic=clinics[i % 2], patient_number=f"BR-{i:06d}", first_name=f"P{i}",
                                   last_name="Bench", sex="male" if i % 3 else "female", diagnosis="male_aga",
                                   date_of_birth=date(1980, 1, 1))
        medical_history_update(actor=doc, patient=p, anticoagulants=False)
        consent_record(actor=doc, patient=p, kind="research", document_version="v1")
        subject = services.subject_enrol(actor=doc, study=study, patient=p)
        allocation = subject_randomize(actor=doc, subject=subject)
        Allocation.objects.filter(pk=allocation.pk).update(
            randomized_at=timezone.make_aware(datetime.combine(anchor, dtime(10))))
        rows = sim[sim["subject"] == pools["active" if allocation.arm_code == "A" else "placebo"].pop(0)]
        values = {0: rows["baseline"].iloc[0], **{int(r.visit_week): r.value for r in rows.itertuples()}}
        for w, v in values.items():
            visit = AssessmentVisit.objects.create(patient=p, clinic=p.clinic, visit_date=anchor + timedelta(days=7 * w),
                                                   is_baseline=w == 0)
            if v == v:  # not NaN
                Measurement.objects.create(visit=visit, hair_count=int(round(v * 100)), field_area_cm2=100.0)
    print(f"{args.subjects} randomized subjects x 6 visits written in {time.perf_counter() - started:.1f} s")

    def timed(label, fn):
        times, n_queries = [], 0
        for _ in range(3):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1000)
            n_queries = len(ctx.captured_queries)
        print(f"{label:<42} {statistics.median(times):>9.0f} ms {n_queries:>6} queries")

    def pdf():
        res = analysis_services.compute(study)
        import base64

        figures = {k: "data:image/png;base64," + base64.b64encode(c.png(dpi=130)).decode()
                   for k, c in res.figures.items()}
        html = render_to_string("studies/analysis/report.html", {
            "study": study, "res": res, "data": res.data, "figures": figures, "for_pdf": True,
            "generated_at": timezone.localtime(), "generated_by": stats, "locked_at": None})
        render_pdf(html)

    timed("dataset from the records (datasets.build)", lambda: datasets.build(study))
    timed("results without figures (API)", lambda: analysis_services.compute(study, figures=False))
    timed("results with 4 figures as SVG (page)", lambda: [c.svg() for c in analysis_services.compute(
        study).figures.values()])
    timed("PDF study report", pdf)
    analysis_services.rendered_for(user=ustats, study=study, kind="svg")
    timed("results page, data unchanged (cached)",
          lambda: analysis_services.rendered_for(user=ustats, study=study, kind="svg"))


if __name__ == "__main__":
    main()
