"""The child's file on one page, every opening audited, and the audited reveal of a full ID
number on it (the child's, a parent's, a caregiver's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.models import AuditEvent
from tongxin.core.http import render_page_or_fragment, staff_view
from tongxin.core.http import signed_in_user as _actor
from tongxin.lib import idcard
from tongxin.registry import agreements, services
from tongxin.registry.models import CategoryCode, Child, ManualDecision, ParentRole
from tongxin.registry.selectors import (
    age_on,
    child_changes,
    get_child_for_user,
    household_changes,
    masked_id,
)
from tongxin.registry.views.file.common import decides, file_url, reads_files

ACCESS_LOG_LENGTH = 50


@staff_view(allow=reads_files)
def child_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The whole file on one page; every opening is audited."""
    user = _actor(request)
    try:
        child = get_child_for_user(user, public_id)
    except Http404:
        services.child_access_denied(actor=user, request=request, code=str(public_id))
        raise
    services.child_file_opened(actor=user, child=child, request=request)
    response = render(request, "registry/child_detail.html", _file_context(user, child))
    add_never_cache_headers(response)
    return response


def _file_context(user: User, child: Child) -> dict[str, Any]:
    today = timezone.localdate()
    household = child.household
    parents = {p.role: p for p in household.parents.all()}
    family = [
        {
            "role": role,
            "parent": parents.get(role),
            "masked_id": masked_id(parents[role].id_number_enc) if role in parents else "",
            "spells": list(parents[role].migrations.all()) if role in parents else [],
        }
        for role in ParentRole
    ]
    caregiver_masked_id = masked_id(household.caregiver_id_enc)
    siblings = household.children.exclude(pk=child.pk).order_by("birth_date")
    decisions = {
        d.code: d
        for d in ManualDecision.objects.filter(child=child, withdrawn_at__isnull=True)
        .select_related("decided_by")
        .order_by("decided_at")
    }
    computed = {c["code"]: c["reason"] for c in child.categories}
    labels = dict(CategoryCode.choices)
    categories = [
        {
            "code": code,
            "label": labels.get(code, code),
            "computed": code in computed,
            "reason": computed.get(code, ""),
            "decision": decisions.get(code),
        }
        for code in CategoryCode.values
        if code in computed or code in decisions
    ]
    agreement_rows = [
        {
            "agreement": a,
            "status": agreements.agreement_status(a, today),
            "expiring": agreements.agreement_expiring(a, today),
            "masked_id": masked_id(a.caregiver_id_enc),
        }
        for a in household.agreements.order_by("-signed_on", "-pk")
    ]
    changes = sorted(
        [*child_changes(child), *household_changes(household)], key=lambda c: c.at, reverse=True
    )
    access_log = None
    if user.reads_access_log:
        roles = dict(Role.choices)
        access_log = [
            {"event": e, "role": roles.get(e.actor_role, e.actor_role)}
            for e in AuditEvent.objects.visible_to(user).filter(
                action="child.view", object_code=str(child.public_id)
            )[:ACCESS_LOG_LENGTH]
        ]
    writes = user.keeps_child_files and not user.is_read_only
    return {
        "child": child,
        "age": age_on(child.birth_date, today),
        "household": household,
        "masked_id": masked_id(child.id_number_enc),
        "family": family,
        "caregiver_masked_id": caregiver_masked_id,
        "siblings": siblings,
        "categories": categories,
        "spans": child.category_spans.all(),
        "agreements": agreement_rows,
        "changes": changes,
        "access_log": access_log,
        "today": today,
        "can_edit": writes,
        "can_reveal": user.reveals_id_numbers and not user.is_read_only,
        "can_decide": writes and decides(user),
        "can_copy": writes and decides(user),
    }


def _whose_label(whose: str) -> str:
    if whose in ParentRole.values:
        return _("%(parent)s's ID number") % {"parent": ParentRole(whose).label}
    if whose == services.CHILD_ID:
        return _("ID number")
    return _("Caregiver's ID number")


@staff_view(allow=lambda u: u.reveals_id_numbers, write=True)
@require_POST
def child_reveal_id(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A full ID number on the file, one at a time, audited: the child's, a parent's
    (``whose=father``/``mother``), the caregiver's (``caregiver``) or an agreement's caregiver's
    (``agreement-<code>``). htmx swaps it into the page; without JavaScript it comes on a page
    of its own."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    whose = request.POST.get("whose", "").strip() or services.CHILD_ID
    try:
        number = services.id_number_reveal(actor=user, child=child, whose=whose, request=request)
    except services.NoSuchIdNumber:
        raise Http404 from None
    context: dict[str, Any] = {"child": child, "revealed": number, "label": _whose_label(whose)}
    if whose == services.CHILD_ID:
        context["masked_id"] = masked_id(child.id_number_enc)
        fragment = "registry/child_detail.html#id_number"
    else:
        context.update(whose=whose, masked=idcard.mask(number))
        fragment = "registry/child_detail.html#other_id"
    response = render_page_or_fragment(request, "registry/id_revealed.html", fragment, context)
    add_never_cache_headers(response)
    return response


class CopyRequestForm(forms.Form):
    """Who asked for a copy of the file, as what, and why: recorded in the audit trail."""

    requester = forms.CharField(label=gettext_lazy("Name of the person asking"), max_length=50)
    relation = forms.CharField(
        label=gettext_lazy("Relation to the child"),
        max_length=30,
        help_text=gettext_lazy("For example: father, mother, grandmother (guardian)"),
    )
    reason = forms.CharField(label=gettext_lazy("Reason for the request"), max_length=200)


@staff_view(allow=decides, write=True)
@require_http_methods(["GET", "POST"])
def child_copy(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A printable copy of the whole file for the child's guardian (PIPL's right of access), by
    a county officer: who asked and why are recorded first, and the copy is audited as its own
    action. ID numbers stay masked on paper; the full number is revealed on the file, one at a
    time, as ever."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    form = CopyRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.child_copy_given(
            actor=user,
            child=child,
            requester=data["requester"],
            relation=data["relation"],
            reason=data["reason"],
            request=request,
        )
        context = {
            **_file_context(user, child),
            "can_edit": False,
            "can_reveal": False,
            "can_decide": False,
            "can_copy": False,
            "access_log": None,
            "copy": data,
            "printed_by": user,
        }
        response = render(request, "registry/child_copy.html", context)
    else:
        response = render(
            request,
            "registry/edit_form.html",
            {
                "child": child,
                "form": form,
                "title": _("A copy of the file for the guardian"),
                "intro": _(
                    "The copy is recorded in the audit log with the name of the person asking, "
                    "their relation to the child and the reason. Hand it only to the child's "
                    "guardian, after checking their identity."
                ),
                "back": file_url(child),
                "submit_label": _("Print the copy"),
            },
            status=400 if form.is_bound else 200,
        )
    add_never_cache_headers(response)
    return response
