"""What an account signs in with, and who may reset it: one-time passwords (created or reset by
someone else), the person's own password, the second factor, lockouts and API tokens.

Separation of duties (decision 015): a user administrator gives a one-time password, a security
administrator resets a second factor, unlocks an account and revokes tokens; neither ever sees
or enrols another person's authenticator, and the password an administrator hands over works
for one sign-in, which leads straight to the person setting their own. Each write records its
audit entry in the same transaction."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from knox.settings import knox_settings

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object
from tongxin.geo.scope import in_scope

# How a token is named on a page, in a form and in the audit trail: the start of its digest (a
# hash: nothing of the token itself).
TOKEN_REF_LENGTH = 16


def generate_password(length: int = 14) -> str:
    """A random password that passes the validators (four character classes)."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw)
            and any(not c.isalnum() for c in pw)
        ):
            return pw


def make_one_time(user: User) -> datetime:
    """Mark the password just set on ``user`` as one-time: it works until the returned moment
    (settings.TONGXIN_ONE_TIME_PASSWORD_HOURS), and only to set the person's own. No save."""
    expires = timezone.now() + timedelta(hours=settings.TONGXIN_ONE_TIME_PASSWORD_HOURS)
    user.must_change_password = True
    user.one_time_password_expires_at = expires
    return expires


def one_time_password_expired(user: User) -> bool:
    expires = user.one_time_password_expires_at
    return user.must_change_password and expires is not None and expires <= timezone.now()


def tokens_end(user: User) -> int:
    """End every API token of ``user`` (a changed password, a disabled account, a new role):
    how many there were. The caller audits."""
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    return int(deleted)


@dataclass(frozen=True)
class OneTimePassword:
    user: User
    password: str
    expires_at: datetime


def _check_keeper(actor: User, user: User, *, security: bool) -> None:
    """Refuse (403) an actor who may not do this to ``user``: a user administrator (or, with
    ``security``, a security administrator) whose division holds the account's. The views
    fetch the account through ``User.objects.visible_to``; this guards every other caller."""
    may = actor.keeps_security if security else actor.manages_users and not actor.is_read_only
    if not may or not in_scope(actor, user.division_id or ""):
        raise PermissionDenied


@transaction.atomic
def password_reset(
    *, actor: User, user: User, request: HttpRequest | None = None
) -> OneTimePassword:
    """Give ``user`` a new one-time password, generated here and shown once to the
    administrator to hand over. Every API token of the account ends; its sessions end with the
    old password."""
    _check_keeper(actor, user, security=False)
    if user.pk == actor.pk:
        raise ValidationError(_("Change your own password on your account page."))
    password = generate_password()
    user.set_password(password)
    expires = make_one_time(user)
    user.save(update_fields=["password", "must_change_password", "one_time_password_expires_at"])
    ended = tokens_end(user)
    audit_object(actor, "user.password_reset", user, request=request, detail={"tokens": ended})
    return OneTimePassword(user=user, password=password, expires_at=expires)


@transaction.atomic
def password_set(*, user: User, password: str, request: HttpRequest | None = None) -> None:
    """The person sets their own password (the first time, in place of a one-time one). Every
    API token of the account ends, and every other session (Django's session hash)."""
    if user.check_password(password):
        raise ValidationError(
            {"new_password1": [_("Choose a password other than the one you have now.")]}
        )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    one_time = user.must_change_password
    user.set_password(password)
    user.must_change_password = False
    user.one_time_password_expires_at = None
    user.save(update_fields=["password", "must_change_password", "one_time_password_expires_at"])
    ended = tokens_end(user)
    audit_object(
        user,
        "user.password_change",
        user,
        request=request,
        detail={"one_time": one_time, "tokens": ended},
    )


def has_second_factor(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def identity_confirmed(user: User, secret: str) -> bool:
    """Whether ``secret`` proves, once more, that the signed-in person is at the keyboard before
    a sensitive act (an export of full ID numbers): the code from their authenticator app when
    they have one (django-otp throttles wrong codes), else their password. The caller audits
    a failure."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        return bool(device.verify_token(secret.strip()))
    return bool(secret) and user.check_password(secret)


@transaction.atomic
def second_factor_reset(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    """Remove the account's authenticator: the person enrols a new one at their next sign-in
    (a lost phone). Nobody else ever sees or enrols it. Its API tokens end."""
    _check_keeper(actor, user, security=True)
    if user.pk == actor.pk:
        raise ValidationError(_("Another security administrator resets your own second factor."))
    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    ended = tokens_end(user)
    audit_object(
        actor,
        "auth.second_factor_reset",
        user,
        request=request,
        detail={"devices": removed, "tokens": ended},
    )


def account_locked(request: HttpRequest, user: User) -> bool:
    """Whether sign-in under the account's name is locked (too many failures)."""
    return not AxesProxyHandler.is_allowed(request, {"username": user.username})


@transaction.atomic
def account_unlock(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    """Clear the failed sign-ins that lock the account's name."""
    _check_keeper(actor, user, security=True)
    cleared = axes_reset(username=user.username)
    audit_object(actor, "auth.unlock", user, request=request, detail={"attempts": cleared})


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRow:
    """One API token as its owner (or a security administrator) sees it. ``last_used``: the
    last request it carried, to within a minute (knox renews a token's expiry on use, at most
    once a minute); None when it carried none since it was made."""

    ref: str
    created: datetime
    expiry: datetime | None
    last_used: datetime | None


def token_ref(token: AuthToken) -> str:
    return str(token.digest)[:TOKEN_REF_LENGTH]


def token_rows(user: User) -> list[TokenRow]:
    """The account's tokens still in force, newest first."""
    ttl = knox_settings.TOKEN_TTL
    rows = []
    now = timezone.now()
    tokens = AuthToken.objects.filter(user=user).order_by("-created", "digest")
    for token in tokens:
        if token.expiry is not None and token.expiry <= now:
            continue
        renewed = token.expiry - ttl if token.expiry is not None and ttl else None
        last_used = renewed if renewed is not None and renewed > token.created else None
        rows.append(TokenRow(token_ref(token), token.created, token.expiry, last_used))
    return rows


def token_limit_reached(user: User) -> bool:
    """Whether the account holds as many tokens in force as it may (REST_KNOX's
    TOKEN_LIMIT_PER_USER). Expired ones are removed first, as knox does on use."""
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is None:
        return False
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    return bool(AuthToken.objects.filter(user=user).count() >= limit)


@transaction.atomic
def token_revoke(
    *,
    actor: User,
    user: User,
    ref: str | None,
    request: HttpRequest | None = None,
    channel: str = "web",
) -> int:
    """Revoke one of ``user``'s tokens (named by its ``ref``), or every one (``ref`` None):
    the owner's own, or a security administrator's for an account inside their division.
    How many ended (0: no such token)."""
    if actor.pk != user.pk:
        _check_keeper(actor, user, security=True)
    if ref is not None and len(ref) != TOKEN_REF_LENGTH:
        return 0  # a shorter start would name several tokens, an empty one all of them
    tokens = AuthToken.objects.filter(user=user)
    if ref is not None:
        tokens = tokens.filter(digest__startswith=ref)
    ended, _by_model = tokens.delete()
    if ended:
        audit_object(
            actor,
            "auth.token_revoke",
            user,
            request=request,
            detail={"channel": channel, "token": ref or "all", "tokens": ended},
        )
    return int(ended)
