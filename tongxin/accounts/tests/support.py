"""Helpers for the sign-in tests: TOTP codes as an authenticator app would show them."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongxin.testing import PASSWORD


def code_for(device: TOTPDevice, *, steps: int = 0) -> str:
    """The code the device's authenticator app shows now (``steps`` time steps off)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps)
    return f"{value:0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    """Six digits the device accepts at no time step near now."""
    near = {code_for(device, steps=s) for s in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 1000000, 7919)) if c not in near)


def sign_in(client: Client, username: str, password: str = PASSWORD, **data: str) -> Any:
    """Post the real sign-in form."""
    return client.post(reverse("login"), {"username": username, "password": password, **data})
