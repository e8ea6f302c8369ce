"""The in-app notification centre (通知), used by every app: writing a notification once per
key, reading a user's own, marking them read, and sending the ones not yet e-mailed. What a
notification says and links to is the caller's: this module knows no domain app.

A notification belongs to its recipient alone: every read here filters on the recipient, so a
key that is not yours answers exactly as one that is not there. ``notify`` is idempotent on
``(recipient, key)``: ``manage.py remind`` run twice on a day writes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.core.logging import exception_summary
from tongxin.notices.models import Notification

logger = logging.getLogger(__name__)


def notify(
    *, recipient: User, kind: str, title: str, body: str = "", url: str = "", key: str
) -> tuple[Notification, bool]:
    """Write the notification unless ``recipient`` already has one with ``key``; returns it and
    whether it was written now. Two runs racing on one key write it once (the unique
    constraint decides, the loser reads the winner's row)."""
    existing = Notification.objects.filter(recipient=recipient, key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            created = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                title=title[:200],
                body=body,
                url=url[:300],
                key=key[:200],
            )
    except IntegrityError:
        return Notification.objects.get(recipient=recipient, key=key[:200]), False
    return created, True


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notifications: unread first, newest first within each."""
    return Notification.objects.filter(recipient=user).order_by(
        Case(
            When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        "-created_at",
        "-pk",
    )


def unread_count(user: User) -> int:
    """One indexed COUNT (recipient, read_at)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, user: User, key: str | None = None) -> int:
    """Mark the user's notification with ``key`` read, or all of them when ``key`` is None;
    returns how many changed (0 for a key that is not the user's)."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if key is not None:
        unread = unread.filter(key=key)
    return unread.update(read_at=timezone.now())


@dataclass(frozen=True)
class Mailed:
    sent: int
    failed: int


def email_pending(notifications: Iterable[Notification]) -> Mailed:
    """E-mail each recipient (with an address) the given notifications not yet e-mailed, one
    message per recipient, through the default mailer (settings.MAILERS). A message that
    fails stays pending (``emailed_at`` empty) so the next run sends it."""
    by_recipient: dict[int, list[Notification]] = {}
    recipients: dict[int, User] = {}
    for n in notifications:
        if n.emailed_at is None and n.recipient.email and n.recipient.is_active:
            by_recipient.setdefault(n.recipient_id, []).append(n)
            recipients[n.recipient_id] = n.recipient
    sent = failed = 0
    for user_id, items in by_recipient.items():
        user = recipients[user_id]
        subject = (
            items[0].title
            if len(items) == 1
            else _("Tongxin: %(n)d new notifications") % {"n": len(items)}
        )
        body = "\n\n".join(f"{n.title}\n{n.body}".strip() for n in items)
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        try:
            message.send()
        except Exception as exc:
            # The type and where, never the text: an SMTP refusal quotes the address.
            logger.error(
                "notification e-mail to user %s failed: %s", user_id, exception_summary(exc)
            )
            failed += 1
            continue
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=timezone.now())
        sent += 1
    return Mailed(sent, failed)
