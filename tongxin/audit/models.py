"""The audit trail (审计日志): who saw or changed what, append-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

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
