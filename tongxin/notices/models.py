"""The notification centre's one model. It lived in the visits app until issue 11: its table
was renamed from ``visits_notification`` and its rows kept (visits migration 0005, notices
0001)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """An in-app notification (通知). ``key`` makes a daily digest or an escalation idempotent:
    running ``remind`` twice on a day writes nothing the second time."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title
