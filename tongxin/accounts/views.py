from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.fields import BLANK_CHOICE_LABEL
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongxin.accounts import credentials, services
from tongxin.accounts.forms import (
    LoginForm,
    OrganisationForm,
    TokenForm,
    UserCreateForm,
    UserUpdateForm,
)
from tongxin.accounts.models import GrantState, Organisation, OrganisationKind, RoleGrant, User
from tongxin.accounts.roles import Role
from tongxin.core.http import signed_in_user, staff_view
from tongxin.geo.scope import get_for_user_or_404

# One message for a wrong password and for a name that does not exist, and one for a lockout
# whether or not the name exists: a stranger learns nothing about which accounts there are.
BAD_CREDENTIALS = gettext_lazy("Wrong username or password.")
LOCKED_OUT = gettext_lazy("Too many failed sign-ins: this account is locked for 30 minutes.")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        locked_before = services.sign_in_locked(request, username)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if isinstance(user, User):
            login(request, user)
            services.login_succeeded(request=request, user=user)
            target = _safe_next(request)
            query = "" if target == reverse("home") else "?" + urlencode({"next": target})
            if user.must_change_password:
                # A one-time password: the person sets their own before anything else (the
                # middleware holds them there), then the second step where the role needs it.
                return redirect(reverse("accounts:password") + query)
            if user.needs_second_factor:
                # Straight to the second step (the middleware would send them there anyway),
                # keeping where they were going.
                return redirect(reverse("second_factor") + query)
            return redirect(target)
        # The attempt that reaches the limit locks the name (audited as the lockout) but
        # answers like the ones before it; later attempts answer "locked".
        locked = bool(getattr(request, "axes_locked_out", False))
        services.login_failed(request=request, username=username, locked=locked)
        form.add_error(None, str(LOCKED_OUT if locked_before else BAD_CREDENTIALS))
        status = 429 if locked_before else 200
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, User):
        services.logout_recorded(request=request, user=request.user)
    logout(request)
    return redirect("login")


@staff_view()
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Verify the TOTP code, or enrol a first authenticator when the user has none."""
    user = signed_in_user(request)
    if not user.needs_second_factor or user.is_verified():  # type: ignore[attr-defined]
        # Roles without a second factor have nothing to enrol: no stray device rows.
        return redirect(_safe_next(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                services.second_factor_enrol(request=request, user=user, device=device)
            else:
                services.second_factor_passed(request=request, user=user)
            otp_login(request, device)
            return redirect(_safe_next(request))
        services.second_factor_failed(request=request, user=user)
        form.add_error("token", _("That code is not right, or has expired."))
    context: dict[str, object] = {"form": form, "enrolling": enrolling}
    if enrolling:
        context["qr"] = segno.make(device.config_url, micro=False).svg_data_uri(scale=4)
        context["secret"] = _base32(device.bin_key)
    return render(request, "accounts/second_factor.html", context)


def _base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


@staff_view(allow=lambda u: u.reads_accounts)
def user_list(request: HttpRequest) -> HttpResponse:
    """The accounts inside the administrator's division, each with the role it has in force
    and any role that awaits a second person's approval."""
    pending = RoleGrant.objects.filter(user=OuterRef("pk"), state=GrantState.PENDING)
    users = (
        User.objects.visible_to(signed_in_user(request))
        .select_related("division", "organisation")
        .annotate(pending_role=Subquery(pending.values("role")[:1]))
    )
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    # NUL never matches a name, and PostgreSQL refuses it in a query: drop it.
    if q := request.GET.get("q", "").replace("\x00", "").strip():
        users = users.filter(username__icontains=q) | users.filter(name__icontains=q)
    page = Paginator(users.order_by("division_id", "username"), 50).get_page(
        request.GET.get("page")
    )
    labels = dict(Role.choices)
    for account in page:
        account.pending_label = labels.get(account.pending_role, "")  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/user_list.html",
        {"page": page, "roles": Role.choices, "role": role, "q": q},
    )


