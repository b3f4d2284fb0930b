"""Kill -9 during concurrent audited writes: is every acknowledged write kept, and does the
audit chain still verify? Prints numbers; it is not a test.

For each database it makes a fresh one (SQLite file ``var/bench/audit_kill9.sqlite3``; for
PostgreSQL it drops and creates the database named in ``--pg-url``, so never point it at one you
want to keep), migrates it, adds a clinic, then for ``--rounds`` rounds starts ``--writers``
writer processes that each create rooms (one transaction each: the room, its audit entry and the
entry's chain link) and print a room's name once its transaction has committed (the
acknowledgement), and SIGKILLs them all after ``--seconds``. Afterwards it counts the
acknowledged rooms missing from the database (must be 0), the audit entries, and runs
``anagen.audit.chain.verify`` (must report nothing).

    .venv/bin/python benchmarks/audit_kill9.py [--database sqlite|postgres|both] [--writers 4]
        [--rounds 5] [--seconds 3] [--pg-url postgres://postgres@127.0.0.1:5432/h_audit_kill9]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WRITER = r"""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
import django
django.setup()
from django.db import transaction
from anagen.accounts.models import Clinic, Room
clinic = Clinic.objects.get(slug="kill9")
wid, i = sys.argv[1], 0
Room.objects.filter(clinic=clinic).exists()  # connected
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    i += 1
    name = f"w{wid}-{os.getpid()}-{i}"
    with transaction.atomic():
        Room.objects.create(clinic=clinic, name=name)
    sys.stdout.write(name + "\n")
    sys.stdout.flush()
"""

SETUP = r"""
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
import django
django.setup()
from anagen.accounts.models import Clinic
Clinic.objects.get_or_create(slug="kill9", defaults={"name": "Kill9"})
"""

CHECK = r"""
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
import django
django.setup()
from auditlog.models import LogEntry
from anagen.accounts.models import Room
from anagen.audit.chain import verify
acked = set(json.load(open(sys.argv[1])))
present = set(Room.objects.filter(clinic__slug="kill9").values_list("name", flat=True))
t = time.perf_counter()
problems = verify()
print(json.dumps({"acked": len(acked), "lost": len(acked - present), "rooms": len(present),
                  "entries": LogEntry.objects.count(), "problems": [str(p) for p in problems[:5]],
                  "n_problems": len(problems), "verify_s": time.perf_counter() - t}))
"""


def _env(database: str, pg_url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ANAGEN_AUDIT_TEST_FLUSH", None)
    if database == "sqlite":
        env.pop("DATABASE_URL", None)
        env["ANAGEN_SQLITE_PATH"] = str(ROOT / "var" / "bench" / "audit_kill9.sqlite3")
    else:
        env["DATABASE_URL"] = pg_url
    return env


def _fresh(database: str, pg_url: str, env: dict) -> None:
    if database == "sqlite":
        path = Path(env["ANAGEN_SQLITE_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        from urllib.parse import urlparse

        u = urlparse(pg_url)
        name = u.path.lstrip("/")
        admin = ["psql", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres",
                 "-d", "postgres", "-qc"]
        subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run([*admin, f'CREATE DATABASE "{name}"'], check=True)
    subprocess.run([sys.executable, "-m", "anagen.cli", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True)


def run(database: str, args) -> dict:
    import json
    import tempfile

    env = _env(database, args.pg_url)
    _fresh(database, args.pg_url, env)
    acked: list[str] = []
    started = 0.0
    write_seconds = 0.0
    for _ in range(args.rounds):
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(w)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for w in range(args.writers)]
        readers = []
        ready = threading.Semaphore(0)

        def read(p):
            for line in p.stdout:
                line = line.strip()
                if line == "ready":
                    ready.release()
                elif line:
                    acked.append(line)

        for p in procs:
            t = threading.Thread(target=read, args=(p,))
            t.start()
            readers.append(t)
        for _ in procs:  # writers start at once, each once Django is loaded
            ready.acquire(timeout=120)
        started = time.perf_counter()
        time.sleep(args.seconds)
        for p in procs:
            os.kill(p.pid, signal.SIGKILL)
        write_seconds += time.perf_counter() - started
        for p in procs:
            p.wait()
        for t in readers:
            t.join()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(acked, f)
    out = subprocess.run([sys.executable, "-c", CHECK, f.name], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    os.unlink(f.name)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["seconds"] = write_seconds
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/h_audit_kill9")
    args = parser.parse_args()
    bad = 0
    for database in (["sqlite", "postgres"] if args.database == "both" else [args.database]):
        r = run(database, args)
        bad += r["lost"] + r["n_problems"]
        print(f"{database:9s} {args.writers} writers x {args.rounds} rounds of SIGKILL after {args.seconds:g} s: "
              f"{r['acked']} acknowledged writes, {r['lost']} lost; {r['rooms']} rooms, {r['entries']} audit entries; "
              f"verify: {r['n_problems']} problems in {r['verify_s']:.2f} s"
              + (f" ({'; '.join(r['problems'])})" if r["problems"] else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
