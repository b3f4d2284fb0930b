"""The real worker (``anagen worker`` in its own process) on both storages: SQLite (the
embedded default) and Redis. A job queued, the worker SIGKILLed mid-job and restarted: every
job runs to its end exactly once, and a failing one is retried, then shown failed.

These tests run the worker against a database of their own (SQLite, migrated once per run),
because the worker is another process and cannot see the test's transaction.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = "anagen.jobs.tests.sample_jobs"
REDIS_URL = os.environ.get("ANAGEN_TEST_TASKS_REDIS_URL", "redis://127.0.0.1:6379/3")


def _env(var_dir: Path, tasks_url: str, name: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ANAGEN_TASKS_EAGER")}
    env.update(ANAGEN_VAR_DIR=str(var_dir), ANAGEN_SQLITE_PATH=str(var_dir / "db.sqlite3"),
               ANAGEN_TASKS_URL=tasks_url, ANAGEN_TASKS_NAME=name, ANAGEN_TASKS_RETRY_DELAY="0.2",
               ANAGEN_TASKS_MAX_ATTEMPTS="3", PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="anagen.settings")
    return env


def _manage(env: dict, *args: str, timeout: float = 120) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("worker-db")
    _manage(_env(base, "", "migrate"), "migrate", "--noinput", "-v", "0", timeout=300)
    return base / "db.sqlite3"


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    fh = open(log, "a")
    proc = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "worker", "--workers", "1", "--no-periodic"],
                            env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    fh.close()
    return proc


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _jobs(db: Path) -> dict:
    with sqlite3.connect(db, timeout=20) as conn:
        rows = conn.execute("select json_extract(args, '$[1]'), name, status, attempts, error from jobs_job").fetchall()
    return {(label or name.rpartition(".")[2]): (status, attempts, error) for label, name, status, attempts, error in rows}


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__}); set "
                    "ANAGEN_TEST_TASKS_REDIS_URL to run the worker against Redis")


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_a_killed_worker_restarted_runs_each_job_exactly_once(storage, migrated, tmp_path):
    if storage == "redis":
        _redis_or_skip()
    work = tmp_path / "var"
    work.mkdir()
    db = work / "db.sqlite3"
    db.write_bytes(migrated.read_bytes())
    name = f"anagen-test-{uuid.uuid4().hex[:8]}"
    tasks_url = REDIS_URL if storage == "redis" else f"sqlite:///{work / 'tasks.sqlite3'}"
    env = _env(work, tasks_url, name)
    marker, log = tmp_path / "runs.txt", tmp_path / "worker.log"
    worker = _start_worker(env, log)
    try:
        _wait(lambda: "Task worker:" in log.read_text(), 60, "the worker to start")
        _manage(env, "shell", "-c", "; ".join([
            "from anagen.core import tasks",
            f"tasks.enqueue('{SAMPLE}.slow', '{marker}', 'A', 5)",
            f"tasks.enqueue('{SAMPLE}.record', '{marker}', 'B')",
            f"tasks.enqueue('{SAMPLE}.explode', 'scanner offline')",
        ]))
        _wait(lambda: "start A" in _lines(marker), 60, "job A to start")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert _jobs(db)["A"][0] == "running"  # the row the dead worker left
        assert "B" not in _lines(marker)  # B is still on the queue

        worker = _start_worker(env, log)

        def finished():
            jobs = _jobs(db)
            return jobs if all(state[0] in ("done", "failed") for state in jobs.values()) else None

        jobs = _wait(finished, 90, "every job to finish after the restart")
        runs = _lines(marker)
        assert runs.count("done A") == 1 and runs.count("B") == 1
        assert runs.count("start A") == 2  # cut short once, then run to its end once
        assert jobs["A"][:2] == ("done", 2)
        assert jobs["B"][:2] == ("done", 1)
        assert jobs["explode"] == ("failed", 3, "RuntimeError: scanner offline")
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGINT)  # a graceful stop
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if storage == "redis":
            from huey import RedisHuey

            RedisHuey(name, url=REDIS_URL).storage.flush_all()
    assert worker.returncode == 0 or worker.returncode == -signal.SIGINT, log.read_text()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_the_web_server_and_the_worker_and_ctrl_c_stops_both(migrated, tmp_path):
    import urllib.request

    work = tmp_path / "var"
    work.mkdir()
    (work / "db.sqlite3").write_bytes(migrated.read_bytes())
    env = _env(work, "", "anagen-serve-test")
    port, log = _free_port(), tmp_path / "serve.log"
    with open(log, "w") as fh:
        server = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port),
                                   "--web-processes", "1", "--threads", "2"],
                                  env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    try:
        def healthy():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        _wait(healthy, 60, "the web server to answer")
        _wait(lambda: "Task worker:" in log.read_text(), 60, "the worker to start")
        assert f"Anagen serving on http://127.0.0.1:{port}/" in log.read_text()
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2  # gunicorn's arbiter and the worker
    finally:
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends
        server.wait(60)
    assert server.returncode == 0, log.read_text()
    assert "Stopped." in log.read_text()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
