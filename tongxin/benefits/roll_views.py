"""The payment roll pages (发放花名册): the list and upload, the preview of every row, apply,
and the children to register (未建档)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tongxin.accounts.models import User
from tongxin.benefits import rolls
from tongxin.benefits.roll_models import UNMATCHED_READER_ROLES, PaymentRoll, RollStatus
from tongxin.benefits.rules import PROGRAMME_LABELS
from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.geo.scope import get_for_user_or_404
from tongxin.interop.services import BadFile, max_bytes

PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_LABELS = {
    "new": gettext_lazy("New"),
    "unchanged": gettext_lazy("Unchanged"),
    "changed": gettext_lazy("Amount changed"),
    "error": gettext_lazy("Error"),
}


class RollForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Payment roll (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )


def _reads_unmatched(user: User) -> bool:
    return user.role in UNMATCHED_READER_ROLES and user.division_id is not None


def _roll_for(user: User, public_id: UUID) -> PaymentRoll:
    """A roll of the user's division: 404 alike for another's and for none."""
    return get_for_user_or_404(PaymentRoll.objects.visible_to(user), public_id=public_id)


@require_GET
@staff_view(allow=rolls.may_read_rolls)
def roll_index(request: HttpRequest) -> HttpResponse:
    return _index(request, RollForm())


def _index(request: HttpRequest, form: RollForm, status: int = 200) -> HttpResponse:
    user = _user(request)
    listed = PaymentRoll.objects.visible_to(user).only(
        "public_id", "uploaded_at", "file_name", "status", "months", "counts"
    )[:30]
    return render(
        request,
        "benefits/rolls/index.html",
        {
            "form": form,
            "rolls": listed,
            "may_upload": rolls.may_upload(user),
            "limit_mb": max_bytes() // (1024 * 1024),
            "columns": "、".join(rolls.COLUMNS.labels.values()),
        },
        status=status,
    )


@require_POST
@staff_view(allow=rolls.may_upload, write=True)
def roll_upload(request: HttpRequest) -> HttpResponse:
    form = RollForm(request.POST, request.FILES)
    if not form.is_valid():
        return _index(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        roll = rolls.roll_upload(
            actor=_user(request),
            name=upload.name or "roll.xlsx",
            size=upload.size or 0,
            chunks=upload.chunks(),
            request=request,
        )
    except BadFile as exc:
        form.add_error("file", str(exc))
        return _index(request, form, status=400)
    return redirect("rolls:detail", roll.public_id)


@require_GET
@staff_view(allow=rolls.may_read_rolls)
def roll_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    roll = _roll_for(user, public_id)
    rolls.roll_read(actor=user, roll=roll, request=request)
    kind = request.GET.get("kind", "")
    unmatched = request.GET.get("unmatched") == "1"
    rows = [
        r for r in roll.rows if (not kind or r["kind"] == kind) and (not unmatched or _unmatched(r))
    ]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row["label"] = KIND_LABELS.get(row["kind"], row["kind"])
        row["programme_label"] = PROGRAMME_LABELS.get(row["programme"], row["programme"])
        row["unmatched"] = _unmatched(row)
    counts = roll.counts
    context: dict[str, Any] = {
        "roll": roll,
        "page": page,
        "kind": kind,
        "unmatched": unmatched,
        "kinds": [
            (k, label, counts.get("errors" if k == "error" else k, 0))
            for k, label in KIND_LABELS.items()
        ],
        "total": counts.get("total", 0),
        "unmatched_count": counts.get("unmatched", 0),
        "same_file": rolls.applied_before(roll),
        "can_apply": roll.status == RollStatus.PREVIEWED and rolls.may_upload(user),
        "writes": counts.get("new", 0) + counts.get("changed", 0),
    }
    return render(request, "benefits/rolls/detail.html", context)


def _unmatched(row: dict[str, Any]) -> bool:
    return row["kind"] != "error" and not row.get("child_code")


@require_POST
@staff_view(allow=rolls.may_upload, write=True)
def roll_apply(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    roll = _roll_for(user, public_id)
    try:
        written = rolls.roll_apply(actor=user, roll=roll, request=request)
    except rolls.RollRefused as exc:
        messages.error(request, str(exc))
    else:
        if written:
            messages.success(
                request,
                gettext("The roll was applied: %(count)d line(s) written.") % {"count": written},
            )
        else:
            messages.info(request, roll.message)
    return redirect("rolls:detail", roll.public_id)


@require_GET
@staff_view(allow=_reads_unmatched)
def roll_unmatched(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    lines = rolls.unmatched_lines(user)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    rolls.unmatched_read(actor=user, count=page.paginator.count, request=request)
    return render(
        request,
        "benefits/rolls/unmatched.html",
        {"page": page, "labels": PROGRAMME_LABELS},
    )
