from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongxin.core.http import signed_in_user, staff_view
from tongxin.geo.models import Division
from tongxin.geo.scope import get_for_user_or_404


@staff_view(allow=lambda user: user.reads_divisions)
def division_list(request: HttpRequest) -> HttpResponse:
    """The user's own division and the divisions one level below it."""
    user = signed_in_user(request)
    home = get_for_user_or_404(Division.objects.visible_to(user), code=user.division_id)
    return _division_page(request, home)


@staff_view(allow=lambda user: user.reads_divisions)
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = signed_in_user(request)
    division = get_for_user_or_404(Division.objects.visible_to(user), code=code)
    return _division_page(request, division)


def _division_page(request: HttpRequest, division: Division) -> HttpResponse:
    children = (
        Division.objects.filter(parent=division)
        .annotate(subdivisions=Count("children"))
        .order_by("code")
    )
    return render(
        request,
        "geo/division.html",
        {"division": division, "ancestors": division.ancestors(), "children": children},
    )
