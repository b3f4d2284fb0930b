"""Latency of the busiest staff pages on 100,000 patients under 50 concurrent clients.

Usage::

    python benchmarks/web_latency.py [--patients 100000] [--clients 50]
        [--requests-per-endpoint 1000] [--database sqlite|postgres|both]
        [--pg-url postgres://postgres@127.0.0.1:5432/anagen_bench]

For each database: a fresh database (SQLite file under var/bench/; PostgreSQL: the bench
database is dropped and created through the ``postgres`` admin database), ``anagen migrate``,
then a seed: two clinics with rooms and staff, ``--patients`` patients split between them,
consents, staging and medical histories for a sample, a year of past appointments and one
busy clinic day (40 appointments over 4 clinicians and 5 rooms).

The seed uses ``bulk_create``, which bypasses model signals, so the seeded rows have no
audit-trail entries (a live clinic's patient page also reads its history; the few rows here
are the ones a single patient registered through ``patient_register`` leaves). The derived
search column is filled by the patients app's own function, so search finds seeded patients
exactly as it finds registered ones (checked before the run).

Then gunicorn serves ``anagen.wsgi:application`` on 127.0.0.1, a coordinator of the first
clinic logs in once, and for each endpoint ``--clients`` threads share
``--requests-per-endpoint`` requests (keep-alive connections, one per thread):

* patient search: the patient list with varied queries (surname, "first last", date of birth,
  phone number with spaces, e-mail address);
* patient page: random patients of the coordinator's clinic;
* clinic day calendar: the seeded day.

Prints one row per database and endpoint: requests, errors, p50/p95/p99/max latency in ms and
throughput. Traffic goes to 127.0.0.1 only; the server is stopped at the end, also on errors
and Ctrl-C. Not a test: it needs minutes and the whole machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
VENV_BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/anagen_bench"
PASSWORD = "bench-latency-Passw0rd!"
COORDINATOR = "coordinator@birmingham.bench.invalid"
# 2 cores: one worker process per core, so Python runs on both despite the GIL; 8 threads each
# so a worker keeps serving while its other requests wait on the database or the socket.
WORKERS, THREADS = 2, 8
WARMUP_PER_ENDPOINT = 20
# Requests made by one client alone before the concurrent run: the time a request takes when it
# does not queue, which tells slow code apart from a saturated machine.
ALONE_PER_ENDPOINT = 50

FIRST_NAMES = [
    "James", "Oliver", "Harry", "George", "Noah", "Jack", "Leo", "Oscar", "Charlie", "Muhammad", "Arthur", "Henry",
    "Thomas", "William", "Alfie", "Joshua", "Freddie", "Archie", "Isaac", "Ethan", "Daniel", "Samuel", "Adam",
    "Amir", "Ravi", "Arjun", "Kwame", "Tomasz", "Piotr", "José", "Mateo", "Luca", "Olivia", "Amelia", "Isla",
    "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow", "Rosie", "Sophia", "Isabella", "Grace", "Evie",
    "Chloe", "Emily", "Aisha", "Zainab", "Priya", "Ananya", "Fatima", "Maryam", "Sofia", "Zoë", "Chloé", "Siobhán",
    "Niamh", "Aoife", "Hannah", "Ella", "Poppy", "Ruby", "Charlotte", "Lucy", "Sarah", "Rebecca", "Laura",
]
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke", "Jackson",
    "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes", "Moore", "Clark",
    "King", "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris", "Khan", "Scott", "Watson", "Davis", "Parker",
    "James", "Bennett", "Young", "Phillips", "Richardson", "Mitchell", "Bailey", "Carter", "Cook", "Singh",
    "Shaw", "Bell", "Collins", "Morgan", "Kelly", "Begum", "Miller", "Cox", "Hussain", "Marshall", "Simpson",
    "Price", "Anderson", "Adams", "Wilkinson", "Ali", "Ahmed", "Foster", "Ellis", "Murphy", "Chapman", "Mason",
    "Gray", "Richards", "Webb", "Griffiths", "Hunt", "Palmer", "Campbell", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "Graham", "Pearson", "Ahmad", "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart",
    "Elliott", "Reynolds", "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence",
    "Cole", "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien", "Watts", "Rose",
    "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees", "Hayes", "Hart", "Hudson",
    "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr", "Lowe", "Page", "Marsh", "Riley", "Dunn",
    "Woods", "Parsons", "Berry", "Stone", "Reid", "Holland", "Hawkins", "Harding", "Porter", "Robertson",
    "Newton", "Oliver", "Reed", "Kennedy", "Williamson", "Bird", "Gardner", "Shah", "Dean", "Lane", "Cooke",
    "Bates", "Henderson", "Parry", "Burgess", "Bishop", "Walton", "Burns", "Nicholson", "Shepherd", "Ross",
    "Cross", "Long", "Freeman", "Warren", "Nicholls", "Hamilton", "Byrne", "Sutton", "McDonald", "Yates",
    "Hodgson", "Robson", "Curtis", "Hopkins", "O'Connor", "Harper", "Coleman", "Watkins", "Moss", "McCarthy",
    "Chambers", "O'Neill", "Griffin", "Sharp", "Hardy", "Wheeler", "Potter", "Osborne", "Johnston", "Gordon",
    "Doyle", "Wallace", "George", "Jordan", "Hutchinson", "Rogers", "Jones-Smith", "Nowak", "Kowalski",
    "Álvarez", "García", "Fernández", "Müller", "Nguyen", "Chen", "Wang", "Okafor", "Mensah", "Adeyemi",
]
# Mobile numbers as people write them; the patients app stores them normalized.
PHONE_FORMATS = ["07{a:03d} {b:06d}", "07{a:03d}{b:06d}", "+44 7{a:03d} {b:06d}", "07{a:03d} {c:03d} {d:03d}"]


# ================================================================================================
# Seeding (runs in a child process with the database's environment)
# ================================================================================================


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    import django

    django.setup()


def seed(n_patients: int, out_path: Path) -> None:
    """Fill the (freshly migrated) database and write what the load needs as JSON."""
    _django()
    from django.db import connection, transaction
    from django.utils import timezone

    from anagen.accounts.models import Clinic, Role, Room
    from anagen.accounts.services import staff_create
    from anagen.patients import rules, services as patient_services
    from anagen.patients.models import (
        Consent, ConsentKind, Diagnosis, MedicalHistory, Patient, PatientNumberSequence, Sex, StagingAssessment,
    )
    from anagen.patients.selectors import patient_search
    from anagen.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

    rnd = random.Random(20261121)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    # --- clinics, rooms, staff (through the services, as an administrator would) ---------------
    clinics, rooms = [], {}
    for name, slug in (("Birmingham", "birmingham"), ("Solihull", "solihull")):
        clinic = Clinic.objects.create(name=f"Anagen {name}", slug=slug, phone="+44 121 496 0000",
                                       email=f"{slug}@bench.invalid", timezone="Europe/London")
        clinics.append(clinic)
        rooms[clinic.pk] = [Room.objects.create(clinic=clinic, name=f"Consulting room {i}") for i in (1, 2, 3)] + [
            Room.objects.create(clinic=clinic, name=f"Procedure room {i}", is_procedure_room=True) for i in (1, 2)]
    a, b = clinics
    coordinator = staff_create(email=COORDINATOR, password=PASSWORD, first_name="Cora", last_name="Ordinator",
                               roles=[Role.COORDINATOR], clinics=[a])
    staff_create(email="coordinator@solihull.bench.invalid", password=PASSWORD, roles=[Role.COORDINATOR],
                 clinics=[b])
    staff_create(email="admin@bench.invalid", password=PASSWORD, roles=[Role.ADMIN], clinics=[a, b])
    clinicians = {a.pk: [], b.pk: []}
    for i in range(6):
        home = [a] if i < 4 else [b]
        user = staff_create(email=f"clinician{i}@bench.invalid", password=PASSWORD, first_name=f"Dr {i}",
                            last_name=rnd.choice(LAST_NAMES), roles=[Role.CLINICIAN], clinics=home)
        clinicians[home[0].pk].append(user)
    timings["clinics and staff"] = time.perf_counter() - t0

    # --- patients: bulk_create (no signals, so no audit entries), search column from the app ---
    t = time.perf_counter()
    today = timezone.localdate()
    rows: list[Patient] = []
    for i in range(1, n_patients + 1):
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        a3, b6 = rnd.randrange(100, 1000), rnd.randrange(1_000_000)
        raw_phone = rnd.choice(PHONE_FORMATS).format(a=a3, b=b6, c=b6 // 1000, d=b6 % 1000)
        email = f"{rules.fold(first)}.{rules.fold(last)}{i}@example.com".replace(" ", "").replace("'", "")
        p = Patient(
            clinic=a if i % 2 else b,
            patient_number=rules.patient_number(i),
            first_name=first, last_name=last,
            date_of_birth=date(1950, 1, 1) + timedelta(days=rnd.randrange(20_000)),
            sex=rnd.choice([Sex.MALE, Sex.MALE, Sex.FEMALE, Sex.FEMALE, Sex.UNKNOWN]),
            email=email.lower() if rnd.random() < 0.9 else "",
            phone=rules.normalize_phone(raw_phone) if rnd.random() < 0.95 else "",
            address=f"{rnd.randrange(1, 300)} High Street, Birmingham B{rnd.randrange(1, 99)} {rnd.randrange(1, 9)}AB",
            diagnosis=rnd.choice([Diagnosis.MALE_PATTERN, Diagnosis.FEMALE_PATTERN, Diagnosis.UNDIAGNOSED]),
            created_by=coordinator,
        )
        patient_services._refresh_search_text(p)  # the column registration fills, by the same code
        rows.append(p)
    Patient.objects.bulk_create(rows, batch_size=2000)
    PatientNumberSequence.objects.update_or_create(pk=1, defaults={"last_value": n_patients})
    timings["patients"] = time.perf_counter() - t

    # One patient registered the normal way: its search column must equal what the seed computes.
    registered = patient_services.patient_register(actor=coordinator, clinic=a, first_name="Siobhán",
                                                   last_name="O'Brien-Álvarez", date_of_birth=date(1981, 2, 3),
                                                   email="s.obrien@example.com", phone="07700 900 123")
    twin = Patient(first_name=registered.first_name, last_name=registered.last_name, email=registered.email,
                   phone=registered.phone, patient_number=registered.patient_number)
    patient_services._refresh_search_text(twin)
    assert twin.search_text == registered.search_text, (twin.search_text, registered.search_text)

    # --- consents, staging, medical history for a sample ----------------------------------------
    t = time.perf_counter()
    ids_a = list(Patient.objects.filter(clinic=a).values_list("id", flat=True))
    ids_b = list(Patient.objects.filter(clinic=b).values_list("id", flat=True))
    sample = rnd.sample(ids_a, len(ids_a) // 5) + rnd.sample(ids_b, len(ids_b) // 5)
    at_a = set(ids_a)
    now = timezone.now()
    consents, stagings, histories = [], [], []
    for pid in sample:
        given = now - timedelta(days=rnd.randrange(1, 700))
        consents.append(Consent(patient_id=pid, kind=ConsentKind.TREATMENT, document_version="v3 2025-01",
                                given_at=given, recorded_by=coordinator))
        if rnd.random() < 0.4:
            withdrawn = rnd.random() < 0.1
            consents.append(Consent(patient_id=pid, kind=ConsentKind.PHOTOGRAPHY, document_version="v2 2024-06",
                                    given_at=given, recorded_by=coordinator,
                                    withdrawn_at=given + timedelta(days=30) if withdrawn else None,
                                    withdrawn_by=coordinator if withdrawn else None,
                                    withdrawal_reason="Asked by phone." if withdrawn else ""))
        for k in range(rnd.randrange(1, 4)):
            stagings.append(StagingAssessment(patient_id=pid, scale="norwood", stage=rnd.choice(rules.STAGES["norwood"]),
                                              assessed_on=today - timedelta(days=90 * k + rnd.randrange(60)),
                                              assessed_by=clinicians[a.pk if pid in at_a else b.pk][k % 2]))
        if rnd.random() < 0.5:
            histories.append(MedicalHistory(patient_id=pid, medications="Finasteride 1 mg", allergies="None known"))
    Consent.objects.bulk_create(consents, batch_size=2000)
    StagingAssessment.objects.bulk_create(stagings, batch_size=2000)
    MedicalHistory.objects.bulk_create(histories, batch_size=2000)
    timings["consents, staging, histories"] = time.perf_counter() - t

    # --- appointments: a year behind, a month ahead, and one busy day at the first clinic -------
    t = time.perf_counter()
    tz = a.tz
    day = today + timedelta(days=7 - today.weekday() + 1)  # Tuesday of next week
    appointments = []
    kinds = [AppointmentKind.FREE_CONSULTATION, AppointmentKind.FOLLOW_UP, AppointmentKind.FOLLOW_UP,
             AppointmentKind.VIDEO_CONSULTATION, AppointmentKind.PROCEDURE]
    for clinic, ids in ((a, ids_a), (b, ids_b)):
        for offset in range(-365, 31):
            d = today + timedelta(days=offset)
            if d.weekday() >= 5 or d == day:
                continue
            for c_index, clinician in enumerate(clinicians[clinic.pk]):
                clock = datetime.combine(d, dtime(9, 0), tz)
                for _ in range(rnd.randrange(4, 9)):
                    kind = rnd.choice(kinds)
                    minutes = 120 if kind == AppointmentKind.PROCEDURE else 30
                    room = None if kind == AppointmentKind.VIDEO_CONSULTATION else rooms[clinic.pk][
                        3 + c_index % 2 if kind == AppointmentKind.PROCEDURE else c_index % 3]
                    if d < today:
                        status = rnd.choices([AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED,
                                              AppointmentStatus.NO_SHOW], [85, 10, 5])[0]
                    else:
                        status = AppointmentStatus.BOOKED
                    appointments.append(Appointment(clinic=clinic, patient_id=rnd.choice(ids), clinician=clinician,
                                                    room=room, kind=kind, status=status, starts_at=clock,
                                                    ends_at=clock + timedelta(minutes=minutes), created_by=coordinator))
                    clock += timedelta(minutes=minutes + rnd.choice([0, 15, 30]))
    background = len(appointments)
    # The measured day: 4 clinicians x 10 appointments, 08:00-18:00, rooms shared, no overlaps.
    for c_index, clinician in enumerate(clinicians[a.pk]):
        clock = datetime.combine(day, dtime(8, 0), tz)
        for k in range(10):
            kind = AppointmentKind.PROCEDURE if (c_index == 0 and k % 3 == 0) else kinds[(k + c_index) % 4]
            minutes = 90 if kind == AppointmentKind.PROCEDURE else 30
            room = (None if kind == AppointmentKind.VIDEO_CONSULTATION
                    else rooms[a.pk][3] if kind == AppointmentKind.PROCEDURE else rooms[a.pk][c_index % 3])
            if c_index == 3 and room is not None:
                room = rooms[a.pk][4] if kind == AppointmentKind.PROCEDURE else rooms[a.pk][2]
            appointments.append(Appointment(clinic=a, patient_id=rnd.choice(ids_a), clinician=clinician, room=room,
                                            kind=kind, status=AppointmentStatus.BOOKED, starts_at=clock,
                                            ends_at=clock + timedelta(minutes=minutes), created_by=coordinator))
            clock += timedelta(minutes=minutes + 15 if c_index < 3 else minutes + 10)
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    timings["appointments"] = time.perf_counter() - t

    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum / a maintenance job would keep them
    timings["analyze"] = time.perf_counter() - t

    # --- search queries people type, drawn from the first clinic's patients ---------------------
    people = list(Patient.objects.filter(pk__in=rnd.sample(ids_a, min(600, len(ids_a)))).exclude(phone="").exclude(email="")
                  .order_by("id")[:400])
    queries = []
    for k, p in enumerate(people):
        national = "0" + p.phone[3:] if p.phone.startswith("+44") else p.phone
        form = k % 5
        if form == 0:
            queries.append(p.last_name)
        elif form == 1:
            queries.append(f"{p.first_name} {p.last_name}")
        elif form == 2:
            queries.append(f"{p.date_of_birth:%d/%m/%Y}")
        elif form == 3:
            queries.append(f"{national[:5]} {national[5:8]} {national[8:]}")
        else:
            queries.append(p.email.upper() if k % 2 else p.email)
    # Every query form must find its patient (the seeded rows search like registered ones).
    for k, p in enumerate(people[:25]):
        assert patient_search(user=coordinator, q=queries[k]).filter(pk=p.pk).exists(), (queries[k], p.pk)

    timings["total"] = time.perf_counter() - t0
    out_path.write_text(json.dumps({
        "clinic_id": a.pk, "day": day.isoformat(), "patient_ids": rnd.sample(ids_a, min(2000, len(ids_a))), "queries": queries,
        "counts": {"patients": Patient.objects.count(), "consents": len(consents), "stagings": len(stagings),
                   "medical_histories": len(histories), "appointments": Appointment.objects.count(),
                   "background_appointments": background, "day_appointments": len(appointments) - background},
        "timings": timings,
    }))


# ================================================================================================
# Orchestration (parent process: no Django imported here)
# ================================================================================================


class Server:
    """gunicorn in its own process group, stopped on exit whatever happens."""

    def __init__(self, env: dict, log_path: Path):
        self.port = _free_port()
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "anagen.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(WORKERS), "--threads", str(THREADS), "--worker-class", "gthread",
             "--keep-alive", "10", "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"/healthz did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cookies(resp: http.client.HTTPResponse) -> dict[str, str]:
    jar = {}
    for header, value in resp.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def login(port: int) -> str:
    """Log in once as the coordinator; return the Cookie header every client sends."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    resp = conn.getresponse()
    page = resp.read().decode()
    jar = _cookies(resp)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": COORDINATOR, "password": PASSWORD})
    conn.request("POST", "/login/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={jar['csrftoken']}",
        "Referer": f"http://127.0.0.1:{port}/login/"})
    resp = conn.getresponse()
    resp.read()
    jar.update(_cookies(resp))
    if resp.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login failed: HTTP {resp.status}")
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def load(port: int, cookie: str, paths: list[str], clients: int) -> dict:
    """``clients`` threads take the paths in turn, one keep-alive connection each."""
    lock = threading.Lock()
    todo = iter(enumerate(paths))
    latencies = [0.0] * len(paths)
    failures: dict[str, int] = {}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                break
            i, path = item
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                resp = conn.getresponse()
                resp.read()
                problem = None if resp.status == 200 else f"HTTP {resp.status}"
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                problem = type(exc).__name__
                conn.close()
            latencies[i] = time.perf_counter() - start
            if problem:
                with lock:
                    failures[problem] = failures.get(problem, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    wall = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - wall
    ordered = sorted(latencies)

    def pct(p: float) -> float:  # nearest rank
        return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))] * 1000

    return {"requests": len(paths), "errors": sum(failures.values()), "failures": failures,
            "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": ordered[-1] * 1000,
            "throughput": len(paths) / wall}


