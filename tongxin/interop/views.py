"""The ledger pages: the template, upload, the preview of every row, apply, the result."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tongxin.accounts.models import User
from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.geo.scope import get_for_user_or_404
from tongxin.interop import services, tasks
from tongxin.interop.models import BatchStatus, ImportBatch
from tongxin.interop.xlsx import BadFile, max_bytes, template_bytes
from tongxin.registry.ledger import Outcome
from tongxin.registry.models import CategoryCode

PAGE_SIZE = 100
OUTCOME_LABELS = {
    Outcome.NEW: gettext_lazy("New"),
    Outcome.UPDATE: gettext_lazy("Update"),
    Outcome.UNCHANGED: gettext_lazy("Unchanged"),
    Outcome.REVIEW: gettext_lazy("Needs review"),
    Outcome.ERROR: gettext_lazy("Error"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Ledger (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )


def _batch_for(user: User, public_id: UUID) -> ImportBatch:
    """The user's own import: 404 alike for another user's and for none."""
    return get_for_user_or_404(
        ImportBatch.objects.filter(created_by=user).select_related("created_by"),
        public_id=public_id,
    )


@require_GET
@staff_view(allow=services.may_import)
def ledger_index(request: HttpRequest) -> HttpResponse:
    return _index(request, UploadForm())


def _index(request: HttpRequest, form: UploadForm, status: int = 200) -> HttpResponse:
    batches = ImportBatch.objects.filter(created_by=_user(request)).only(
        "public_id", "created_at", "file_name", "status", "counts", "applied_counts"
    )[:20]
    return render(
        request,
        "interop/ledger.html",
        {"form": form, "batches": batches, "limit_mb": max_bytes() // (1024 * 1024)},
        status=status,
    )


@require_GET
@staff_view(allow=services.may_import)
def ledger_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = (
        "attachment; filename=\"ledger-template.xlsx\"; filename*=UTF-8''"
        "%E5%86%9C%E6%9D%91%E7%95%99%E5%AE%88%E5%84%BF%E7%AB%A5%E5%9F%BA%E6%9C%AC%E6%83%85"
        "%E5%86%B5%E7%99%BB%E8%AE%B0%E8%A1%A8.xlsx"
    )
    return response


@require_POST
@staff_view(allow=services.may_import, write=True)
def ledger_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _index(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        batch = services.batch_upload(
            actor=_user(request),
            name=upload.name or "ledger.xlsx",
            size=upload.size or 0,
            chunks=upload.chunks(),
            request=request,
        )
    except BadFile as exc:
        form.add_error("file", str(exc))
        return _index(request, form, status=400)
    tasks.check_later(batch)
    return redirect("ledger:batch", batch.public_id)


@require_GET
@staff_view(allow=services.may_import)
def ledger_batch(request: HttpRequest, public_id: UUID) -> HttpResponse:
    services.expired_purge()
    batch = _batch_for(_user(request), public_id)
    services.interrupted(batch)
    waiting = services.waiting(batch)
    running = services.progress(batch) if batch.busy and not waiting else None
    if getattr(request, "htmx", False) and request.GET.get("poll"):
        if not batch.busy:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(
            request,
            "interop/batch.html#progress",
            {"batch": batch, "waiting": waiting, "running": running},
        )
    outcome = request.GET.get("outcome", "")
    rows = [r for r in batch.results if not outcome or r["outcome"] == outcome]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row["label"] = OUTCOME_LABELS.get(row["outcome"], row["outcome"])
        row["category_labels"] = [
            (CategoryCode(code).label if code in CategoryCode.values else code, reason)
            for code, reason in row["categories"]
        ]
    counts = batch.applied_counts or batch.counts
    context: dict[str, Any] = {
        "batch": batch,
        "waiting": waiting,
        "running": running,
        "page": page,
        "outcome": outcome,
        "outcomes": [(str(o), OUTCOME_LABELS[o], counts.get(str(o), 0)) for o in Outcome],
        "shown": len(batch.results),
        "total": counts.get("total", 0),
        "can_apply": batch.status == BatchStatus.CHECKED and not counts.get(Outcome.ERROR),
    }
    return render(request, "interop/batch.html", context)


@require_POST
@staff_view(allow=services.may_import, write=True)
def ledger_apply(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    batch = _batch_for(user, public_id)
    try:
        tasks.apply_later(actor=user, batch=batch, request=request)
    except services.ApplyRefused as exc:
        messages.error(request, str(exc))
    # The batch page follows the import and shows its result, or why it failed.
    return redirect("ledger:batch", batch.public_id)
