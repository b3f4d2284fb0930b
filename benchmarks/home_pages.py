"""Time each role's home page (its work list) against a database holding the demo.

Prints, per demo login, the median time of ``--n`` requests through Django's test client (in
process: no server, no network) and the number of SQL queries one request makes. Point it at a
database loaded with ``anagen demo`` (``DATABASE_URL``; the default SQLite file otherwise)::

    .venv/bin/python benchmarks/home_pages.py [--n 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")

ROLES = ["coordinator", "clinician", "lab", "statistician", "admin"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="requests per role (after one warm-up)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from anagen.accounts.models import User

    print(f"{'login':<14} {'median ms':>9} {'max ms':>7} {'queries':>7}")
    for who in ROLES:
        user = User.objects.filter(email=f"{who}@anagen.example").first()
        if user is None:
            print(f"{who}@anagen.example is missing: load the demo first (anagen demo).", file=sys.stderr)
            return 1
        client = Client()
        client.force_login(user)
        client.get("/")
        times = []
        for _ in range(args.n):
            started = time.perf_counter()
            response = client.get("/")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        print(f"{who:<14} {statistics.median(times):>9.1f} {max(times):>7.1f} {len(queries):>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
