"""Each attack on the audit trail is refused by the database, or found by `anagen audit verify`."""

import json

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from anagen.audit import chain, db
from anagen.audit.models import ChainHead, ChainLink


def _write_some(clinic, n=5):
    from anagen.accounts.models import Room

    for i in range(n):
        Room.objects.create(clinic=clinic, name=f"Room {i}")


def _drop_triggers():
    """What a database administrator could do: the tests then check that verify notices."""
    stmts = db.POSTGRES_DROP if connection.vendor == "postgresql" else db.SQLITE_DROP
    with connection.cursor() as c:
        for sql in stmts:
            c.execute(sql)


def _kinds(problems):
    return [p.kind for p in problems]


def test_every_entry_is_linked_and_the_trail_verifies(clinic):
    _write_some(clinic)
    assert LogEntry.objects.count() == ChainLink.objects.count() > 5
    assert chain.verify() == []
    total = sum(h["seq"] for h in chain.heads().values())
    assert total == ChainLink.objects.count()


@pytest.mark.parametrize("attack", ["update", "bulk_update", "delete", "raw_update", "raw_delete"])
def test_the_database_refuses_changes_to_entries(clinic, attack):
    _write_some(clinic, 1)
    entry = LogEntry.objects.order_by("pk").first()
    table = LogEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic():
        if attack == "update":
            LogEntry.objects.filter(pk=entry.pk).update(object_repr="tampered")
        elif attack == "bulk_update":
            entry.object_repr = "tampered"
            LogEntry.objects.bulk_update([entry], ["object_repr"])
        elif attack == "delete":
            LogEntry.objects.filter(pk=entry.pk)._raw_delete(connection.alias)
        else:
            with connection.cursor() as c:
                if attack == "raw_update":
                    c.execute(f"UPDATE {table} SET object_repr = 'tampered' WHERE id = %s", [entry.pk])
                else:
                    c.execute(f"DELETE FROM {table}")
    assert LogEntry.objects.get(pk=entry.pk).object_repr != "tampered"
    assert chain.verify() == []


def test_links_and_heads_cannot_be_rewritten_either(clinic):
    _write_some(clinic, 1)
    with pytest.raises(DatabaseError), transaction.atomic():
        ChainLink.objects.update(hash="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        ChainLink.objects.all()._raw_delete(connection.alias)
    head = ChainHead.objects.filter(seq__gt=0).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        ChainHead.objects.filter(pk=head.pk).update(seq=0, hash=chain.GENESIS)
    with pytest.raises(DatabaseError), transaction.atomic():
        ChainHead.objects.all()._raw_delete(connection.alias)


@pytest.mark.postgres
def test_postgres_refuses_truncate(clinic):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    _write_some(clinic, 1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("TRUNCATE auditlog_logentry CASCADE")


def test_verify_finds_an_edited_entry(clinic):
    _write_some(clinic)
    _drop_triggers()
    victim = LogEntry.objects.order_by("pk")[2]
    LogEntry.objects.filter(pk=victim.pk).update(object_repr="nothing happened")
    problems = chain.verify()
    assert _kinds(problems) == ["edited"] and problems[0].entry_id == victim.pk


def test_verify_finds_a_deleted_entry(clinic):
    _write_some(clinic)
    _drop_triggers()
    victim = LogEntry.objects.order_by("pk")[2]
    LogEntry.objects.filter(pk=victim.pk)._raw_delete(connection.alias)
    problems = chain.verify()
    assert _kinds(problems) == ["deleted"] and problems[0].entry_id == victim.pk


def test_verify_finds_an_entry_deleted_with_its_link(clinic):
    _write_some(clinic)
    _drop_triggers()
    link = ChainLink.objects.order_by("chain", "seq")[1]
    LogEntry.objects.filter(pk=link.entry_id)._raw_delete(connection.alias)
    ChainLink.objects.filter(pk=link.pk)._raw_delete(connection.alias)
    assert "deleted" in _kinds(chain.verify())


def test_verify_finds_an_inserted_entry(clinic):
    _write_some(clinic)
    forged = LogEntry.objects.order_by("pk").first()
    forged.pk = None
    LogEntry.objects.bulk_create([forged])  # no signals: no link
    problems = chain.verify()
    assert _kinds(problems) == ["inserted"]


def test_verify_finds_reordered_entries(clinic):
    _write_some(clinic)
    _drop_triggers()
    a, b = ChainLink.objects.order_by("chain", "seq")[1:3]
    ChainLink.objects.filter(pk=a.pk).update(seq=10_000)
    ChainLink.objects.filter(pk=b.pk).update(seq=a.seq)
    ChainLink.objects.filter(pk=a.pk).update(seq=b.seq)
    assert _kinds(chain.verify())[0] in {"reordered", "edited"}


def test_verify_finds_a_truncated_chain(clinic):
    _write_some(clinic)
    _drop_triggers()
    last = ChainLink.objects.order_by("-chain", "-seq").first()
    last = ChainLink.objects.filter(chain=last.chain).order_by("-seq").first()
    LogEntry.objects.filter(pk=last.entry_id)._raw_delete(connection.alias)
    ChainLink.objects.filter(pk=last.pk)._raw_delete(connection.alias)
    assert _kinds(chain.verify()) == ["truncated"]


def test_a_whole_rewritten_chain_shows_against_an_earlier_head(clinic, tmp_path):
    _write_some(clinic)
    head_file = tmp_path / "head.json"
    chain.export_head(head_file)
    _drop_triggers()
    # The attacker edits an entry and recomputes every link and head after it: verify alone is fooled...
    victim = LogEntry.objects.order_by("pk")[1]
    LogEntry.objects.filter(pk=victim.pk).update(object_repr="rewritten")
    fields = chain.entry_fields()
    for c in ChainLink.objects.values_list("chain", flat=True).distinct():
        prev = chain.GENESIS
        for link in ChainLink.objects.filter(chain=c).order_by("seq"):
            row = LogEntry.objects.filter(pk=link.entry_id).values(*fields).get()
            prev = chain.link_hash(prev, c, link.seq, row)
            ChainLink.objects.filter(pk=link.pk).update(hash=prev)
        ChainHead.objects.filter(chain=c).update(hash=prev)
    assert chain.verify() == []
    # ...the head kept elsewhere is not.
    problems = chain.verify(against=json.loads(head_file.read_text()))
    assert _kinds(problems) == ["rewritten"]
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--against", str(head_file))


def test_audit_commands(clinic, tmp_path, capsys):
    _write_some(clinic, 2)
    out = tmp_path / "head.json"
    call_command("audit", "head", "--out", str(out))
    assert set(json.loads(out.read_text())["chains"]) == {str(c) for c in range(chain.CHAINS)}
    call_command("audit", "verify", "--against", str(out))
    assert "intact" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(CommandError, match="not a head file"):
        call_command("audit", "verify", "--against", str(bad))


def test_auditlogflush_is_disabled(clinic):
    _write_some(clinic, 1)
    before = LogEntry.objects.count()
    with pytest.raises(CommandError, match="append-only"):
        call_command("auditlogflush", "--yes", "--truncate")
    assert LogEntry.objects.count() == before
