"""The database's side of append-only: the triggers' SQL and their one escape hatch.

The audit tables (``auditlog_logentry``, ``audit_chainlink``, ``audit_auditevent``) refuse
UPDATE, DELETE and TRUNCATE; a chain head refuses DELETE, and an UPDATE that does not advance it
by exactly one entry. The one exception is Django's ``flush`` while a test suite runs (its
transactional tests empty every table between tests): the suite sets ``ANAGEN_AUDIT_TEST_FLUSH=1``
(root ``conftest.py``), and only the flush itself then runs with the guard lifted - on PostgreSQL
by ``SET LOCAL anagen.audit_purge = 'on'`` inside the flush's transaction, on SQLite through the
``anagen_audit_purge()`` function this module registers on each connection. An installation never
sets that variable. A database superuser can still drop the triggers; ``anagen audit verify``
(and a head exported elsewhere) is what catches that.
"""

from __future__ import annotations

import os
import threading

APPEND_ONLY = ["auditlog_logentry", "audit_chainlink", "audit_auditevent"]
HEAD = "audit_chainhead"
TEST_FLUSH_ENV = "ANAGEN_AUDIT_TEST_FLUSH"

_state = threading.local()


def _purging() -> int:
    return 1 if getattr(_state, "purging", False) else 0


def _register_sqlite_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("anagen_audit_purge", 0, _purging)


def _test_flush_allowed() -> bool:
    return os.environ.get(TEST_FLUSH_ENV, "") == "1"


def install() -> None:
    from django.db.backends.base.operations import BaseDatabaseOperations
    from django.db.backends.signals import connection_created

    connection_created.connect(_register_sqlite_function, dispatch_uid="anagen_audit_sqlite_function")
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _register_sqlite_function(None, conn)
    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "_anagen", False):
        return

    def execute_sql_flush(self, sql_list):
        if not _test_flush_allowed():
            return original(self, sql_list)
        if self.connection.vendor == "postgresql":
            sql_list = ["SET LOCAL anagen.audit_purge = 'on'", *sql_list]
        _state.purging = True
        try:
            return original(self, sql_list)
        finally:
            _state.purging = False

    execute_sql_flush._anagen = True
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush


MESSAGE = "The audit trail is append-only"

POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION anagen_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('anagen.audit_purge', true) = 'on' THEN
            IF TG_LEVEL = 'ROW' THEN
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END IF;
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME;
    END $$;
    """,
    f"""
    CREATE OR REPLACE FUNCTION anagen_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.chain = OLD.chain AND NEW.seq = OLD.seq + 1 THEN RETURN NEW; END IF;
        RAISE EXCEPTION '{MESSAGE}: a chain head only moves forward by one entry';
    END $$;
    """,
]
for _t in APPEND_ONLY:
    POSTGRES_CREATE += [
        f"CREATE TRIGGER {_t}_append_only BEFORE UPDATE OR DELETE ON {_t} "
        f"FOR EACH ROW EXECUTE FUNCTION anagen_audit_append_only();",
        f"CREATE TRIGGER {_t}_no_truncate BEFORE TRUNCATE ON {_t} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION anagen_audit_append_only();",
    ]
POSTGRES_CREATE += [
    f"CREATE TRIGGER {HEAD}_no_delete BEFORE DELETE ON {HEAD} FOR EACH ROW EXECUTE FUNCTION anagen_audit_append_only();",
    f"CREATE TRIGGER {HEAD}_no_truncate BEFORE TRUNCATE ON {HEAD} FOR EACH STATEMENT EXECUTE FUNCTION anagen_audit_append_only();",
    f"CREATE TRIGGER {HEAD}_forward BEFORE UPDATE ON {HEAD} FOR EACH ROW EXECUTE FUNCTION anagen_audit_head_forward();",
]
POSTGRES_DROP = [
    *[f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};" for t in APPEND_ONLY],
    *[f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};" for t in [*APPEND_ONLY, HEAD]],
    f"DROP TRIGGER IF EXISTS {HEAD}_no_delete ON {HEAD};",
    f"DROP TRIGGER IF EXISTS {HEAD}_forward ON {HEAD};",
    "DROP FUNCTION IF EXISTS anagen_audit_append_only();",
    "DROP FUNCTION IF EXISTS anagen_audit_head_forward();",
]

SQLITE_CREATE = []
for _t in APPEND_ONLY:
    for _op in ("UPDATE", "DELETE"):
        SQLITE_CREATE.append(
            f"CREATE TRIGGER {_t}_no_{_op.lower()} BEFORE {_op} ON {_t} WHEN anagen_audit_purge() = 0 "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {_op} on {_t} refused'); END;")
SQLITE_CREATE += [
    f"CREATE TRIGGER {HEAD}_no_delete BEFORE DELETE ON {HEAD} WHEN anagen_audit_purge() = 0 "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE on {HEAD} refused'); END;",
    f"CREATE TRIGGER {HEAD}_forward BEFORE UPDATE ON {HEAD} WHEN NEW.chain <> OLD.chain OR NEW.seq <> OLD.seq + 1 "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: a chain head only moves forward by one entry'); END;",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {t}_no_{op} ;" for t in APPEND_ONLY for op in ("update", "delete")] + [
    f"DROP TRIGGER IF EXISTS {HEAD}_no_delete;", f"DROP TRIGGER IF EXISTS {HEAD}_forward;"]


def create_triggers(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(sql, params=None)
