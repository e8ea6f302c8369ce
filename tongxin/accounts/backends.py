"""Signing in with a password: Django's check, refusing a one-time password past its expiry."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from tongxin.accounts.credentials import one_time_password_expired


class AccountBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        """An active account, unless it holds a one-time password that has expired (the
        administrator gives a new one): that refuses the sign-in and ends a session begun with
        it."""
        return super().user_can_authenticate(user) and not one_time_password_expired(user)
