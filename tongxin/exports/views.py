"""An export's page (waiting, being written, ready, failed) and its file."""

from __future__ import annotations

from uuid import UUID

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET

from tongxin.core.http import signed_in_user, staff_view, wants_fragment
from tongxin.core.xlsx import XLSX_CONTENT_TYPE
from tongxin.exports import services
from tongxin.exports.models import ExportStatus
from tongxin.exports.selectors import run_for


@require_GET
@staff_view()
def export_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The export's state; while it is written the page asks again every few seconds (htmx,
    or a refresh without JavaScript) and reloads when the file is ready."""
    run = run_for(signed_in_user(request), public_id)
    services.interrupted(run)
    services.expired(run)
    context = {
        "run": run,
        "title": services.title_of(run),
        "waiting": services.waiting(run),
        "keep_hours": int(services.KEEP.total_seconds() // 3600),
    }
    if wants_fragment(request) and request.GET.get("poll"):
        if not run.busy:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
        else:
            response = render(request, "exports/export.html#progress", context)
    else:
        response = render(request, "exports/export.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@staff_view()
def export_file(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The written file, for the user who asked for it, while it is kept."""
    user = signed_in_user(request)
    run = run_for(user, public_id)
    if services.expired(run) or run.status != ExportStatus.DONE or not run.path.exists():
        raise Http404
    services.export_downloaded(actor=user, run=run, request=request)
    response = FileResponse(
        run.path.open("rb"),
        as_attachment=True,
        filename=run.filename,
        content_type=XLSX_CONTENT_TYPE,
    )
    # Personal data: no copy kept by the browser or any proxy on the way.
    patch_cache_control(response, no_store=True, private=True)
    return response  # type: ignore[return-value]


urlpatterns: list[URLPattern] = [
    path("<uuid:public_id>/", export_detail, name="export_detail"),
    path("<uuid:public_id>/file", export_file, name="export_file"),
]
