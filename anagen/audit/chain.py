"""Hash-chaining the audit trail, and checking it.

- :func:`link_entry` is called for each new LogEntry, inside the transaction that writes it.
- :func:`verify` walks every chain and returns the problems it finds, first one per chain first.
- :func:`heads` / :func:`export_head` give the chains' current heads; a head exported earlier
  and kept elsewhere (``verify(against=...)``) shows a rewrite of a whole chain.

Pure hashing; the only Django in here is reading and writing the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

CHAINS = 8
GENESIS = "0" * 64


def entry_fields():
    from auditlog.models import LogEntry

    return [f.attname for f in LogEntry._meta.concrete_fields]


def _plain(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def canonical(row: dict) -> bytes:
    """One byte string for an entry's stored values, the same whichever database returns them."""
    return json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True, default=str,
                      separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev: str, chain: int, seq: int, row: dict) -> str:
    h = hashlib.sha256()
    h.update(f"{prev}|{chain}|{seq}|".encode())
    h.update(canonical(row))
    return h.hexdigest()


def _chain_for_this_writer() -> int:
    """A writer (process and thread) keeps to one chain, so a transaction locks one head only
    and two transactions can never wait on each other's heads."""
    key = f"{os.getpid()}:{threading.get_ident()}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big") % CHAINS


def lock_head(using: str = "default"):
    """Lock this writer's chain head until the transaction ends (call inside it, before the
    entry is inserted, so entry ids grow with the chain's sequence)."""
    from .models import ChainHead

    chain = _chain_for_this_writer()
    head = ChainHead.objects.using(using).select_for_update().filter(chain=chain).first()
    if head is None:
        ChainHead.objects.using(using).get_or_create(chain=chain)
        head = ChainHead.objects.using(using).select_for_update().get(chain=chain)
    return head


def link_entry(entry_id: int, using: str = "default", head=None) -> None:
    """Append the entry to this writer's chain (inside the entry's transaction, head locked)."""
    from auditlog.models import LogEntry

    from .models import ChainHead, ChainLink

    with transaction.atomic(using=using, savepoint=False):
        if head is None:
            head = lock_head(using)
        row = LogEntry.objects.using(using).filter(pk=entry_id).values(*entry_fields()).get()
        seq = head.seq + 1
        digest = link_hash(head.hash, head.chain, seq, row)
        ChainLink.objects.using(using).create(entry_id=entry_id, chain=head.chain, seq=seq, hash=digest)
        ChainHead.objects.using(using).filter(chain=head.chain).update(seq=seq, hash=digest)
        head.seq, head.hash = seq, digest


@dataclass(frozen=True)
class Problem:
    chain: int | None
    seq: int | None
    entry_id: int | None
    kind: str  # edited, deleted, inserted, reordered, truncated, rewritten
    message: str

    def __str__(self) -> str:
        return self.message


def heads(using: str = "default") -> dict[int, dict]:
    from .models import ChainHead

    return {h.chain: {"seq": h.seq, "hash": h.hash} for h in ChainHead.objects.using(using).order_by("chain")}


def export_head(path: str | os.PathLike | None = None, using: str = "default") -> dict:
    """The chains' heads now, as a dict; written as JSON to ``path`` when given.

    Keep these files somewhere the database's administrators cannot write (a periodic job
    mails or uploads them): ``anagen audit verify --against FILE`` then shows whether the
    chains still extend what the file recorded.
    """
    from django.utils import timezone

    data = {"exported_at": timezone.now().isoformat(), "chains": {str(k): v for k, v in heads(using).items()}}
    if path is not None:
        Path(path).write_text(json.dumps(data, indent=2) + "\n")
    return data


