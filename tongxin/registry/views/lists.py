"""Registry views (lists): the children in the user's scope, filtered and counted, and the same
list as an xlsx file."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from django.core.paginator import Page, Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.core.http import render_page_or_fragment, signed_in_user, staff_view, url_pattern
from tongxin.core.xlsx import XLSX_CONTENT_TYPE
from tongxin.exports.services import export_queue, inline_rows
from tongxin.geo.models import PREFIX_LENGTH, Division
from tongxin.registry import agreements, exports
from tongxin.registry.models import CategoryCode, Child, ChildStatus, Enrolment
from tongxin.registry.selectors import (
    ChildFilters,
    age_on,
    child_counts,
    children_for_list,
    filter_divisions,
    masked_id,
)

PAGE_SIZE = 50
# The bands the age filter offers (value: "from-to", inclusive; "16-" has no upper end).
AGE_BANDS: list[tuple[str, Promise]] = [
    ("0-5", _("0–5 years")),
    ("6-11", _("6–11 years")),
    ("12-15", _("12–15 years")),
    ("16-17", _("16–17 years")),
    ("18-", _("18 and over")),
]
# Active files first (the default), then any status, then each other status.
RISK_CHOICES: list[tuple[str, Promise]] = [
    ("high", _("High risk")),
    ("medium", _("Medium risk")),
    ("low", _("Low risk")),
]
STATUS_CHOICES: list[tuple[str, Promise | str]] = [
    (ChildStatus.ACTIVE.value, ChildStatus.ACTIVE.label),
    ("", _("Any status")),
    *[(value, label) for value, label in ChildStatus.choices if value != ChildStatus.ACTIVE],
]
CATEGORY_CHOICES: list[tuple[str, Promise | str]] = [
    ("left_behind", _("Rural left-behind children")),
    ("in_difficulty", _("Children in difficulty")),
    *[(code, label) for code, label in CategoryCode.choices if code != CategoryCode.LEFT_BEHIND],
]


def _reads_files(user: User) -> bool:
    return user.reads_child_files


@dataclass(frozen=True)
class ChildRow:
    """One line of the list, as the page shows it: its words made here rather than by template
    tags in the loop (issue 12, decision 021)."""

    url: str
    name: str
    gender: str
    age: int
    age_text: str  # "9 years"
    birth_date: date
    village: str
    town: str
    id_number: str  # masked; "" when there is none on file
    id_missing: str
    categories: list[str]
    status: str
    is_active: bool
    enrolment: str


@dataclass(frozen=True)
class CategoryCount:
    code: str
    label: Promise | str
    count: int
    url: str
    selected: bool


# The columns a row reads (a child's file has some forty): fewer to fetch and to make models of.
ROW_FIELDS = (
    "public_id",
    "name",
    "gender",
    "birth_date",
    "id_number_enc",
    "id_missing_reason",
    "categories",
    "status",
    "enrolment",
    "village__name",
    "village__parent__name",
)


def _rows(page: Page[Child], today: date) -> list[ChildRow]:
    # The labels of each choice once a page, not ``get_FOO_display()`` (which rebuilds the
    # field's choices on each call) five times a row.
    labels = {code: str(label) for code, label in CategoryCode.choices}
    genders = {code: str(label) for code, label in Child._meta.get_field("gender").flatchoices}
    statuses = {code: str(label) for code, label in ChildStatus.choices}
    enrolments = {code: str(label) for code, label in Enrolment.choices}
    missing = {
        code: str(label) for code, label in Child._meta.get_field("id_missing_reason").flatchoices
    }
    file_url = url_pattern("registry:child_detail")
    rows = []
    for c in page:
        village = c.village
        town = village.parent.name if village.parent_id and village.parent else ""
        age = age_on(c.birth_date, today)
        rows.append(
            ChildRow(
                url=file_url(c.public_id),
                name=c.name,
                gender=genders.get(c.gender, c.gender),
                age=age,
                age_text=ngettext("%(age)s year", "%(age)s years", age) % {"age": age},
                birth_date=c.birth_date,
                village=village.name,
                town=town,
                # Decrypting one page (50 rows) in memory to mask it is cheap; the full number
                # never leaves this function.
                id_number=masked_id(c.id_number_enc),
                id_missing=(
                    missing.get(c.id_missing_reason, c.id_missing_reason)
                    if not c.id_number_enc
                    else ""
                ),
                categories=[labels.get(code, code) for code in c.category_codes],
                status=statuses.get(c.status, c.status),
                is_active=c.status == ChildStatus.ACTIVE,
                enrolment=enrolments.get(c.enrolment, c.enrolment),
            )
        )
    return rows


def _query(params: QueryDict, **changes: str) -> str:
    """The query string of ``params`` with ``changes`` applied (empty values dropped) and the
    page number reset."""
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    return query.urlencode()


@dataclass(frozen=True)
class DivisionOption:
    code: str
    name: str
    indent: bool  # a village under the town listed above it


def _division_options(divisions: list[Division]) -> list[DivisionOption]:
    top = min((PREFIX_LENGTH[d.level] for d in divisions), default=0)
    return [DivisionOption(d.code, d.name, PREFIX_LENGTH[d.level] > top) for d in divisions]


@staff_view(allow=_reads_files)
def child_list(request: HttpRequest) -> HttpResponse:
    """The children in the user's scope, filtered, counted and paged (50 a page). A filter
    whose value the list does not take (an address edited by hand) is left out, and named
    with the reason on the filter form (400)."""
    user = signed_in_user(request)
    filters, errors = ChildFilters.parse(request.GET)
    return _list_page(request, user, filters, errors)


def _list_page(
    request: HttpRequest, user: User, filters: ChildFilters, errors: dict[str, list[str]]
) -> HttpResponse:
    today = timezone.localdate()
    # The counts per category are over the other filters, so that they show where else to go;
    # the one for the chosen category is the length of the list.
    counts = child_counts(children_for_list(user, replace(filters, category=""), today=today))
    total = counts.by_category.get(filters.category, 0) if filters.category else counts.total
    children = children_for_list(user, filters, today=today)
    paginator = Paginator(
        children.select_related("village", "village__parent").only(*ROW_FIELDS), PAGE_SIZE
    )
    # The total is already counted: spare the paginator its own COUNT query.
    paginator.__dict__["count"] = total
    page = paginator.get_page(request.GET.get("page"))
    base = reverse("registry:child_list")
    category_counts = [
        CategoryCount(
            code=code,
            label=label,
            count=counts.by_category.get(code, 0),
            url=f"{base}?{_query(request.GET, category=code)}",
            selected=code == filters.category,
        )
        for code, label in CATEGORY_CHOICES
    ]
    export_base = reverse("registry:child_export")
    export_url = f"{export_base}?{_query(request.GET, full_ids='')}"
    return render_page_or_fragment(
        request,
        "registry/child_list.html",
        "registry/child_list.html#results",
        {
            "page": page,
            "rows": _rows(page, today),
            "filters": filters,
            "age_band": request.GET.get("age", ""),
            "total": total,
            "all_categories_count": counts.total,
            "all_categories_url": f"{base}?{_query(request.GET, category='')}",
            "category_counts": category_counts,
            "divisions": _division_options(filter_divisions(user)),
            "category_choices": CATEGORY_CHOICES,
            "status_choices": STATUS_CHOICES,
            "enrolment_choices": Enrolment.choices,
            "risk_choices": RISK_CHOICES,
            "age_bands": AGE_BANDS,
            "all_url": base,
            "export_url": export_url,
            # A long list is written by the worker: its link opens a page, not a download.
            "export_later": total > inline_rows(),
            "export_full_url": f"{export_base}?{_query(request.GET, full_ids='1')}"
            if user.reveals_id_numbers
            else "",
            "filter_errors": [message for messages in errors.values() for message in messages],
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_view(allow=_reads_files)
def child_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as an xlsx file: every matching row, ID numbers masked unless a role
    that may reveal them asks for them (``full_ids=1``). Audited with the row count. A list
    longer than the exports' inline limit is written by the worker: the GET asks to confirm,
    the POST queues it and sends the user to the export's page."""
    user = signed_in_user(request)
    filters, errors = ChildFilters.parse(request.GET)
    if errors:
        # Nothing is exported on filters the user did not mean: the list shows what is wrong.
        return _list_page(request, user, filters, errors)
    if request.method == "POST":
        run = export_queue(actor=user, kind="children", params=request.GET.dict(), request=request)
        return redirect("exports:export_detail", run.public_id)
    rows = children_for_list(user, filters).count()
    if rows > inline_rows():
        return render(
            request,
            "exports/confirm.html",
            {"title": _("List of children"), "rows": rows, "back": reverse("registry:child_list")},
        )
    exported = exports.children_export(
        actor=user,
        filters=filters,
        full_ids=request.GET.get("full_ids") == "1",
        request=request,
    )
    response = FileResponse(
        exported.file,
        as_attachment=True,
        filename=exported.filename,
        content_type=XLSX_CONTENT_TYPE,
    )
    # Personal data: no copy kept by the browser or any proxy on the way.
    patch_cache_control(response, no_store=True, private=True)
    # A FileResponse streams the file; staff_view types views as returning HttpResponse.
    return response  # type: ignore[return-value]


@staff_view(allow=_reads_files)
def agreement_expiring_list(request: HttpRequest) -> HttpResponse:
    """Every care agreement in the user's area that ends within 30 days, soonest first (the
    home page's panel shows the first few): the children, the caregiver, the end date."""
    user = signed_in_user(request)
    page = Paginator(agreements.expiring_queryset(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registry/agreements_expiring.html",
        {
            "page": page,
            "items": [agreements.ExpiringItem(a) for a in page],
            "days": agreements.EXPIRING_WITHIN_DAYS,
        },
    )


urlpatterns: list[URLPattern] = [
    path("", child_list, name="child_list"),
    path("export.xlsx", child_export, name="child_export"),
    path("agreements/expiring/", agreement_expiring_list, name="agreement_expiring_list"),
]
