"""The production server (``anagen serve``: gunicorn processes with threads, plus the job
worker) under N concurrent clients, on SQLite and PostgreSQL.

Usage::

    python benchmarks/server_load.py [--clients 50] [--duration 60] [--patients 2000]
        [--database sqlite|postgres|both] [--pg-url postgres://postgres@127.0.0.1:5432/h_tasks]
        [--pool-max 12] [--web-processes 2] [--threads 4]

For each database: a fresh database seeded as ``web_latency.py`` seeds it (clinics, staff,
``--patients`` patients, a year of appointments, one busy day), plus one assessment visit for
200 of the first clinic's patients and a default dermoscope. Then ``anagen serve`` starts
with ``ANAGEN_DB_POOL_MAX=--pool-max`` and a clinician logs in once. Two phases, same server:

1. floor: the clients hit ``/healthz`` (a minimal Django view: one ``SELECT 1``) for a
   quarter of ``--duration``: what the server costs with no page work;
2. mix: for ``--duration`` seconds each client picks, in turn, the patient page (35 %),
   the patient search (35 %), the clinic day calendar (20 %) or an image upload (10 %: a
   small synthetic phototrichogram, a new one each time, whose analysis the worker runs).

While it runs, PostgreSQL's ``pg_stat_activity`` is sampled every 0.2 s for connections to
the bench database. Prints per endpoint: requests, 5xx, other errors, p50/p95 ms and
requests per second, and the peak connection count against the cap. Exit status 1 on any 5xx
or when the connections went over the cap. Not a test: it needs the whole machine.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web_latency as wl  # noqa: E402  (its seed, fresh databases and HTTP helpers)

ROOT = wl.ROOT
BENCH_DIR = wl.BENCH_DIR
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/h_tasks"
CLINICIAN = "clinician0@bench.invalid"
MIX = [("patient page", 35), ("patient search", 35), ("clinic day calendar", 20), ("image upload", 10)]


def prepare(out_path: Path) -> None:
    """Child process: visits to upload images to, a default dermoscope; write their ids."""
    wl._django()
    from datetime import date

    from anagen.accounts.models import User
    from anagen.assessments.models import AssessmentVisit, DeviceProfile
    from anagen.patients.models import Patient

    clinician = User.objects.get(email=CLINICIAN)
    clinic_id = sorted(clinician.clinic_ids)[0]
    DeviceProfile.objects.create(clinic_id=clinic_id, name="Bench dermoscope", engine_profile="default",
                                 px_per_mm=100.0, vellus_threshold_um=40.0, is_default=True)
    patients = list(Patient.objects.filter(clinic_id=clinic_id).order_by("pk").values_list("pk", flat=True)[:200])
    visits = AssessmentVisit.objects.bulk_create(
        [AssessmentVisit(patient_id=pk, clinic_id=clinic_id, visit_date=date(2025, 1, 10), is_baseline=True,
                         performed_by=clinician) for pk in patients])
    out_path.write_text(json.dumps({"visit_ids": [v.pk for v in visits]}))


def _images(n: int) -> list[bytes]:
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(ROOT))
    from anagen.trichoscopy.synthetic import generate_scalp

    out = []
    for seed in range(n):
        pixels = np.ascontiguousarray(generate_scalp(seed=seed, n_hairs=10, px_per_mm=100.0, shape=(240, 320),
                                                     crossings=0, parallel_pairs=0).image)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def _unique_png(base: bytes) -> bytes:
    """The same picture with a private text chunk, so each upload is a new image (new sha256)."""
    import struct
    import zlib

    payload = b"bench\x00" + uuid.uuid4().hex.encode()
    chunk = struct.pack(">I", len(payload)) + b"tEXt" + payload
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + payload) & 0xFFFFFFFF)
    return base[:33] + chunk + base[33:]  # after the IHDR chunk


def login(port: int, email: str) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    resp = conn.getresponse()
    page = resp.read().decode()
    jar = wl._cookies(resp)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": email, "password": wl.PASSWORD})
    conn.request("POST", "/login/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={jar['csrftoken']}",
        "Referer": f"http://127.0.0.1:{port}/login/"})
    resp = conn.getresponse()
    resp.read()
    jar.update(wl._cookies(resp))
    if resp.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login failed: HTTP {resp.status}")
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items()), jar["csrftoken"]


def _multipart(fields: dict, file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class PgSampler(threading.Thread):
    def __init__(self, pg_url: str):
        super().__init__(daemon=True)
        import psycopg

        parsed = urllib.parse.urlparse(pg_url)
        self.name_db = parsed.path.lstrip("/")
        admin = parsed._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
        self.conn = psycopg.connect(admin, autocommit=True)
        self.peak = 0
        self.samples: list[int] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            n = self.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                  (self.name_db,)).fetchone()[0]
            self.samples.append(n)
            self.peak = max(self.peak, n)
            time.sleep(0.2)

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(5)
        self.conn.close()


def run_phase(port: int, cookie: str, csrf: str, seconds: float, clients: int, choose) -> dict:
    """``clients`` threads send requests back to back for ``seconds``; results per endpoint."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    results: dict[str, dict] = {}

    def record(endpoint: str, latency: float, status: int | None, problem: str | None) -> None:
        with lock:
            r = results.setdefault(endpoint, {"latencies": [], "5xx": 0, "errors": 0, "problems": {}})
            r["latencies"].append(latency)
            if status is not None and status >= 500:
                r["5xx"] += 1
            if problem:
                r["errors"] += 1
                r["problems"][problem] = r["problems"].get(problem, 0) + 1

    def client(k: int) -> None:
        rnd = random.Random(k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.perf_counter() < deadline:
            endpoint, method, path, body, headers = choose(rnd)
            headers = {"Cookie": cookie, **headers}
            start = time.perf_counter()
            status, problem = None, None
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                ok = (200, 302) if method == "POST" else (200,)
                problem = None if status in ok else f"HTTP {status}"
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                problem = type(exc).__name__
                conn.close()
            record(endpoint, time.perf_counter() - start, status, problem)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    wall = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - wall
    summary = {}
    for endpoint, r in results.items():
        ordered = sorted(r["latencies"])

        def pct(p: float) -> float:
            return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))] * 1000

        summary[endpoint] = {"requests": len(ordered), "5xx": r["5xx"], "errors": r["errors"], "problems": r["problems"],
                             "p50": pct(50), "p95": pct(95), "throughput": len(ordered) / wall}
    return summary


