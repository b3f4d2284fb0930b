"""Backups that restore: a small demo is backed up, restored into an empty installation in a
separate process, and verified there (audit chain and file checksums)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from anagen.core.backup import BackupError, backup, restore

ROOT = Path(__file__).resolve().parents[3]


def _anagen(*args, env):
    return subprocess.run([sys.executable, "-m", "anagen.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _pg_target():
    """A scratch database next to the test database, for the restore; dropped afterwards."""
    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return name, f"postgres://{user}@{host}:{port}/{name}", ["psql", "-h", str(host), "-p", str(port), "-U", user,
                                                              "-d", "postgres", "-qc"]


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_installation_and_verifies(tmp_path):
    from anagen.demo import load_demo

    if connection.vendor == "postgresql" and not (shutil.which("pg_dump") and shutil.which("psql")):
        pytest.skip("pg_dump / psql are not installed")
    load_demo(seed=3, n_patients=8, max_images=2, log=lambda _: None)
    out = tmp_path / "backup"
    manifest = backup(out)
    media = [k for k in manifest["files"] if k.startswith("media/")]
    assert media and manifest["database"] in manifest["files"]

    # Into this (full) installation: refused.
    with pytest.raises(BackupError, match="empty installation"):
        restore(out)

    env = {**os.environ, "ANAGEN_MEDIA_ROOT": str(tmp_path / "restored-media"), "ANAGEN_TASKS_EAGER": "1",
           "ANAGEN_VAR_DIR": str(tmp_path / "var")}
    env.pop("ANAGEN_AUDIT_TEST_FLUSH", None)
    drop = None
    if connection.vendor == "postgresql":
        name, url, psql = _pg_target()
        subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True)
        drop = [*psql, f'DROP DATABASE IF EXISTS "{name}"']
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
        env["ANAGEN_SQLITE_PATH"] = str(tmp_path / "restored.sqlite3")
    try:
        r = _anagen("restore", str(out), env=env)
        assert r.returncode == 0, r.stderr
        assert "Restored and verified" in r.stdout and f"{len(media)} media files" in r.stdout
        r = _anagen("audit", "verify", env=env)
        assert r.returncode == 0 and "intact" in r.stdout, r.stderr
        # A second restore over it is refused: the installation is no longer empty.
        r = _anagen("restore", str(out), env=env)
        assert r.returncode != 0 and "empty installation" in r.stderr
    finally:
        if drop:
            subprocess.run(drop, check=False)
    restored = tmp_path / "restored-media"
    assert sorted(p.relative_to(restored).as_posix() for p in restored.rglob("*") if p.is_file()) == \
        sorted(k[len("media/"):] for k in media)


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_touched(tmp_path, clinic):
    out = tmp_path / "backup"
    manifest = backup(out)
    db_file = out / manifest["database"]
    db_file.write_bytes(db_file.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BackupError, match="damaged"):
        restore(out)
    (out / "manifest.json").write_text("{}")
    with pytest.raises(BackupError, match="no backup"):
        restore(out)


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path, clinic):
    with pytest.raises(BackupError, match="inside a transaction"):
        backup(tmp_path / "in-a-transaction")
    (tmp_path / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup(tmp_path)
