"""The security administrator: resets a second factor (the person enrols a new one; nobody else
ever sees or enrols it), unlocks an account, revokes tokens; reads no child's data and changes
no account's role."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongxin.accounts import credentials
from tongxin.accounts.tests.support import code_for, sign_in
from tongxin.audit.models import AuditEvent
from tongxin.testing import Actors, signed_in, web_client

WRONG = "Wrong-Password-7"


def test_it_reads_no_child_data_and_manages_no_account(actors: Actors) -> None:
    admin = actors.security_admin
    assert admin.keeps_security
    assert admin.reads_accounts
    assert admin.approves_grants
    assert not admin.reads_child_files
    assert not admin.keeps_child_files
    assert not admin.reveals_id_numbers
    assert not admin.reads_audit
    assert not admin.manages_users
    assert admin.needs_second_factor


def test_it_resets_a_second_factor_that_the_person_enrols_again(actors: Actors) -> None:
    officer = actors.county_admin
    old = TOTPDevice.objects.get(user=officer)
    url = reverse("accounts:user_security", args=[officer.public_id])
    response = web_client(actors.security_admin).post(url, {"action": "reset_second_factor"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=officer).exists()
    event = AuditEvent.objects.get(action="auth.second_factor_reset")
    assert (event.actor, event.object_code) == (actors.security_admin, str(officer.public_id))

    # The person signs in and enrols a new authenticator; the old one opens nothing.
    person = Client()
    assert sign_in(person, "county_admin")["Location"] == "/accounts/2fa/"
    enrolment = person.get("/accounts/2fa/")
    assert enrolment.context["enrolling"] is True
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert device.bin_key != old.bin_key
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")

    # Neither administrator sees it, on any page they reach for the account.
    detail = reverse("accounts:user_detail", args=[officer.public_id])
    for admin in (actors.security_admin, actors.system_admin):
        html = web_client(admin).get(detail).content.decode()
        assert secret not in html
        assert "data:image/svg+xml" not in html
        # The enrolment page is the signed-in person's own: an administrator gets their own.
        assert secret not in web_client(admin).get("/accounts/2fa/", follow=True).content.decode()

    person.post("/accounts/2fa/", {"token": code_for(device)})
    assert signed_in(person)


def test_no_one_resets_their_own_second_factor(actors: Actors) -> None:
    with pytest.raises(ValidationError):
        credentials.second_factor_reset(actor=actors.security_admin, user=actors.security_admin)
    assert TOTPDevice.objects.filter(user=actors.security_admin).exists()


@pytest.mark.parametrize("key", ["system_admin", "county_admin", "auditor"])
def test_other_roles_reset_no_second_factor(actors: Actors, key: str) -> None:
    with pytest.raises(PermissionDenied):
        credentials.second_factor_reset(actor=getattr(actors, key), user=actors.village_director)


def test_a_security_administrator_gives_no_one_time_password(actors: Actors) -> None:
    # Resetting a password and a second factor are two people's jobs: one person doing both
    # could enter another's account.
    with pytest.raises(PermissionDenied):
        credentials.password_reset(actor=actors.security_admin, user=actors.county_admin)


def test_it_unlocks_an_account(actors: Actors) -> None:
    for _ in range(5):
        sign_in(Client(), "village_director", WRONG)
    assert sign_in(Client(), "village_director").status_code == 429
    detail = reverse("accounts:user_detail", args=[actors.village_director.public_id])
    admin = web_client(actors.security_admin)
    assert admin.get(detail).context["locked"] is True
    response = admin.post(
        reverse("accounts:user_security", args=[actors.village_director.public_id]),
        {"action": "unlock"},
    )
    assert response.status_code == 302
    assert admin.get(detail).context["locked"] is False
    assert sign_in(Client(), "village_director")["Location"] == "/"
    event = AuditEvent.objects.get(action="auth.unlock")
    assert event.actor == actors.security_admin
    assert event.detail["attempts"] >= 1


def test_it_answers_400_to_an_unknown_action(actors: Actors) -> None:
    url = reverse("accounts:user_security", args=[actors.village_director.public_id])
    for data in ({}, {"action": "make_me_county_admin"}, {"action": "\x00"}):
        assert web_client(actors.security_admin).post(url, data).status_code == 400


def test_it_reads_accounts_but_changes_none(actors: Actors) -> None:
    client = web_client(actors.security_admin)
    listing = client.get(reverse("accounts:user_list"))
    assert listing.status_code == 200
    assert "village_director" in {u.username for u in listing.context["page"]}
    detail = reverse("accounts:user_detail", args=[actors.village_director.public_id])
    assert client.get(detail).context["form"] is None
    response = client.post(detail, {"role": "county_admin", "division": "620724000000"})
    assert response.status_code == 403
    assert client.get(reverse("accounts:user_create")).status_code == 404
