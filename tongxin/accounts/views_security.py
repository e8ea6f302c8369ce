"""The pages of sign-in safety: a person's own password and API tokens; an administrator's
actions on another account (a one-time password, a second factor reset, an unlock, tokens
revoked); the requests for roles that need a second person."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongxin.accounts import credentials, grants
from tongxin.accounts.forms import PasswordSetForm
from tongxin.accounts.models import GrantState, RoleGrant, User
from tongxin.accounts.views import _add_errors, _safe_next
from tongxin.core.http import signed_in_user, staff_view
from tongxin.geo.scope import get_for_user_or_404

_TOKEN_REF = re.compile(rf"^[0-9a-f]{{{credentials.TOKEN_REF_LENGTH}}}$")


def _token_ref(request: HttpRequest) -> str | None:
    """The token a revoke form names: its reference, None for "all", "" for anything else."""
    ref = request.POST.get("token", "")
    if ref == "all":
        return None
    return ref if _TOKEN_REF.match(ref) else ""


@staff_view()
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Set one's own password: the first page after signing in with a one-time password (the
    middleware holds the account here until it is done), or a change at any time."""
    user = signed_in_user(request)
    forced = user.must_change_password
    form = PasswordSetForm(request.POST or None, user=user, ask_current=not forced)
    if request.method == "POST" and form.is_valid():
        try:
            credentials.password_set(
                user=user, password=form.cleaned_data["new_password1"], request=request
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            # This session goes on; every other one ends with the old password.
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password is set."))
            return redirect(_safe_next(request))
    return render(
        request,
        "accounts/password.html",
        {"form": form, "forced": forced, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )


@staff_view()
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The API tokens one holds (a phone, another system), and revoking one or all of them."""
    user = signed_in_user(request)
    if request.method == "POST":
        ref = _token_ref(request)
        if ref == "":
            return HttpResponseBadRequest(_("No such token."))
        ended = credentials.token_revoke(actor=user, user=user, ref=ref, request=request)
        if ended:
            messages.success(request, _("Token revoked: it works no more."))
        else:
            messages.error(request, _("No such token: it has ended already."))
        return redirect("accounts:token_list")
    return render(request, "accounts/tokens.html", {"tokens": credentials.token_rows(user)})


# What a user or security administrator may do to another account, by the form's "action".
SECURITY_ACTIONS = ("reset_password", "reset_second_factor", "unlock", "revoke_tokens")


@staff_view(allow=lambda u: u.reads_accounts, write=True)
@require_POST
def user_security(request: HttpRequest, public_id: str) -> HttpResponse:
    """One action on another account's sign-in: a new one-time password (a user administrator;
    shown once), or a second factor reset, an unlock, tokens revoked (a security
    administrator). The services refuse (403) whoever may not."""
    actor = signed_in_user(request)
    target = get_for_user_or_404(User.objects.visible_to(actor), public_id=public_id)
    action = request.POST.get("action", "")
    if action not in SECURITY_ACTIONS:
        return HttpResponseBadRequest(_("No such action."))
    try:
        if action == "reset_password":
            issued = credentials.password_reset(actor=actor, user=target, request=request)
            return render(
                request,
                "accounts/user_created.html",
                {
                    "created": target,
                    "password": issued.password,
                    "expires_at": issued.expires_at,
                    "reset": True,
                },
            )
        if action == "reset_second_factor":
            credentials.second_factor_reset(actor=actor, user=target, request=request)
            messages.success(
                request, _("Second factor reset: the person enrols a new one at next sign-in.")
            )
        elif action == "unlock":
            credentials.account_unlock(actor=actor, user=target, request=request)
            messages.success(request, _("Account unlocked."))
        else:
            ref = _token_ref(request)
            if ref == "":
                return HttpResponseBadRequest(_("No such token."))
            ended = credentials.token_revoke(actor=actor, user=target, ref=ref, request=request)
            messages.success(request, _("Tokens revoked: %(count)d.") % {"count": ended})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:user_detail", public_id=target.public_id)


@staff_view(allow=lambda u: u.reads_accounts)
def grant_list(request: HttpRequest) -> HttpResponse:
    """Requests for roles that need a second person: those awaiting a decision, with what the
    viewer may do with each, and the latest decided."""
    user = signed_in_user(request)
    visible = RoleGrant.objects.visible_to(user).select_related(
        "user", "user__division", "division", "organisation", "requested_by", "decided_by"
    )
    pending = [(g, grants.decisions(user, g)) for g in visible.filter(state=GrantState.PENDING)]
    decided = list(visible.exclude(state=GrantState.PENDING)[:50])
    return render(request, "accounts/grant_list.html", {"pending": pending, "decided": decided})


@staff_view(allow=lambda u: u.reads_accounts, write=True)
@require_POST
def grant_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    """Approve, reject or withdraw one request (``decision``)."""
    actor = signed_in_user(request)
    grant = get_for_user_or_404(
        RoleGrant.objects.visible_to(actor).select_related("user"), public_id=public_id
    )
    decision = request.POST.get("decision", "")
    try:
        if decision == grants.APPROVE:
            issued = grants.grant_approve(actor=actor, grant=grant, request=request)
            messages.success(request, _("Approved: the role is in force."))
            return render(
                request,
                "accounts/user_created.html",
                {
                    "created": issued.user,
                    "password": issued.password,
                    "expires_at": issued.expires_at,
                    "approved": True,
                },
            )
        elif decision in (grants.REJECT, grants.WITHDRAW):
            grants.grant_reject(actor=actor, grant=grant, decision=decision, request=request)
            messages.success(request, _("Done: the account keeps the role it had."))
        else:
            return HttpResponseBadRequest(_("No such decision."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:grant_list")
