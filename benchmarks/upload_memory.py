"""Peak memory a large phototrichogram upload adds to the server process.

Serves the real upload route (POST /api/v1/assessments/visits/{id}/images) in this process
through Django's WSGI handler, on a fresh SQLite database in a temporary folder, and prints the
peak resident memory (VmHWM, reset through /proc/self/clear_refs before each run) above the
resident memory before the run, for one upload and for four at once of an 8000 x 6000 JPEG.
The analysis that follows an upload runs later on the background worker, one
ANAGEN_ANALYSIS_SLOTS place at a time; it is not started here (the job is recorded, not run),
so the numbers are the requests' own.

    .venv/bin/python benchmarks/upload_memory.py [--width 8000 --height 6000] [--full-decode]

``--full-decode`` checks each upload by decoding it at full resolution, as uploads were checked
before the reduced-scale probe, for comparison. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _jpeg(width: int, height: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = (128 + 60 * np.sin(x / 97.0) * np.cos(y / 131.0)).astype(np.float32)
    pixels = np.clip(base[:, :, None] + rng.normal(0, 6, size=(height, width, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=88)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=8000)
    parser.add_argument("--height", type=int, default=6000)
    parser.add_argument("--full-decode", action="store_true", help="check uploads at full resolution (the old way)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="anagen-upload-bench-"))
    os.environ.update({"ANAGEN_VAR_DIR": str(tmp), "ANAGEN_MEDIA_ROOT": str(tmp / "media"),
                       "DJANGO_SETTINGS_MODULE": "anagen.settings", "ANAGEN_MAX_IMAGE_BYTES": str(60 * 1024 * 1024)})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.test import Client

    from anagen.accounts.models import Clinic
    from anagen.accounts.services import staff_create, token_create
    from anagen.assessments.services import visit_create
    from anagen.core import tasks
    from anagen.patients.services import patient_register
    from anagen.trichoscopy import io as tio

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Bench", slug="bench", timezone="Europe/London")
    clinician = staff_create(email="bench@example.test", password="a-long-bench-password", roles=["clinician", "coordinator"],
                             clinics=[clinic])
    _, raw = token_create(email=clinician.email)
    jobs: list = []
    tasks.enqueue = lambda path, *a: jobs.append((path, a))  # the analysis is not run here
    if args.full_decode:
        def full(source):
            pixels = tio.read_image(source)
            return tio.ImageInfo("JPEG", pixels.shape[1], pixels.shape[0])
        tio.probe_image = full

    data = _jpeg(args.width, args.height)
    print(f"image: {args.width} x {args.height} JPEG, {len(data) / 1e6:.1f} MB; "
          f"check: {'full-resolution decode' if args.full_decode else 'reduced-scale probe'}")

    def visit():
        patient = patient_register(actor=clinician, clinic=clinic, first_name="Bench", last_name=f"P{len(jobs)}",
                                   date_of_birth=date(1980, 1, 1), sex="male", allow_duplicate=True)
        return visit_create(actor=clinician, patient=patient, visit_date=date.today(), is_baseline=True)

    def upload(visit_id: int, payload: bytes, out: list) -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        f = io.BytesIO(payload)
        f.name = "scalp.jpg"
        response = client.post(f"/api/v1/assessments/visits/{visit_id}/images", {"file": f, "kind": "target"})
        out.append(response.status_code)

    # Warm up (imports, first queries) with a small image, so the runs measure the upload only.
    upload(visit().pk, _jpeg(640, 480), [])
    for concurrent in (1, 4):
        visits = [visit().pk for _ in range(concurrent)]
        payloads = [data] * concurrent
        time.sleep(0.2)
        before = _status("VmRSS")
        _reset_peak()
        statuses: list = []
        threads = [threading.Thread(target=upload, args=(v, p, statuses)) for v, p in zip(visits, payloads)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        peak = _status("VmHWM")
        added = (peak - before) / 1e6
        print(f"{concurrent} upload{'s' if concurrent > 1 else ' '} at once: statuses {sorted(statuses)}, "
              f"peak RSS added {added:6.0f} MB ({added / concurrent:5.0f} MB per upload), {elapsed:.1f} s")


if __name__ == "__main__":
    main()
