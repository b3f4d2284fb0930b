"""What the audit hash chain costs a write: audited writes per second with and without the chain
link (the same transaction otherwise: the row, its audit entry). Prints numbers; not a test.

On a fresh SQLite file (``var/bench/audit_chain_cost.sqlite3``) or, with ``--database postgres``,
the database named in ``--pg-url`` (dropped and created: never one you want to keep). Each write
is one transaction creating a room; ``--n`` writes per variant, alternating variants in blocks so
that disk and CPU noise fall on both.

    .venv/bin/python benchmarks/audit_chain_cost.py [--n 1000] [--database sqlite|postgres]
        [--pg-url postgres://postgres@127.0.0.1:5432/h_audit_chain_cost]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/h_audit_chain_cost")
    args = parser.parse_args()
    os.environ.pop("ANAGEN_AUDIT_TEST_FLUSH", None)
    if args.database == "sqlite":
        path = ROOT / "var" / "bench" / "audit_chain_cost.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["ANAGEN_SQLITE_PATH"] = str(path)
    else:
        from urllib.parse import urlparse

        u = urlparse(args.pg_url)
        admin = ["psql", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres",
                 "-d", "postgres", "-qc"]
        name = u.path.lstrip("/")
        subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run([*admin, f'CREATE DATABASE "{name}"'], check=True)
        os.environ["DATABASE_URL"] = args.pg_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models.signals import post_save

    call_command("migrate", verbosity=0)
    from auditlog.models import LogEntry

    from anagen.accounts.models import Clinic, Room
    from anagen.audit import signals
    from anagen.audit.chain import verify

    clinic = Clinic.objects.create(name="Bench", slug="bench")
    chained_save = LogEntry.save
    timings = {"with chain": 0.0, "without chain": 0.0}
    counter = 0
    block = 100
    for start in range(0, args.n, block):
        for variant in timings:
            if variant == "without chain":  # django-auditlog as it comes: no head lock, no link
                post_save.disconnect(signals._link, sender=LogEntry)
                LogEntry.save = chained_save._anagen_original
            t = time.perf_counter()
            for _ in range(min(block, args.n - start)):
                counter += 1
                with transaction.atomic():
                    Room.objects.create(clinic=clinic, name=f"r{counter}")
            timings[variant] += time.perf_counter() - t
            if variant == "without chain":
                post_save.connect(signals._link, sender=LogEntry)
                LogEntry.save = chained_save
    for variant, seconds in timings.items():
        print(f"{args.database:9s} {variant:14s}: {args.n / seconds:8.0f} audited writes/s "
              f"({seconds / args.n * 1000:.2f} ms each)")
    print(f"{args.database:9s} chain overhead: {timings['with chain'] / timings['without chain'] - 1:+.0%} per write")
    t = time.perf_counter()
    problems = verify()
    linked = args.n + 1  # the clinic's own entry is linked too
    print(f"{args.database:9s} verify: {time.perf_counter() - t:.2f} s for the chained entries "
          f"(about {linked}; {len(problems)} problems: the unchained half shows as 'inserted', as it should)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
