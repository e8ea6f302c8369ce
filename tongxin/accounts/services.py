"""Account writes and sign-in events. Each write records its audit entry in the same
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tongxin.accounts.credentials import generate_password, make_one_time, tokens_end
from tongxin.accounts.models import (
    Department,
    GrantState,
    InstitutionType,
    Organisation,
    OrganisationKind,
    RoleGrant,
    User,
)
from tongxin.accounts.roles import ROLE_LEVELS, SECOND_PERSON_ROLES, Role
from tongxin.audit.models import Result
from tongxin.audit.services import audit_object, audit_record
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import in_scope

if TYPE_CHECKING:
    from django_otp.plugins.otp_totp.models import TOTPDevice


def check_assignment(
    *, actor: User | None, role: str, division: Division, organisation: Organisation | None
) -> None:
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [_("Unknown role: %(role)s") % {"role": role}]
    elif division.level not in ROLE_LEVELS[role]:
        errors["division"] = [
            _("A %(role)s is attached to a division of another level, not a %(level)s.")
            % {"role": Role(role).label, "level": division.get_level_display()}
        ]
    if role == Role.DEPARTMENT_OFFICER and (organisation is None or not organisation.department):
        errors["organisation"] = [_("A department officer needs a department.")]
    if role == Role.REPORTER and organisation is None:
        errors["organisation"] = [_("A mandatory reporter needs the institution they report for.")]
    if organisation is not None and not (
        organisation.division.contains(division.code) or division.contains(organisation.division_id)
    ):
        errors.setdefault("organisation", []).append(
            _("The organisation lies outside the division.")
        )
    if actor is not None and not in_scope(actor, division.code):
        # Same words as "not there": an administrator learns nothing outside their county.
        errors["division"] = [_("No such division.")]
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class CreatedUser:
    """An account just made: its password, shown this once (one-time unless a demo account;
    empty while its role awaits a second person), until when it works, and the request for its
    role when that needs a second person."""

    user: User
    password: str
    expires_at: datetime | None = None
    grant: RoleGrant | None = None


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    role: str,
    division: Division,
    organisation: Organisation | None = None,
    name: str = "",
    phone: str = "",
    password: str | None = None,
    is_demo: bool = False,
    request: HttpRequest | None = None,
) -> CreatedUser:
    """Create an account. ``actor`` None means the command line (an operator with shell access,
    and the demo): the account's role is in force at once, and ``password`` may be given.

    An administrator never chooses the password: a one-time one is generated and returned
    once, to hand over; the person sets their own at the first sign-in (so does a person whose
    account the command line made, demo accounts apart). A role that needs a second person
    (``SECOND_PERSON_ROLES``) given by an administrator is only requested: the account has no
    role and no password until another administrator approves (``grants.grant_approve``), who
    receives its one-time password to hand over (``password`` is then empty)."""
    if actor is not None:
        if not actor.manages_users or actor.is_read_only:
            raise PermissionDenied
        if password is not None:
            raise ValueError("an administrator never chooses another person's password")
    check_assignment(actor=actor, role=role, division=division, organisation=organisation)
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from exc
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [_("This username is taken.")]})
    second_person = actor is not None and role in SECOND_PERSON_ROLES
    user = User(
        username=username,
        role="" if second_person else role,
        division=division,
        organisation=organisation,
        name=name,
        phone=phone,
        is_demo=is_demo,
    )
    expires = None
    if second_person:
        # No way in until the second person approves: they hand over the one-time password
        # (``grants.grant_approve``), so the requester never holds one to this account.
        password = ""
        user.set_unusable_password()
    else:
        password = password or generate_password()
        password_validation.validate_password(password, user)
        user.set_password(password)
        if not (is_demo and actor is None):
            expires = make_one_time(user)
    user.save()
    detail = {"role": user.role, "requested_role": role} if second_person else {"role": role}
    audit_object(actor, "user.create", user, request=request, detail=detail)
    grant = None
    if second_person:
        assert actor is not None
        grant = _grant_request(
            actor=actor,
            user=user,
            role=role,
            division=division,
            organisation=organisation,
            request=request,
        )
    return CreatedUser(user=user, password=password, expires_at=expires, grant=grant)


def pending_grant(user: User) -> RoleGrant | None:
    """The request for a role of ``user`` that awaits a second person, if any."""
    return (
        RoleGrant.objects.filter(user=user, state=GrantState.PENDING)
        .select_related("division", "organisation", "requested_by")
        .first()
    )


def _grant_request(
    *,
    actor: User,
    user: User,
    role: str,
    division: Division,
    organisation: Organisation | None,
    request: HttpRequest | None,
) -> RoleGrant:
    """Ask for ``role`` (at ``division``, for ``organisation``) for ``user``: not in force until
    a second person approves it. Inside the caller's transaction."""
    grant = RoleGrant.objects.create(
        user=user, role=role, division=division, organisation=organisation, requested_by=actor
    )
    audit_object(
        actor,
        "role_grant.request",
        user,
        request=request,
        division_code=division.code,
        detail={
            "grant": str(grant.public_id),
            "role": role,
            "division": division.code,
            "current_role": user.role,
        },
    )
    return grant


