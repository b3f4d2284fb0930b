"""Batch re-analysis over the job queue: images per second with 1 and 2 worker processes.

Usage::

    python benchmarks/batch_reanalysis.py [--images 40] [--size 480x640] [--workers 1,2]

A fresh SQLite database under ``var/bench/`` gets one clinic, a clinician, a calibrated
dermoscope and ``--images`` synthetic phototrichograms (one visit each), analysed at upload.
Their results are then marked as made by an older engine version, and
``anagen reanalyze --workers N`` re-analyses them all through the queue (SQLite storage,
N worker processes started by the command) for each N in ``--workers``. Prints seconds and
images per second per N and the scaling ratio against one worker. Not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench" / "reanalysis"


def prepare(n_images: int, shape: tuple[int, int]) -> None:
    """Child process: clinic, staff, patients, visits and analysed images (inline analysis)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
    os.environ["ANAGEN_TASKS_EAGER"] = "1"
    import django

    django.setup()
    import io
    from datetime import date

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from anagen.accounts.models import Clinic, Role
    from anagen.accounts.services import staff_create
    from anagen.assessments.models import DeviceProfile
    from anagen.assessments.services import trichogram_image_upload, visit_create
    from anagen.patients.services import patient_register
    from anagen.trichoscopy.synthetic import generate_scalp

    clinic = Clinic.objects.create(name="Bench clinic", slug="bench", timezone="Europe/London")
    clinician = staff_create(email="clinician@bench.invalid", password=None, roles=[Role.CLINICIAN], clinics=[clinic])
    coordinator = staff_create(email="coordinator@bench.invalid", password=None, roles=[Role.COORDINATOR],
                               clinics=[clinic])
    DeviceProfile.objects.create(clinic=clinic, name="Bench dermoscope", engine_profile="default", px_per_mm=100.0,
                                 vellus_threshold_um=40.0, is_default=True)
    for k in range(n_images):
        patient = patient_register(actor=coordinator, clinic=clinic, first_name=f"Bench{k}", last_name="Patient",
                                   date_of_birth=date(1980, 1, 1 + k % 28))
        visit = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 1, 10), is_baseline=True)
        pixels = generate_scalp(seed=k, n_hairs=30, px_per_mm=100.0, shape=shape).image
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        trichogram_image_upload(actor=clinician, visit=visit,
                                file=SimpleUploadedFile("t.png", buffer.getvalue(), content_type="image/png"))


def _run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[1:4])} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--size", default="480x640", help="image height x width in pixels")
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    height, width = (int(v) for v in args.size.lower().split("x"))
    if args.prepare:
        prepare(args.images, (height, width))
        return 0
    counts = [int(v) for v in args.workers.split(",")]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "tasks.sqlite3"):
        (BENCH_DIR / name).unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ANAGEN_TASKS_URL")}
    env.update(ANAGEN_VAR_DIR=str(BENCH_DIR), ANAGEN_SQLITE_PATH=str(BENCH_DIR / "db.sqlite3"),
               DJANGO_SETTINGS_MODULE="anagen.settings", PYTHONPATH=str(ROOT), ANAGEN_LOG_LEVEL="WARNING",
               ANAGEN_TASKS_EAGER="0")
    manage = [sys.executable, str(ROOT / "manage.py")]
    print(f"batch re-analysis benchmark, {datetime.now():%Y-%m-%d %H:%M}: {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f} at start; {args.images} images of {height} x {width} px, SQLite queue")
    started = time.perf_counter()
    _run([*manage, "migrate", "--no-input", "-v", "0"], env)
    _run([sys.executable, __file__, "--prepare", "--images", str(args.images), "--size", args.size], env)
    print(f"  set-up (migrate, {args.images} uploads analysed inline): {time.perf_counter() - started:.0f} s")
    results = {}
    for n in counts:
        _run([*manage, "shell", "-c", "from anagen.assessments.models import TrichogramAnalysis as T; "
              "T.objects.update(engine_version='0.0-bench')"], env)
        t0 = time.perf_counter()
        out = _run([*manage, "reanalyze", "--workers", str(n)], env)
        wall = time.perf_counter() - t0
        summary = next((line for line in out.splitlines() if line.startswith("Re-analysed")), "")
        match = re.search(r"Re-analysed (\d+) image\(s\).* in ([\d.]+) s \(([\d.]+) images/s\), (\d+) failed", summary)
        if not match:
            raise RuntimeError(f"unexpected output:\n{out[-2000:]}")
        done, seconds, rate, failed = int(match[1]), float(match[2]), float(match[3]), int(match[4])
        # The workers' own span, from the first job started to the last finished (no start-up).
        span = float(_run([*manage, "shell", "-c",
                           "from django.db.models import Max, Min; from anagen.jobs.models import Job; "
                           "r = Job.objects.filter(name__endswith='trichogram_analysis_run', status='done')"
                           ".order_by('-id')[:%d]; ids = list(r.values_list('id', flat=True)); "
                           "a = Job.objects.filter(id__in=ids).aggregate(s=Min('started_at'), f=Max('finished_at')); "
                           "print((a['f'] - a['s']).total_seconds())" % done], env).strip().splitlines()[-1])
        results[n] = done / span
        print(f"  {n} worker process{'es' if n > 1 else ''}: {done} re-analysed, {failed} failed; workers busy "
              f"{span:.1f} s ({done / span:.2f} images/s); {seconds:.1f} s from queueing to the last result "
              f"({rate:.2f} images/s, includes starting the workers); command wall time {wall:.1f} s", flush=True)
    base = counts[0]
    for n in counts[1:]:
        print(f"scaling {n} vs {base} worker(s): x{results[n] / results[base]:.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