@staff_view(allow=lambda u: u.manages_users, write=True)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    form = UserCreateForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.user_create(
                actor=actor,
                request=request,
                username=data["username"],
                role=data["role"],
                division=data["division"],
                organisation=data["organisation"],
                name=data["name"],
                phone=data["phone"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return render(
                request,
                "accounts/user_created.html",
                {
                    "created": created.user,
                    "password": created.password,
                    "expires_at": created.expires_at,
                    "grant": created.grant,
                },
            )
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@staff_view(allow=lambda u: u.reads_accounts, write=True)
@require_http_methods(["GET", "POST"])
def user_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """An account: its form for a user administrator (a security administrator reads it and
    answers 403 to a post), and its sign-in state with the actions each may take on it."""
    actor = signed_in_user(request)
    target = get_for_user_or_404(User.objects.visible_to(actor), public_id=public_id)
    if request.method == "POST" and (not actor.manages_users or actor.is_read_only):
        raise PermissionDenied
    pending = services.pending_grant(target)
    shown = pending or target
    initial = {
        "name": target.name,
        "phone": target.phone,
        "role": shown.role,
        "division": shown.division,
        "organisation": shown.organisation,
        "is_active": target.is_active,
    }
    form = UserUpdateForm(request.POST or None, actor=actor, initial=initial)
    if not shown.role:
        # No role in force and none asked for (a request turned down): the administrator
        # chooses one, rather than the browser picking the list's first.
        form.fields["role"].choices = [("", BLANK_CHOICE_LABEL), *Role.choices]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=actor, user=target, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if pending is None and services.pending_grant(target) is not None:
                messages.success(
                    request,
                    _(
                        "Saved. The new role is not in force until a second person approves "
                        "it (a security administrator or another county officer)."
                    ),
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("accounts:user_detail", public_id=target.public_id)
    context = {
        "form": form if actor.manages_users and not actor.is_read_only else None,
        "target": target,
        "pending": pending,
        "has_second_factor": credentials.has_second_factor(target),
        "locked": credentials.account_locked(request, target),
        "tokens": credentials.token_rows(target) if actor.keeps_security else [],
        "resets_password": actor.manages_users and not actor.is_read_only and actor != target,
        "keeps_security": actor.keeps_security and actor != target,
    }
    return render(request, "accounts/user_form.html", context)


@staff_view(allow=lambda u: u.manages_users)
def organisation_list(request: HttpRequest) -> HttpResponse:
    """The organisations inside the administrator's division, with their accounts' count."""
    organisations = (
        Organisation.objects.visible_to(request.user)  # type: ignore[arg-type]
        .select_related("division")
        .annotate(accounts=Count("users"))
    )
    kind = request.GET.get("kind", "")
    if kind in OrganisationKind.values:
        organisations = organisations.filter(kind=kind)
    # NUL never matches a name, and PostgreSQL refuses it in a query: drop it.
    if q := request.GET.get("q", "").replace("\x00", "").strip():
        organisations = organisations.filter(name__icontains=q)
    page = Paginator(organisations.order_by("division_id", "name"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/organisation_list.html",
        {"page": page, "kinds": OrganisationKind.choices, "kind": kind, "q": q},
    )


@staff_view(allow=lambda u: u.manages_users, write=True)
@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    form = OrganisationForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.organisation_create(
                actor=actor, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:organisation_detail", public_id=created.public_id)
    return render(
        request,
        "accounts/organisation_form.html",
        {"form": form, "creating": True},
        status=400 if form.errors else 200,
    )


@staff_view(allow=lambda u: u.manages_users, write=True)
@require_http_methods(["GET", "POST"])
def organisation_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    organisation = get_for_user_or_404(
        Organisation.objects.visible_to(actor).select_related("division"), public_id=public_id
    )
    initial = {
        "name": organisation.name,
        "kind": organisation.kind,
        "institution_type": organisation.institution_type,
        "department": organisation.department,
        "division": organisation.division,
    }
    form = OrganisationForm(request.POST or None, actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(
                actor=actor, organisation=organisation, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:organisation_detail", public_id=organisation.public_id)
    return render(
        request,
        "accounts/organisation_form.html",
        {"form": form, "organisation": organisation},
        status=400 if form.errors else 200,
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