def bench(kind: str, args) -> list[dict]:
    print(f"\n== {kind} ==", flush=True)
    env = wl.fresh_database(kind, args.pg_url)
    env.update(ANAGEN_DB_POOL_MAX=str(args.pool_max), ANAGEN_VAR_DIR=str(BENCH_DIR / f"server-{kind}"),
               ANAGEN_TASKS_EAGER="0")
    Path(env["ANAGEN_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    (Path(env["ANAGEN_VAR_DIR"]) / "tasks.sqlite3").unlink(missing_ok=True)
    wl._run([sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input"], env, "migrate")
    seed_out = BENCH_DIR / f"server-seed-{kind}.json"
    wl._run([sys.executable, str(ROOT / "benchmarks" / "web_latency.py"), "--seed-into", str(seed_out),
             "--patients", str(args.patients)], env, f"seed {args.patients:,} patients")
    prep_out = BENCH_DIR / f"server-prep-{kind}.json"
    wl._run([sys.executable, __file__, "--prepare-into", str(prep_out)], env, "visits for the uploads")
    info = json.loads(seed_out.read_text())
    visits = json.loads(prep_out.read_text())["visit_ids"]
    images = _images(8)

    port = wl._free_port()
    log_path = BENCH_DIR / f"serve-{kind}.log"
    log = open(log_path, "w")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port), "--web-processes",
         str(args.web_processes), "--threads", str(args.threads), "--task-workers", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    sampler = PgSampler(args.pg_url) if kind == "postgres" else None
    rows = []
    try:
        srv = wl.Server.__new__(wl.Server)  # reuse its health wait
        srv.port, srv.proc, srv.log_path = port, server, log_path
        srv.wait_healthy(120)
        cookie, csrf = login(port, CLINICIAN)
        if sampler:
            sampler.start()

        def floor(rnd):
            return "floor: /healthz", "GET", "/healthz", None, {}

        weights = [w for _, w in MIX]

        def mix(rnd):
            endpoint = rnd.choices([e for e, _ in MIX], weights)[0]
            if endpoint == "patient page":
                return endpoint, "GET", f"/patients/{rnd.choice(info['patient_ids'])}/", None, {}
            if endpoint == "patient search":
                q = urllib.parse.quote_plus(rnd.choice(info["queries"]))
                return endpoint, "GET", f"/patients/?q={q}", None, {}
            if endpoint == "clinic day calendar":
                return endpoint, "GET", f"/calendar/?clinic={info['clinic_id']}&date={info['day']}&view=day", None, {}
            body, ctype = _multipart({"csrfmiddlewaretoken": csrf, "kind": "target"}, "file", "target.png",
                                     _unique_png(rnd.choice(images)))
            return endpoint, "POST", f"/assessments/visits/{rnd.choice(visits)}/images", body, {
                "Content-Type": ctype, "Referer": f"http://127.0.0.1:{port}/"}

        for name, seconds, choose in (("floor", max(5.0, args.duration / 4), floor), ("mix", args.duration, mix)):
            result = run_phase(port, cookie, csrf, seconds, args.clients, choose)
            for endpoint, r in result.items():
                r.update(database=kind, endpoint=endpoint)
                rows.append(r)
                extra = f" ({', '.join(f'{k}: {v}' for k, v in r['problems'].items())})" if r["problems"] else ""
                print(f"  {endpoint}: {r['requests']} requests, {r['5xx']} 5xx, p50 {r['p50']:.0f} ms, "
                      f"p95 {r['p95']:.0f} ms, {r['throughput']:.1f} req/s{extra}", flush=True)
    finally:
        if sampler:
            sampler.stop()
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log.close()
    if sampler:
        print(f"  PostgreSQL connections to {sampler.name_db}: peak {sampler.peak}, cap ANAGEN_DB_POOL_MAX="
              f"{args.pool_max} ({args.web_processes} web + 1 worker process, "
              f"{max(1, args.pool_max // (args.web_processes + 1))} each)", flush=True)
        for r in rows:
            r["pg_peak"] = sampler.peak
    logged = log_path.read_text()
    problems = logged.count(" ERROR ") + logged.count("Traceback")
    if problems:
        print(f"  server log {log_path} has {problems} error lines: look before trusting the numbers")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the mixed load")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--pool-max", type=int, default=12, help="ANAGEN_DB_POOL_MAX for the server")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--prepare-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare_into:
        prepare(args.prepare_into)
        return 0
    if not (1 <= args.clients <= 500 and args.duration >= 1 and args.patients >= 1000 and args.pool_max >= 1):
        parser.error("use 1-500 clients, a duration of 1 s or more, at least 1,000 patients and --pool-max >= 1")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    load1, _, _ = os.getloadavg()
    print(f"server load benchmark, {datetime.now():%Y-%m-%d %H:%M}: {os.cpu_count()} cores (load {load1:.2f} at "
          f"start), anagen serve: {args.web_processes} web processes x {args.threads} threads + 1 job worker; "
          f"{args.clients} clients on this machine, floor {max(5.0, args.duration / 4):.0f} s then mix "
          f"{args.duration:.0f} s")
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = []
    for kind in kinds:
        rows += bench(kind, args)
    print()
    header = f"{'database':<9} {'endpoint':<20} {'requests':>8} {'5xx':>4} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['database']:<9} {r['endpoint']:<20} {r['requests']:>8} {r['5xx']:>4} {r['errors']:>6} "
              f"{r['p50']:>7.0f} {r['p95']:>7.0f} {r['throughput']:>6.1f}")
    over = [r for r in rows if r.get("pg_peak", 0) > args.pool_max]
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 1 if any(r["5xx"] for r in rows) or over else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"\nfailed: {exc}", file=sys.stderr)
        sys.exit(1)