def verify(against: dict | None = None, using: str = "default", limit: int = 50) -> list[Problem]:
    """Walk every chain; return the problems found (empty when the trail is intact).

    Reported per chain: the first entry whose content no longer matches its hash (edited), a
    gap in the sequence (deleted), an entry out of order (reordered), entries with no link
    (inserted), a chain shorter than its head (truncated), and, with ``against`` (an exported
    head), a chain whose link at the exported position no longer has the exported hash
    (rewritten).
    """
    from auditlog.models import LogEntry

    from .models import ChainHead, ChainLink

    problems: list[Problem] = []
    fields = entry_fields()
    head_rows = {h.chain: h for h in ChainHead.objects.using(using).all()}
    hashes_at: dict[tuple[int, int], str] = {}
    linked: set[int] = set()
    chains = sorted(set(head_rows) | set(ChainLink.objects.using(using).values_list("chain", flat=True).distinct()))
    for chain in chains:
        prev, expect_seq, last_entry = GENESIS, 1, 0
        broken = False
        for link, row in _links_with_rows(chain, fields, using):
            linked.add(link.entry_id)
            hashes_at[(chain, link.seq)] = link.hash
            if broken:
                continue
            if link.seq != expect_seq:
                problems.append(Problem(chain, expect_seq, None, "deleted",
                                        f"chain {chain}: entries {expect_seq}..{link.seq - 1} are missing (deleted); "
                                        f"the chain resumes at entry {link.entry_id}"))
                broken = True
                continue
            if row is None:
                problems.append(Problem(chain, link.seq, link.entry_id, "deleted",
                                        f"chain {chain} #{link.seq}: audit entry {link.entry_id} was deleted"))
                broken = True
                continue
            if link.entry_id < last_entry:
                problems.append(Problem(chain, link.seq, link.entry_id, "reordered",
                                        f"chain {chain} #{link.seq}: audit entry {link.entry_id} comes after "
                                        f"entry {last_entry} (reordered)"))
                broken = True
                continue
            if link_hash(prev, chain, link.seq, row) != link.hash:
                problems.append(Problem(chain, link.seq, link.entry_id, "edited",
                                        f"chain {chain} #{link.seq}: audit entry {link.entry_id} was edited, "
                                        "or an entry before it in the chain was"))
                broken = True
                continue
            prev, expect_seq, last_entry = link.hash, expect_seq + 1, link.entry_id
        head = head_rows.get(chain)
        if not broken and head is not None and (head.seq != expect_seq - 1 or head.hash != prev):
            problems.append(Problem(chain, expect_seq, None, "truncated",
                                    f"chain {chain}: the head records {head.seq} entries, the chain holds "
                                    f"{expect_seq - 1} (truncated)"))
    unlinked = []
    for pk in LogEntry.objects.using(using).order_by("pk").values_list("pk", flat=True).iterator(chunk_size=5000):
        if pk not in linked:
            unlinked.append(pk)
            if len(unlinked) >= limit:
                break
    for pk in unlinked:
        problems.append(Problem(None, None, pk, "inserted",
                                f"audit entry {pk} is in no chain (inserted outside the application)"))
    if against:
        for key, saved in (against.get("chains") or {}).items():
            chain, seq = int(key), int(saved["seq"])
            if seq == 0:
                continue
            now = hashes_at.get((chain, seq))
            if now != saved["hash"]:
                problems.append(Problem(chain, seq, None, "rewritten",
                                        f"chain {chain}: entry #{seq} no longer has the hash exported on "
                                        f"{against.get('exported_at', '?')} (the chain was rewritten or cut)"))
    return problems


def _links_with_rows(chain: int, fields: list[str], using: str, chunk: int = 1000):
    """The chain's links in order, each with its entry's stored values (None when gone)."""
    from auditlog.models import LogEntry

    from .models import ChainLink

    after = 0
    while True:
        links = list(ChainLink.objects.using(using).filter(chain=chain, seq__gt=after).order_by("seq")[:chunk])
        if not links:
            return
        rows = {r["id"]: r for r in LogEntry.objects.using(using).filter(pk__in=[l.entry_id for l in links]).values(*fields)}
        for link in links:
            yield link, rows.get(link.entry_id)
        after = links[-1].seq