ASSIGNMENT = ("role", "division", "organisation")


@transaction.atomic
def role_change_audit(
    actor: User, user: User, old_role: str, old_division: str, request: HttpRequest | None
) -> None:
    """Audit a change of an account's role or division (``user.role_change``), whoever made it:
    an administrator's edit, or the approval of a role request."""
    audit_object(
        actor,
        "user.role_change",
        user,
        request=request,
        detail={
            "old_role": old_role,
            "new_role": user.role,
            "old_division": old_division,
            "new_division": user.division_id or "",
        },
    )


def user_update(
    *,
    actor: User,
    user: User,
    request: HttpRequest | None = None,
    **changes: Any,
) -> User:
    """Change an account's role, division, organisation, name, phone or active flag. A role or
    division change is audited as such, with the old and new role and division.

    A change that would give a role needing a second person (``SECOND_PERSON_ROLES``) is only
    requested (``RoleGrant``); the account keeps its role, division and organisation until it is
    approved. Disabling an account, or changing its role or division, ends its API tokens (a
    disabled account's sessions end by themselves: Django refuses an inactive user)."""
    allowed = {"role", "division", "organisation", "name", "phone", "is_active"}
    if not actor.manages_users or actor.is_read_only or not in_scope(actor, user.division_id or ""):
        # The views fetch the account through ``User.objects.visible_to``; this guards every
        # other caller: an administrator never touches an account outside their division.
        raise PermissionDenied
    if unknown := set(changes) - allowed:
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    pending = pending_grant(user)
    if pending is not None and all(
        changes.get(k, getattr(user, k)) == getattr(pending, k) for k in ASSIGNMENT
    ):
        # The account's page shows the role that awaits approval: saving it as it is asks
        # for nothing new.
        changes = {k: v for k, v in changes.items() if k not in ASSIGNMENT}
    changed = [k for k, v in changes.items() if getattr(user, k) != v]
    if not changed:
        return user
    if user.pk == actor.pk and {"role", "division", "is_active"} & set(changed):
        raise ValidationError(_("You cannot change your own role, division or access."))
    new = {k: changes.get(k, getattr(user, k)) for k in ASSIGNMENT}
    assignment_changed = bool({"role", "division"} & set(changed))
    if pending is not None and (assignment_changed or "organisation" in changed):
        raise ValidationError(
            _(
                "A role for this account awaits approval: have it approved or rejected, or "
                "withdraw it, before changing the role, division or organisation."
            )
        )
    if assignment_changed or "organisation" in changed:
        check_assignment(actor=actor, **new)
    if assignment_changed and new["role"] in SECOND_PERSON_ROLES:
        _grant_request(actor=actor, user=user, request=request, **new)
        changed = [k for k in changed if k not in ASSIGNMENT]
        assignment_changed = False
    if not changed:
        return user
    old_role, old_division = user.role, user.division_id or ""
    for key in changed:
        setattr(user, key, changes[key])
    user.save(update_fields=changed)
    user.__dict__.pop("scope_prefix", None)
    ended = tokens_end(user) if assignment_changed or not user.is_active else 0
    detail: dict[str, Any] = {"fields": sorted(changed)}
    if ended:
        detail["tokens"] = ended
    audit_object(actor, "user.update", user, request=request, detail=detail)
    if assignment_changed:
        role_change_audit(actor, user, old_role, old_division, request)
    return user


