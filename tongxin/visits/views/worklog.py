"""The work log (工作日志) in the browser: the entries of the user's division, and a new entry
naming the children it concerns (chosen among the children in scope)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.registry.models import Child
from tongxin.visits import services
from tongxin.visits.forms import WORKLOG_CHILDREN_SHOWN, WorkLogForm, children_to_choose
from tongxin.visits.models import WorkLogEntry

PAGE_SIZE = 30


@staff_view(allow=lambda u: u.reads_child_files)
def worklog_list(request: HttpRequest) -> HttpResponse:
    """The entries of the user's division (and the divisions inside it), newest first, with
    the children each concerns: three queries a page."""
    user = _actor(request)
    entries = (
        WorkLogEntry.objects.visible_to(user)
        .select_related("author", "division")
        .prefetch_related(
            Prefetch("children", queryset=Child.objects.only("public_id", "name").order_by("pk"))
        )
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "visits/worklog_list.html",
        {"page": page, "can_add": user.keeps_child_files and not user.is_read_only},
    )


@staff_view(allow=lambda u: u.keeps_child_files and u.division_id is not None, write=True)
@require_http_methods(["GET", "POST"])
def worklog_create(request: HttpRequest) -> HttpResponse:
    """A new entry. The children concerned: those matching the search box, or every child of
    the user's scope when there are few (a village); the ones already ticked stay listed."""
    user = _actor(request)
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    form = WorkLogForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.worklog_record(
                actor=user,
                fields=form.model_values(),
                children=list(form.cleaned_data["children"]),
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The work log entry was saved."))
            return redirect(reverse("visits:worklog"))
    return render(request, "visits/worklog_form.html", _form_context(user, form, q))


def _form_context(user: User, form: WorkLogForm, q: str) -> dict[str, Any]:
    ticked = set()
    for value in form["children"].value() or []:
        try:
            ticked.add(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    matching = children_to_choose(user, q)
    shown = list(matching[: WORKLOG_CHILDREN_SHOWN + 1])
    more = len(shown) > WORKLOG_CHILDREN_SHOWN
    shown = shown[:WORKLOG_CHILDREN_SHOWN]
    listed = {str(c.public_id) for c in shown}
    missing = ticked - listed
    if missing:
        kept = children_to_choose(user, "").filter(public_id__in=missing)
        shown = [*kept, *shown]
    return {
        "form": form,
        "q": q,
        "candidates": [{"child": c, "ticked": str(c.public_id) in ticked} for c in shown],
        "more": more,
    }


urlpatterns: list[URLPattern] = [
    path("worklog/", worklog_list, name="worklog"),
    path("worklog/new/", worklog_create, name="worklog_create"),
]