def _run(cmd: list[str], env: dict, what: str) -> None:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    print(f"  {what}: {time.perf_counter() - started:.1f} s", flush=True)


def fresh_database(kind: str, pg_url: str) -> dict:
    """Environment for the child processes, pointing at an empty database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ANAGEN_SQLITE_PATH")}
    env.update({"DJANGO_SETTINGS_MODULE": "anagen.settings", "ANAGEN_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT), "ANAGEN_DEBUG": "0"})
    if kind == "sqlite":
        path = BENCH_DIR / "web_latency.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        env["ANAGEN_SQLITE_PATH"] = str(path)
    else:
        import psycopg

        parsed = urllib.parse.urlparse(pg_url)
        name = parsed.path.lstrip("/")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise SystemExit(f"Use a plain lower-case database name in --pg-url, not {name!r}.")
        admin = parsed._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = pg_url
    return env


def bench_database(kind: str, args) -> list[dict]:
    print(f"\n== {kind} ==", flush=True)
    env = fresh_database(kind, args.pg_url)
    _run([str(VENV_BIN / "anagen"), "migrate", "--no-input"], env, "migrate")
    seed_out = BENCH_DIR / f"seed-{kind}.json"
    started = time.perf_counter()
    _run([sys.executable, __file__, "--seed-into", str(seed_out), "--patients", str(args.patients)], env,
         f"seed {args.patients:,} patients")
    seed_seconds = time.perf_counter() - started
    info = json.loads(seed_out.read_text())
    print("  seeded: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in info["counts"].items()))
    print("  seed steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in info["timings"].items()))

    rnd = random.Random(7)
    n = args.requests_per_endpoint
    endpoints = {
        "patient search": [f"/patients/?q={urllib.parse.quote_plus(rnd.choice(info['queries']))}" for _ in range(n)],
        "patient page": [f"/patients/{rnd.choice(info['patient_ids'])}/" for _ in range(n)],
        "clinic day calendar": [f"/calendar/?clinic={info['clinic_id']}&date={info['day']}&view=day"] * n,
    }
    server = Server(env, BENCH_DIR / f"gunicorn-{kind}.log")
    rows = []
    try:
        server.wait_healthy()
        cookie = login(server.port)
        for name, paths in endpoints.items():
            load(server.port, cookie, paths[:WARMUP_PER_ENDPOINT], min(args.clients, WARMUP_PER_ENDPOINT))
            alone = load(server.port, cookie, paths[-ALONE_PER_ENDPOINT:], 1)
            result = load(server.port, cookie, paths, args.clients)
            result.update(database=kind, endpoint=name, seed_seconds=seed_seconds, alone_p50=alone["p50"])
            rows.append(result)
            extra = f"  ({', '.join(f'{k}: {v}' for k, v in result['failures'].items())})" if result["errors"] else ""
            print(f"  {name}: one client alone p50 {alone['p50']:.0f} ms; {args.clients} clients p50 "
                  f"{result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, "
                  f"{result['throughput']:.1f} req/s{extra}", flush=True)
    finally:
        server.stop()
    logged = server.log_path.read_text()
    problems = logged.count(" ERROR ") + logged.count("Traceback")
    if problems:
        print(f"  server log {server.log_path} has {problems} error lines: look before trusting the numbers")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests-per-endpoint", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed-into", type=Path, help=argparse.SUPPRESS)  # internal: the seeding child
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 500 and 1 <= args.requests_per_endpoint <= 1_000_000 and args.patients >= 1000):
        parser.error("use 1-500 clients, at least 1 request per endpoint and at least 1,000 patients")
    if args.seed_into:
        seed(args.patients, args.seed_into)
        return 0

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if not (VENV_BIN / "gunicorn").exists():
        raise SystemExit(f"gunicorn is not installed next to {sys.executable} (pip install gunicorn).")
    cores = os.cpu_count()
    load1, load5, _ = os.getloadavg()
    print(f"web latency benchmark, {datetime.now():%Y-%m-%d %H:%M}")
    print(f"machine: {cores} cores, load average at start {load1:.2f} (1 min) {load5:.2f} (5 min); the cores are "
          "shared with other work, so absolute numbers move with the load")
    print(f"server: gunicorn {WORKERS} workers x {THREADS} threads (gthread): one process per core so Python runs "
          "on both cores despite the GIL, threads so a worker serves others while requests wait on the database; "
          "client threads run on the same machine")
    print(f"load: {args.patients:,} patients, {args.clients} concurrent clients, {args.requests_per_endpoint:,} "
          f"requests per endpoint after {WARMUP_PER_ENDPOINT} warm-up requests; seed by bulk_create, which "
          "bypasses signals, so the seeded rows carry no audit entries")
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = []
    for kind in kinds:
        rows += bench_database(kind, args)

    print()
    header = f"{'database':<9} {'endpoint':<20} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} " \
             f"{'p99 ms':>7} {'max ms':>7} {'req/s':>6} {'alone p50':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['database']:<9} {r['endpoint']:<20} {r['requests']:>8} {r['errors']:>6} {r['p50']:>7.0f} "
              f"{r['p95']:>7.0f} {r['p99']:>7.0f} {r['max']:>7.0f} {r['throughput']:>6.1f} {r['alone_p50']:>9.0f}")
    print(f"p50-max, req/s: {args.clients} concurrent clients, each sending its next request when the last "
          f"is answered; alone p50: one client, {ALONE_PER_ENDPOINT} requests, nothing queued")
    for kind in kinds:
        seconds = next(r["seed_seconds"] for r in rows if r["database"] == kind)
        print(f"seed time {kind}: {seconds:.0f} s")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"\nfailed: {exc}", file=sys.stderr)
        sys.exit(1)
