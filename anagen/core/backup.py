"""Backups that restore: a consistent copy of the database and the media files, with a manifest.

``backup(out_dir)`` writes::

    DIR/database.sqlite3   (SQLite's online backup API: a consistent copy while the clinic works)
    DIR/database.pgdump    (or pg_dump's custom format, one snapshot, for PostgreSQL)
    DIR/media/...          (photographs, reports)
    DIR/manifest.json      (SHA-256 of every file above, the audit chains' heads, the vendor)

``restore(dir)`` checks every checksum, refuses an installation that already holds clinics,
staff or audit entries, loads the database and the media, then verifies the audit chain against
the heads in the manifest and the restored files against their checksums.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pg_env(db: dict) -> tuple[dict, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env, db["NAME"]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client); "
                          "it is needed to back up or restore a PostgreSQL database.")
    return path


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def backup(out_dir: str | os.PathLike, using: str = "default") -> dict:
    from anagen.audit.chain import export_head

    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: choose a new folder for the backup.")
    out.mkdir(parents=True, exist_ok=True)
    conn = connections[using]
    if conn.in_atomic_block:
        raise BackupError("A backup cannot run inside a transaction (it would wait for that transaction forever).")
    heads = export_head(using=using)  # before the copy: the copy holds at least these entries
    if conn.vendor == "sqlite":
        db_file = out / "database.sqlite3"
        conn.ensure_connection()
        dest = sqlite3.connect(db_file)
        try:
            conn.connection.backup(dest)
        finally:
            dest.close()
    elif conn.vendor == "postgresql":
        db_file = out / "database.pgdump"
        env, name = _pg_env(conn.settings_dict)
        run = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(db_file), name],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
    else:
        raise BackupError(f"Backups of {conn.vendor} databases are not supported.")
    media_root = Path(settings.MEDIA_ROOT)
    for src in _files_under(media_root):
        dst = out / "media" / src.relative_to(media_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    files = {p.relative_to(out).as_posix(): sha256(p) for p in _files_under(out)}
    manifest = {"format": 1, "created_at": timezone.now().isoformat(), "vendor": conn.vendor,
                "database": db_file.name, "audit_heads": heads, "files": files}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


@dataclass
class RestoreReport:
    files: int = 0
    audit_entries: int = 0
    problems: list[str] = field(default_factory=list)


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if not isinstance(manifest.get("files"), dict) or manifest.get("format") != 1:
            raise ValueError
    except (OSError, ValueError, AttributeError):
        raise BackupError(f"{folder} holds no backup (no readable {MANIFEST}).") from None
    return manifest


def check_files(folder: Path, files: dict[str, str]) -> list[str]:
    problems = []
    for rel, digest in sorted(files.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif sha256(path) != digest:
            problems.append(f"{rel} does not match its checksum")
    return problems


def installation_is_empty(using: str = "default") -> bool:
    from auditlog.models import LogEntry
    from django.db.utils import DatabaseError

    from anagen.accounts.models import Clinic, User

    conn = connections[using]
    tables = set(conn.introspection.table_names())
    for model in (Clinic, User, LogEntry):
        if model._meta.db_table in tables:
            try:
                if model.objects.using(using).exists():
                    return False
            except DatabaseError:
                return False
    return not _files_under(Path(settings.MEDIA_ROOT))


def restore(folder: str | os.PathLike, using: str = "default") -> RestoreReport:
    from anagen.audit.chain import verify
    from anagen.audit.models import ChainLink

    src = Path(folder)
    manifest = read_manifest(src)
    bad = check_files(src, manifest["files"])
    if bad:
        raise BackupError("The backup is damaged: " + "; ".join(bad))
    conn = connections[using]
    if manifest["vendor"] != conn.vendor:
        raise BackupError(f"This is a {manifest['vendor']} backup; this installation uses {conn.vendor}.")
    if not installation_is_empty(using):
        raise BackupError("This installation already holds clinics, staff, audit entries or media files: "
                          "restore only into an empty installation (a new database and media folder).")
    db_file = src / manifest["database"]
    if conn.vendor == "sqlite":
        conn.ensure_connection()
        source = sqlite3.connect(db_file)
        try:
            source.backup(conn.connection)
        finally:
            source.close()
        conn.close()
    else:
        env, name = _pg_env(conn.settings_dict)
        conn.close()
        run = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--exit-on-error",
                              "--single-transaction", "--dbname", name, str(db_file)],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise BackupError(f"pg_restore failed: {run.stderr.strip()[-2000:]}")
    media_root = Path(settings.MEDIA_ROOT)
    media_files = {rel: digest for rel, digest in manifest["files"].items() if rel.startswith("media/")}
    for rel in media_files:
        dst = media_root / rel[len("media/"):]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst)
    report = RestoreReport(files=len(media_files))
    report.problems += [f"restored {p}" for p in check_files(media_root, {k[len('media/'):]: v
                                                                           for k, v in media_files.items()})]
    report.problems += [str(p) for p in verify(against=manifest.get("audit_heads"), using=using)]
    report.audit_entries = ChainLink.objects.using(using).count()
    return report
