"""Benchmark: patient search on N patients (default 100,000), inside a transaction that is
rolled back, so the database is left as it was.

    anagen bench_patient_search --patients 100000
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction

from anagen.accounts.models import Clinic, Role, StaffRole, User
from anagen.patients import rules
from anagen.patients.models import Patient
from anagen.patients.selectors import patient_search, search_order

FIRST = ["James", "Olivia", "Amir", "Sofia", "Liam", "Aisha", "Noah", "Mia", "Ravi", "Chloe", "José", "Zainab"]
LAST = ["Smith", "Jones", "Patel", "Khan", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Ali", "Nowak"]


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time patient searches on many patients (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--analyze", action="store_true", help="Refresh the planner's statistics first.")

    def handle(self, *args, **opts):
        try:
            with transaction.atomic():
                self._run(opts["patients"], opts["repeat"], opts["analyze"])
                raise _Rollback
        except _Rollback:
            self.stdout.write("(rolled back)")

    def _run(self, n: int, repeat: int, analyze: bool) -> None:
        rnd = random.Random(7)
        clinic = Clinic.objects.create(name="Bench clinic", slug="bench-clinic-x")
        user = User.objects.create_user(email="bench@bench.invalid", password=None)
        StaffRole.objects.create(user=user, role=Role.COORDINATOR)
        user.clinics.add(clinic)
        rows = []
        for i in range(1, n + 1):
            first, last = rnd.choice(FIRST), f"{rnd.choice(LAST)}{i % 997}"
            email = f"p{i}@example.test"
            number = rules.patient_number(900000 + i)
            rows.append(Patient(clinic=clinic, patient_number=number, first_name=first, last_name=last,
                                date_of_birth=date(1950, 1, 1) + timedelta(days=rnd.randrange(20000)), email=email,
                                phone=f"+447700{i:06d}", search_text=rules.search_text(
                                    first_name=first, last_name=last, email=email, patient_number=number,
                                    phone=f"+447700{i:06d}")))
        t = time.perf_counter()
        Patient.objects.bulk_create(rows, batch_size=5000)
        self.stdout.write(f"created {n:,} patients in {time.perf_counter() - t:.1f} s")
        from django.db import connection

        if analyze:
            with connection.cursor() as c:
                c.execute("ANALYZE")

        for label, q in [("dob", "12/03/1970"), ("name", "olivia patel12")]:
            sql, params = search_order(patient_search(user=user, q=q))[:25].query.sql_with_params()
            with connection.cursor() as c:
                c.execute("EXPLAIN QUERY PLAN " + sql, params)
                self.stdout.write(f"plan {label}: {c.fetchall()}")
        queries = {"name words": "olivia patel12", "date of birth": "12/03/1970", "phone": f"07700 {n // 2:06d}",
                   "e-mail": f"p{n // 3}@example.test", "partial phone": f"{n // 2:06d}"}
        for label, q in queries.items():
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                list(search_order(patient_search(user=user, q=q))[:25])
                times.append((time.perf_counter() - t) * 1000)
            self.stdout.write(f"{label:14s} {q!r:28s} median {statistics.median(times):6.1f} ms  "
                              f"max {max(times):6.1f} ms")
