"""The audit trail (审计日志): who saw or changed what, append-only and hash-chained."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongxin.audit.chain import GENESIS, HASHED_FIELDS, as_stored, canonical_ip, entry_hash

if TYPE_CHECKING:
    from tongxin.accounts.models import User


class AppendOnlyError(Exception):
    """An audit row was about to be changed or removed."""


class Result(models.TextChoices):
    OK = "ok", _("Succeeded")
    FAILED = "failed", _("Failed")
    DENIED = "denied", _("Denied")
    LOCKED = "locked", _("Locked out")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def visible_to(self, user: User) -> AuditEventQuerySet:
        """Audit readers see events inside their division, and the events tied to no division
        (failed sign-ins under unknown names), which carry no personal data."""
        if not user.is_authenticated or not user.reads_audit:
            return self.none()
        # The user's scope prefix as ``geo.scope`` reads it; audit sits below geo.
        prefix = user.scope_prefix if user.is_active else None
        if prefix is None:
            return self.filter(models.Q(pk__in=[]))
        return self.filter(models.Q(division_code__startswith=prefix) | models.Q(division_code=""))

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be updated")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        # Refused before Django opens its transaction, so the caller's transaction survives.
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        # Each entry joins the hash chain in ``save``; a bulk insert would bypass it.
        raise AppendOnlyError("audit events are written one at a time (audit_record)")


class AuditEvent(models.Model):
    """One audited act (审计事件): a sign-in, a read of a child's file, a change. It names the
    object by type and public code, never by the personal values it holds."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    # Copied at the time: a later rename or role change does not rewrite history.
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    actor_role = models.CharField(_("role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=50, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_code = models.CharField(_("object code"), max_length=64, blank=True, db_index=True)
    division_code = models.CharField(_("division"), max_length=12, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.OK)
    # Names of fields changed, reasons, counts: never the personal values themselves.
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # The hash chain (tongxin/audit/chain.py, decision 016): the entry's number, without gaps,
    # the hash of the entry before it, and its own, over the columns above and its number.
    seq = models.BigIntegerField(_("entry number"), unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["division_code", "at"]),
            models.Index(fields=["actor", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Add the entry at the end of the chain. The chain's head is locked first (FOR UPDATE
        on PostgreSQL; SQLite's transactions take the write lock at BEGIN), and stays locked
        until the caller's transaction ends, so entries written at once by the web workers and
        the task worker join the chain one after another, never both after the same entry."""
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # savepoint=False: inside the caller's transaction this adds no SAVEPOINT statements;
        # on its own it is one transaction.
        with transaction.atomic(using=using, savepoint=False):
            head = AuditChainHead.locked(using)
            self.ip = canonical_ip(self.ip)
            self.detail = as_stored(self.detail)
            self.seq = head.seq + 1
            self.prev_hash = head.hash
            self.hash = entry_hash(self.prev_hash, self.chain_fields())
            super().save(*args, **kwargs)
            AuditChainHead.objects.using(using).filter(pk=head.pk).update(
                seq=self.seq, hash=self.hash
            )

    def chain_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")

    @property
    def action_label(self) -> str:
        from tongxin.audit.labels import action_label

        return action_label(self.action)

    @property
    def object_label(self) -> str:
        from tongxin.audit.labels import object_label

        return object_label(self.object_type)


class AuditChainHead(models.Model):
    """The end of the audit trail's hash chain (审计链头): the last entry's number and hash, in
    one row. It is not the evidence (the entries are); it is what every new entry locks, reads
    and moves on, so that concurrent writers line up."""

    ONE = 1

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"{self.seq} {self.hash[:12]}"

    @classmethod
    def locked(cls, using: str) -> AuditChainHead:
        """The head, locked until the transaction ends. Made from the last entry if its row is
        missing (the migration writes it; only a hand at the database removes it)."""
        head = cls.objects.using(using).select_for_update().filter(pk=cls.ONE).first()
        if head is None:
            last = AuditEvent.objects.using(using).order_by("-seq").first()
            head = cls.objects.using(using).create(
                pk=cls.ONE,
                seq=last.seq if last else 0,
                hash=last.hash if last else GENESIS,
            )
        return head
