"""A role that reads the whole county (county officer, auditor) or guards sign-in (security
administrator) is asked for by one administrator and in force only once a second person of an
allowed role approves it: never the requester, never the account itself. Every step audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from tongxin.accounts import grants, services
from tongxin.accounts.models import GrantState, RoleGrant, User
from tongxin.accounts.roles import SECOND_PERSON_ROLES, Role
from tongxin.accounts.tests.support import sign_in
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.registry.models import Child
from tongxin.testing import Actors, web_client

COUNTY = "620724000000"


def _county() -> Division:
    return Division.objects.get(code=COUNTY)


def _ask_county_officer(actor: User, username: str = "wang_fang") -> services.CreatedUser:
    return services.user_create(
        actor=actor, username=username, role=Role.COUNTY_ADMIN, division=_county(), name="王芳"
    )


def _decide(actor: User, grant: RoleGrant, decision: str) -> tuple[int, list[str]]:
    client = web_client(actor)
    response = client.post(
        reverse("accounts:grant_decide", args=[grant.public_id]),
        {"decision": decision},
        follow=True,
        headers={"accept-language": "en"},
    )
    return response.status_code, [str(m) for m in response.context["messages"]]


def test_the_roles_that_need_a_second_person() -> None:
    assert {Role.COUNTY_ADMIN, Role.AUDITOR, Role.SECURITY_ADMIN} == SECOND_PERSON_ROLES


@pytest.mark.parametrize("role", sorted(SECOND_PERSON_ROLES))
def test_a_new_account_of_such_a_role_has_no_role_until_approved(actors: Actors, role: str) -> None:
    created = services.user_create(
        actor=actors.system_admin, username="wang_fang", role=role, division=_county()
    )
    user = created.user
    assert user.role == ""
    # No way in for anyone until the second person hands over a one-time password.
    assert created.password == ""
    assert not user.has_usable_password()
    assert created.grant is not None
    assert (created.grant.role, created.grant.state) == (role, GrantState.PENDING)
    assert created.grant.requested_by == actors.system_admin
    assert not user.reads_child_files
    assert not user.reads_audit
    assert not user.keeps_security
    request = AuditEvent.objects.get(action="role_grant.request")
    assert request.actor == actors.system_admin
    assert request.detail["role"] == role
    assert AuditEvent.objects.get(action="user.create").detail == {
        "role": "",
        "requested_role": role,
    }


def test_a_role_without_county_reach_is_in_force_at_once(actors: Actors) -> None:
    created = services.user_create(
        actor=actors.system_admin,
        username="li_ming",
        role=Role.VILLAGE_DIRECTOR,
        division=Division.objects.get(code="620724100202"),
    )
    assert created.user.role == Role.VILLAGE_DIRECTOR
    assert created.grant is None


def test_a_promotion_keeps_the_old_role_until_approved(actors: Actors) -> None:
    director = actors.village_director
    services.user_update(
        actor=actors.system_admin, user=director, role=Role.COUNTY_ADMIN, division=_county()
    )
    director.refresh_from_db()
    assert (director.role, director.division_id) == (Role.VILLAGE_DIRECTOR, "620724100201")
    grant = RoleGrant.objects.get(user=director)
    assert (grant.role, grant.division_id, grant.state) == (
        Role.COUNTY_ADMIN,
        COUNTY,
        GrantState.PENDING,
    )
    assert not AuditEvent.objects.filter(action="user.role_change").exists()
    # Still a village director's scope.
    assert not Child.objects.visible_to(director).exclude(village_id="620724100201").exists()


def test_a_security_administrator_approves_and_the_role_is_in_force(actors: Actors) -> None:
    director = actors.village_director
    phone = AuthToken.objects.create(director)
    services.user_update(
        actor=actors.system_admin, user=director, role=Role.COUNTY_ADMIN, division=_county()
    )
    grant = RoleGrant.objects.get(user=director)
    page = web_client(actors.security_admin).post(
        reverse("accounts:grant_decide", args=[grant.public_id]),
        {"decision": "approve"},
        headers={"accept-language": "en"},
    )
    assert page.status_code == 200
    assert [str(m) for m in page.context["messages"]] == ["Approved: the role is in force."]
    director.refresh_from_db()
    assert (director.role, director.division_id) == (Role.COUNTY_ADMIN, COUNTY)
    grant.refresh_from_db()
    assert (grant.state, grant.decided_by) == (GrantState.APPROVED, actors.security_admin)
    # A token issued without a second factor does not carry the new role.
    assert not AuthToken.objects.filter(pk=phone[0].pk).exists()
    approve = AuditEvent.objects.get(action="role_grant.approve")
    assert approve.actor == actors.security_admin
    assert approve.detail["requested_by"] == str(actors.system_admin.public_id)
    change = AuditEvent.objects.get(action="user.role_change")
    assert (change.detail["old_role"], change.detail["new_role"]) == (
        Role.VILLAGE_DIRECTOR,
        Role.COUNTY_ADMIN,
    )
    # The approver hands over a new one-time password: the old one (which whoever asked
    # might know) opens nothing; the person sets their own, then enrols an authenticator.
    given = page.context["password"]
    assert director.check_password(given)
    assert director.must_change_password
    assert sign_in(Client(), "village_director").status_code == 200
    session = Client()
    assert sign_in(session, "village_director", given)["Location"] == "/accounts/password/"
    mine = "Qilian-Snow-2718"
    session.post("/accounts/password/", {"new_password1": mine, "new_password2": mine})
    assert session.get("/")["Location"] == "/accounts/2fa/"
    assert session.get("/accounts/2fa/").context["enrolling"] is True


def test_another_county_officer_approves_too(actors: Actors) -> None:
    grant = _ask_county_officer(actors.system_admin).grant
    assert grant is not None
    assert _decide(actors.county_admin, grant, "approve")[0] == 200
    assert User.objects.get(username="wang_fang").role == Role.COUNTY_ADMIN


def test_the_requester_never_approves_their_own_request(actors: Actors) -> None:
    grant = _ask_county_officer(actors.county_admin).grant
    assert grant is not None
    _status, said = _decide(actors.county_admin, grant, "approve")
    assert said == ["A second person approves this request: you made it."]
    grant.refresh_from_db()
    assert grant.state == GrantState.PENDING
    assert User.objects.get(username="wang_fang").role == ""
    assert not AuditEvent.objects.filter(action="role_grant.approve").exists()
    # Nor does the database let it through, whatever calls it.
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.filter(pk=grant.pk).update(
            state=GrantState.APPROVED, decided_by=actors.county_admin
        )


def test_no_one_approves_a_role_for_themselves(actors: Actors) -> None:
    # A county officer asked to become the county's security administrator.
    services.user_update(
        actor=actors.system_admin, user=actors.county_admin, role=Role.SECURITY_ADMIN
    )
    grant = RoleGrant.objects.get(user=actors.county_admin)
    with pytest.raises(ValidationError):
        grants.grant_approve(actor=actors.county_admin, grant=grant)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.filter(pk=grant.pk).update(
            state=GrantState.APPROVED, decided_by=actors.county_admin
        )


@pytest.mark.parametrize("key", ["system_admin", "auditor", "village_director"])
def test_roles_that_do_not_approve_cannot(actors: Actors, key: str) -> None:
    grant = _ask_county_officer(actors.county_admin).grant
    assert grant is not None
    with pytest.raises(PermissionDenied):
        grants.grant_approve(actor=getattr(actors, key), grant=grant)
    assert User.objects.get(username="wang_fang").role == ""


def test_an_approver_of_another_county_gets_404(actors: Actors) -> None:
    grant = _ask_county_officer(actors.system_admin).grant
    assert grant is not None
    url = reverse("accounts:grant_decide", args=[grant.public_id])
    response = web_client(actors.other_county_admin).post(url, {"decision": "approve"})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        grants.grant_approve(actor=actors.other_county_admin, grant=grant)


def test_an_approver_rejects_and_the_requester_withdraws(actors: Actors) -> None:
    first = _ask_county_officer(actors.system_admin).grant
    second = _ask_county_officer(actors.system_admin, "zhao_lei").grant
    assert first is not None
    assert second is not None
    assert _decide(actors.security_admin, first, "reject")[1] == [
        "Done: the account keeps the role it had."
    ]
    assert _decide(actors.system_admin, second, "withdraw")[0] == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.decided_by) == (GrantState.REJECTED, actors.security_admin)
    assert (second.state, second.decided_by) == (GrantState.WITHDRAWN, actors.system_admin)
    assert set(
        User.objects.filter(username__in=["wang_fang", "zhao_lei"]).values_list("role", flat=True)
    ) == {""}
    actions = list(
        AuditEvent.objects.filter(action__startswith="role_grant.").values_list(
            "action", "actor__username"
        )
    )
    assert ("role_grant.reject", "security_admin") in actions
    assert ("role_grant.withdraw", "system_admin") in actions
    # Decided once: a second decision changes nothing.
    assert _decide(actors.county_admin, first, "approve")[1] == [
        "This request has been decided already."
    ]
    # Only its requester withdraws a request.
    third = _ask_county_officer(actors.system_admin, "sun_li").grant
    assert third is not None
    with pytest.raises(PermissionDenied):
        grants.grant_reject(actor=actors.county_admin, grant=third, decision="withdraw")


def test_a_role_change_waits_while_a_request_is_pending(actors: Actors) -> None:
    director = actors.village_director
    services.user_update(
        actor=actors.system_admin, user=director, role=Role.COUNTY_ADMIN, division=_county()
    )
    with pytest.raises(ValidationError):
        services.user_update(
            actor=actors.county_admin,
            user=director,
            role=Role.TOWN_SUPERVISOR,
            division=Division.objects.get(code="620724100000"),
        )
    # The account's page shows the pending role; saving it unchanged asks for nothing new.
    client = web_client(actors.county_admin)
    url = reverse("accounts:user_detail", args=[director.public_id])
    page = client.get(url)
    assert page.context["form"].initial["role"] == Role.COUNTY_ADMIN
    response = client.post(
        url, {"name": "新名字", "role": Role.COUNTY_ADMIN, "division": COUNTY, "is_active": "on"}
    )
    assert response.status_code == 302
    director.refresh_from_db()
    assert (director.name, director.role) == ("新名字", Role.VILLAGE_DIRECTOR)
    assert RoleGrant.objects.filter(user=director).count() == 1


def test_taking_a_county_role_away_needs_no_second_person(actors: Actors) -> None:
    officer = actors.other_county_admin
    services.user_update(
        actor=officer,
        user=User.objects.create(
            username="zhao_lei", role=Role.AUDITOR, division_id="620702000000"
        ),
        role=Role.TOWN_SUPERVISOR,
        division=Division.objects.get(code="620702100000"),
    )
    assert User.objects.get(username="zhao_lei").role == Role.TOWN_SUPERVISOR
    assert not RoleGrant.objects.exists()


def test_the_page_lists_what_awaits_and_what_each_may_do(actors: Actors) -> None:
    grant = _ask_county_officer(actors.system_admin).grant
    url = reverse("accounts:grant_list")
    by_security = web_client(actors.security_admin).get(url).context["pending"]
    assert by_security == [(grant, ["approve", "reject"])]
    by_requester = web_client(actors.system_admin).get(url).context["pending"]
    assert by_requester == [(grant, ["withdraw"])]
    assert web_client(actors.other_county_admin).get(url).context["pending"] == []
    home = web_client(actors.county_admin).get("/")
    panel = next(p for p in home.context["panels"] if p.key == "role_grants")
    assert panel.total == 1