# The division levels each kind of organisation is registered at.
ORGANISATION_LEVELS: dict[str, tuple[str, ...]] = {
    OrganisationKind.DEPARTMENT: (Level.PROVINCE, Level.CITY, Level.COUNTY),
    OrganisationKind.TOWN_GOVERNMENT: (Level.TOWN,),
    OrganisationKind.VILLAGE_COMMITTEE: (Level.VILLAGE, Level.COMMUNITY),
    OrganisationKind.INSTITUTION: (Level.COUNTY, Level.TOWN, Level.VILLAGE, Level.COMMUNITY),
}
ORGANISATION_FIELDS = ("name", "kind", "division", "department", "institution_type")


def _check_organisation(
    *,
    actor: User,
    name: str,
    kind: str,
    division: Division,
    department: str,
    institution_type: str,
    organisation: Organisation | None = None,
) -> None:
    """An organisation as it would be saved: its kind at a division of the right level inside
    the administrator's own, the department only for a department, the type for an institution
    (and only for one), its name and department once per division."""
    errors: dict[str, list[str]] = {}
    others = Organisation.objects.filter(division=division)
    if organisation is not None:
        others = others.exclude(pk=organisation.pk)
    if not name:
        errors["name"] = [_("Give the organisation's name.")]
    elif others.filter(name=name).exists():
        errors["name"] = [_("An organisation of this name is already registered in this division.")]
    if kind not in OrganisationKind.values:
        errors["kind"] = [_("Choose a kind from the list.")]
    elif division.level not in ORGANISATION_LEVELS[kind]:
        errors["division"] = [
            _("An organisation of the kind “%(kind)s” is registered at a %(levels)s.")
            % {
                "kind": OrganisationKind(kind).label,
                "levels": " / ".join(str(Level(lv).label) for lv in ORGANISATION_LEVELS[kind]),
            }
        ]
    if department and department not in Department.values:
        errors["department"] = [_("Choose a department from the list.")]
    elif department and kind != OrganisationKind.DEPARTMENT:
        errors["department"] = [_("Leave the department empty: only a county department has one.")]
    elif department and others.filter(department=department).exists():
        errors["department"] = [_("This department is already registered in this division.")]
    if institution_type and institution_type not in InstitutionType.values:
        errors["institution_type"] = [_("Choose a type from the list.")]
    elif kind == OrganisationKind.INSTITUTION and not institution_type:
        errors["institution_type"] = [_("Choose the institution's type.")]
    elif kind != OrganisationKind.INSTITUTION and institution_type:
        errors["institution_type"] = [
            _("Leave the institution type empty: only an institution has one.")
        ]
    moved = organisation is not None and (
        kind != organisation.kind or division.code != organisation.division_id
    )
    if moved and organisation is not None and organisation.users.exists():
        field = "kind" if kind != organisation.kind else "division"
        errors.setdefault(field, []).append(
            _(
                "Accounts belong to this organisation: move them to another one before "
                "changing its kind or division."
            )
        )
    if not in_scope(actor, division.code):
        # Same words as "not there": an administrator learns nothing outside their county.
        errors["division"] = [_("No such division.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def organisation_create(
    *,
    actor: User,
    name: str,
    kind: str,
    division: Division,
    department: str = "",
    institution_type: str = "",
    request: HttpRequest | None = None,
) -> Organisation:
    """Register an organisation inside the administrator's division: a department, a town
    government, a village committee, or an institution (school, hospital …) with its type, for
    the reporters' accounts to belong to."""
    if not actor.manages_users or actor.is_read_only:
        raise PermissionDenied
    name = name.strip()
    _check_organisation(
        actor=actor,
        name=name,
        kind=kind,
        division=division,
        department=department,
        institution_type=institution_type,
    )
    organisation = Organisation.objects.create(
        name=name,
        kind=kind,
        division=division,
        department=department,
        institution_type=institution_type,
    )
    audit_object(
        actor,
        "organisation.create",
        organisation,
        request=request,
        detail={"kind": kind, "institution_type": institution_type, "department": department},
    )
    return organisation


@transaction.atomic
def organisation_update(
    *,
    actor: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
    **changes: Any,
) -> Organisation:
    """Change an organisation's name, kind, division, department or institution type. The
    reports its reporters filed keep the type they were filed under."""
    if (
        not actor.manages_users
        or actor.is_read_only
        or not in_scope(actor, organisation.division_id)
    ):
        # The views fetch it through ``Organisation.objects.visible_to``; this guards every
        # other caller.
        raise PermissionDenied
    if unknown := set(changes) - set(ORGANISATION_FIELDS):
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    new = {k: changes.get(k, getattr(organisation, k)) for k in ORGANISATION_FIELDS}
    changed = [
        k for k in ORGANISATION_FIELDS if k in changes and getattr(organisation, k) != new[k]
    ]
    if not changed:
        return organisation
    _check_organisation(actor=actor, organisation=organisation, **new)
    for key in changed:
        setattr(organisation, key, new[key])
    organisation.save(update_fields=changed)
    audit_object(
        actor,
        "organisation.update",
        organisation,
        request=request,
        detail={"fields": sorted(changed)},
    )
    return organisation


def login_succeeded(*, request: HttpRequest, user: User, channel: str = "web") -> None:
    audit_object(user, "auth.login", user, request=request, detail={"channel": channel})


def sign_in_locked(request: HttpRequest, username: str) -> bool:
    """Whether sign-in under ``username`` is refused before the password is even checked.

    Ask this before ``authenticate``: django-axes flags the request as locked out already on
    the failure that reaches the limit, yet that attempt must answer like the ones before it
    (wrong password); only the attempts after it answer "locked"."""
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def login_failed(
    *, request: HttpRequest, username: str, locked: bool, channel: str = "web"
) -> None:
    """A refused sign-in. The typed name is kept only when it is a real account (a password
    typed into the name field must not land in the audit trail)."""
    user = User.objects.filter(username=username).first()
    audit_record(
        actor=None,
        action="auth.lockout" if locked else "auth.login_failed",
        object_type="user" if user else "",
        object_code=str(user.public_id) if user else "",
        division_code=(user.division_id or "") if user else "",
        request=request,
        result=Result.LOCKED if locked else Result.FAILED,
        detail={"channel": channel, "known_user": user is not None},
    )


def second_factor_passed(*, request: HttpRequest, user: User) -> None:
    """The second step of a web sign-in succeeded: from here the session reaches the pages."""
    audit_object(user, "auth.second_factor", user, request=request)


def second_factor_failed(*, request: HttpRequest, user: User, channel: str = "web") -> None:
    audit_object(
        user,
        "auth.second_factor_failed",
        user,
        request=request,
        result=Result.FAILED,
        detail={"channel": channel},
    )


@transaction.atomic
def second_factor_enrol(*, request: HttpRequest, user: User, device: TOTPDevice) -> None:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    user.totpdevice_set.exclude(pk=device.pk).delete()  # type: ignore[attr-defined]
    audit_object(user, "auth.second_factor_enrolled", user, request=request)


def logout_recorded(*, request: HttpRequest, user: User) -> None:
    audit_object(user, "auth.logout", user, request=request)


def lockout_passthrough(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """django-axes hook: our sign-in views already answered the lockout in their own words."""
    if original_response is None:
        return HttpResponse(_("Too many failed sign-ins. Try again later."), status=429)
    return original_response
