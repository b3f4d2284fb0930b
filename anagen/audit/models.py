"""The audit chain: a hash link per audit entry, the head of each chain, and audited events.

Every :class:`auditlog.models.LogEntry` gets one :class:`ChainLink`, written in the same
transaction as the entry: ``hash = sha256(previous hash, chain, seq, the entry's content)``.
Writers are spread over :data:`anagen.audit.chain.CHAINS` chains; a writer locks its chain's
:class:`ChainHead` row, so concurrent writers on different chains never wait for each other and
writers on one chain take turns. ``anagen audit verify`` walks the chains (see ``docs/audit.md``).

:class:`AuditEvent` records what is not a row change (logins, grants, exports, code-breaks); it
is itself tracked, so each event is a LogEntry in the chain like any other write.
"""

from __future__ import annotations

from django.db import models


class ChainHead(models.Model):
    chain = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain {self.chain} at {self.seq}: {self.hash[:12]}"


class ChainLink(models.Model):
    # A plain integer, not a foreign key: a deleted entry must leave its link behind for verify.
    entry_id = models.BigIntegerField(unique=True)
    chain = models.PositiveSmallIntegerField()
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]

    def __str__(self) -> str:
        return f"chain {self.chain} #{self.seq} -> entry {self.entry_id}"


class EventKind(models.TextChoices):
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGOUT = "logout", "Logged out"
    CLINIC_GRANTED = "clinic_granted", "Clinic granted"
    CLINIC_REVOKED = "clinic_revoked", "Clinic revoked"
    ROLE_GRANTED = "role_granted", "Role granted"
    ROLE_REVOKED = "role_revoked", "Role revoked"
    PERMISSION_CHANGED = "permission_changed", "Permission changed"
    STAFF_DEACTIVATED = "staff_deactivated", "Staff deactivated"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    EXPORT = "export", "Export"
    CODE_BREAK = "code_break", "Code-break"


class AuditEvent(models.Model):
    """Something worth a line in the trail that is not a change to a clinical row."""

    kind = models.CharField(max_length=24, choices=EventKind.choices)
    # Who or what the event is about: "user:12", "patient:7", an e-mail for a failed login.
    subject = models.CharField(max_length=200, blank=True)
    clinic_id = models.IntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject}".strip()
