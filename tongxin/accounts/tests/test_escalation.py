"""The escalation of issue 12, step by step, and what stops each step: a system administrator
creates a county officer, signs in as it, enrols its own authenticator and reads the children's
files; or promotes a village director. None of it works any more."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tongxin.accounts import services
from tongxin.accounts.models import GrantState, RoleGrant, User
from tongxin.accounts.roles import Role
from tongxin.accounts.tests.support import sign_in
from tongxin.geo.models import Division
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

CREATE_URL = "/accounts/users/new/"
MINE = "Badain-Jaran-1618"


def test_the_system_administrator_cannot_make_itself_a_county_officer(actors: Actors) -> None:
    admin = web_client(actors.system_admin)
    # It cannot choose the password: the form has no such field, and one posted is ignored.
    response = admin.post(
        CREATE_URL,
        {
            "username": "puppet",
            "role": "county_admin",
            "division": "620724000000",
            "password": MINE,
        },
    )
    assert response.status_code == 200
    puppet = User.objects.get(username="puppet")
    assert not puppet.check_password(MINE)
    with pytest.raises(ValueError, match="password"):
        services.user_create(
            actor=actors.system_admin,
            username="puppet2",
            role=Role.COUNTY_ADMIN,
            division=Division.objects.get(code="620724000000"),
            password=MINE,
        )

    # It is shown no password for it: the account has none until a second person approves
    # the role, and that person receives the one-time password to hand over.
    assert response.context["password"] == ""
    assert not puppet.has_usable_password()
    assert sign_in(Client(), "puppet", MINE).status_code == 200
    assert puppet.role == ""
    assert RoleGrant.objects.get(user=puppet).state == GrantState.PENDING

    # Nor can it approve its own request.
    decide = reverse("accounts:grant_decide", args=[RoleGrant.objects.get(user=puppet).public_id])
    admin.post(decide, {"decision": "approve"})
    puppet.refresh_from_db()
    assert puppet.role == ""

    # Nor make a security administrator to approve it: that needs a second person as well.
    admin.post(
        CREATE_URL,
        {"username": "accomplice", "role": "security_admin", "division": "620724000000"},
    )
    assert User.objects.get(username="accomplice").role == ""


def test_the_system_administrator_cannot_promote_a_village_director(actors: Actors) -> None:
    director = actors.village_director
    admin = web_client(actors.system_admin)
    response = admin.post(
        reverse("accounts:user_detail", args=[director.public_id]),
        {"role": "county_admin", "division": "620724000000", "is_active": "on"},
    )
    assert response.status_code == 302
    director.refresh_from_db()
    assert (director.role, director.division_id) == (Role.VILLAGE_DIRECTOR, "620724100201")
    assert RoleGrant.objects.get(user=director).state == GrantState.PENDING

    # Had it reset the director's password first (it sees that one-time password), the
    # approval replaces it with one only the approver holds.
    known = admin.post(
        reverse("accounts:user_security", args=[director.public_id]), {"action": "reset_password"}
    ).context["password"]
    assert known
    web_client(actors.security_admin).post(
        reverse("accounts:grant_decide", args=[RoleGrant.objects.get(user=director).public_id]),
        {"decision": "approve"},
    )
    director.refresh_from_db()
    assert director.role == Role.COUNTY_ADMIN
    assert sign_in(Client(), "village_director", known).status_code == 200


def test_the_system_administrator_reads_no_childs_file_by_any_path(actors: Actors) -> None:
    child = make_family(actors)
    admin = web_client(actors.system_admin)
    code = child.public_id
    for url in (
        "/children/",
        reverse("registry:child_detail", args=[code]),
        "/reports/",
        "/visits/worklist/",
        "/audit/",
    ):
        assert admin.get(url).status_code == 404, url
    user = actors.system_admin
    assert not user.reads_child_files
    assert not user.reveals_id_numbers
    assert not user.reads_access_log
