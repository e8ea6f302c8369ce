"""No password reaches the audit trail, whichever way it was typed or set."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent
from tongxin.testing import PASSWORD, Actors, web_client

SECRET = "Qilian-Snow-2718"
OTHER_SECRET = "Heihe-Bridge-3141"


def test_it_keeps_every_password_out_of_the_audit_trail(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = web_client(actors.county_admin)
    admin.post(
        "/accounts/users/new/",
        {
            "username": "sun_li",
            "role": "village_director",
            "division": "620724100202",
            "password": SECRET,
        },
    )
    generated = admin.post(
        "/accounts/users/new/",
        {"username": "zhou_yu", "role": "village_director", "division": "620724100202"},
    ).context["password"]
    created = User.objects.get(username="sun_li")
    created.set_password(OTHER_SECRET)
    created.save(update_fields=["password"])

    browser = Client()
    browser.post("/accounts/login/", {"username": "sun_li", "password": SECRET})  # old one
    browser.post("/accounts/login/", {"username": SECRET, "password": SECRET})  # name field
    browser.post("/accounts/login/", {"username": "sun_li", "password": OTHER_SECRET})
    api = APIClient()
    api.post("/api/v1/auth/token", {"username": "zhou_yu", "password": SECRET}, format="json")
    api.post("/api/v1/auth/token", {"username": SECRET, "password": PASSWORD}, format="json")
    api.post("/api/v1/auth/token", {"username": "zhou_yu", "password": generated}, format="json")

    monkeypatch.setattr(sys, "stdin", io.StringIO("Badain-Jaran-1618\n"))
    call_command(
        "createuser", "wu_di", "--role", "auditor", "--division", "620724000000",
        "--password-stdin", stdout=io.StringIO(),
    )  # fmt: skip

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "user.create",
        "auth.login",
        "auth.login_failed",
    } <= actions
    for row in AuditEvent.objects.values():
        text = repr(row)
        for secret in (SECRET, OTHER_SECRET, generated, PASSWORD, "Badain-Jaran-1618"):
            assert secret not in text, row
