from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongxin.accounts.decorators import staff_view
from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.geo.models import Division
from tongxin.geo.scope import get_for_user_or_404


def _reads_divisions(user: User) -> bool:
    return user.reads_child_files or user.manages_users or user.role == Role.DEPARTMENT_OFFICER


@staff_view(allow=_reads_divisions)
def division_list(request: HttpRequest) -> HttpResponse:
    """The user's own division and the divisions one level below it."""
    user = request.user
    assert isinstance(user, User)
    home = get_for_user_or_404(Division.objects.visible_to(user), code=user.division_id)
    return _division_page(request, home)


@staff_view(allow=_reads_divisions)
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    division = get_for_user_or_404(Division.objects.visible_to(request.user), code=code)  # type: ignore[arg-type]
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
