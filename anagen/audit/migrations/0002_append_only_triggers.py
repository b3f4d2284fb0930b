"""Chain heads for every chain, links for entries written before the chain existed, and the
triggers that make the audit tables append-only (PostgreSQL and SQLite)."""

from django.db import migrations

from anagen.audit import db
from anagen.audit.chain import CHAINS, GENESIS, link_hash


def heads_and_backfill(apps, schema_editor):
    alias = schema_editor.connection.alias
    ChainHead = apps.get_model("audit", "ChainHead")
    ChainLink = apps.get_model("audit", "ChainLink")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    for chain in range(CHAINS):
        ChainHead.objects.using(alias).get_or_create(chain=chain)
    # Entries from before the chain: linked, in order, into chain 0.
    fields = [f.attname for f in LogEntry._meta.concrete_fields]
    prev, seq, links = GENESIS, 0, []
    for row in LogEntry.objects.using(alias).order_by("pk").values(*fields).iterator(chunk_size=2000):
        seq += 1
        prev = link_hash(prev, 0, seq, row)
        links.append(ChainLink(entry_id=row["id"], chain=0, seq=seq, hash=prev))
    ChainLink.objects.using(alias).bulk_create(links, batch_size=2000)
    if seq:
        ChainHead.objects.using(alias).filter(chain=0).update(seq=seq, hash=prev)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_chain"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunPython(heads_and_backfill, migrations.RunPython.noop),
        migrations.RunPython(db.create_triggers, db.drop_triggers),
    ]
