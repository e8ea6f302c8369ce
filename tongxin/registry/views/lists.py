"""Registry views (lists): the children in the user's scope, filtered and counted, and the same
list as an xlsx file."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.functional import Promise
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from tongxin.accounts import credentials
from tongxin.accounts.models import User
from tongxin.core.http import (
    render_page_or_fragment,
    signed_in_user,
    staff_view,
    url_pattern,
    wants_fragment,
)
from tongxin.core.pagecache import keep_until_data_changes
from tongxin.core.xlsx import XLSX_CONTENT_TYPE, ExportedFile
from tongxin.exports.services import export_queue, inline_rows
from tongxin.geo.models import PREFIX_LENGTH
from tongxin.lib import idcard
from tongxin.registry import agreements, exports
from tongxin.registry.models import CategoryCode, Child, ChildStatus, Enrolment
from tongxin.registry.selectors import (
    ChildFilters,
    DivisionChoice,
    age_on,
    child_counts,
    children_for_list,
    filter_divisions,
    id_search_hash,
    looks_like_id_number,
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
    "archived_on",
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
                name=c.shown_name,
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


def _division_options(divisions: list[DivisionChoice]) -> list[DivisionOption]:
    top = min((PREFIX_LENGTH[d.level] for d in divisions), default=0)
    return [DivisionOption(d.code, d.name, PREFIX_LENGTH[d.level] > top) for d in divisions]


def _division_options_html(options: list[DivisionOption], selected: str) -> SafeString:
    """The division filter's ``<option>``s, made once here: a county's 150-odd through the
    template's loop cost more than the rest of the form (decision 021)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}{}</option>',
        (
            # " selected" and the indent hold nothing to escape.
            (o.code, " selected" if o.code == selected else "", "　" if o.indent else "", o.name)
            for o in options
        ),
    )


# ID numbers searched for in this session, as keyed hash and masked number, under the short
# random token the list's address carries instead (``?idq=``): the number itself is never in a
# URL, so never in an access log or the browser's history.
ID_SEARCHES_KEY = "registry.id_searches"
_ID_SEARCHES_KEPT = 20
ID_SEARCH_EXPIRED = _("That search by ID number has expired: type the number again.")
# Parameters of the list that are never carried on into an export's query.
_NOT_FILTERS = ("csrfmiddlewaretoken", "page", "full_ids", "reason", "id_hash")


@dataclass(frozen=True)
class IdSearch:
    token: str
    masked: str


def _id_search_keep(request: HttpRequest, number: str) -> str:
    token = secrets.token_urlsafe(6)
    kept = dict(request.session.get(ID_SEARCHES_KEY, {}))
    kept[token] = {"hash": id_search_hash(number), "masked": idcard.mask(number)}
    request.session[ID_SEARCHES_KEY] = dict(list(kept.items())[-_ID_SEARCHES_KEPT:])
    return token


def _filters(
    request: HttpRequest, params: QueryDict
) -> tuple[ChildFilters, dict[str, list[str]], IdSearch | None]:
    """The list's filters from its query string, an ID number searched for (``idq``) read back
    from the session; a token the session no longer holds is an error on the form."""
    filters, errors = ChildFilters.parse(params)
    token = params.get("idq", "")
    if not token:
        return filters, errors, None
    kept = request.session.get(ID_SEARCHES_KEY, {}).get(token)
    if not isinstance(kept, dict):
        errors.setdefault("idq", []).append(str(ID_SEARCH_EXPIRED))
        return filters, errors, None
    return replace(filters, id_hash=kept["hash"]), errors, IdSearch(token, kept["masked"])


def _list_query(request: HttpRequest, params: QueryDict) -> QueryDict:
    """The list's query string for what the search form sent: an ID number typed into the
    search box is swapped for a token (``_id_search_keep``); a new search ends the ID one."""
    query = params.copy()
    for name in _NOT_FILTERS:
        query.pop(name, None)
    if number := looks_like_id_number(query.get("q", "")):
        query.pop("q")
        query["idq"] = _id_search_keep(request, number)
    elif query.get("q", "").strip() or not query.get("idq"):
        query.pop("idq", None)
    return query


@require_http_methods(["GET", "POST"])
@staff_view(allow=_reads_files)
@keep_until_data_changes
def child_list(request: HttpRequest) -> HttpResponse:
    """The children in the user's scope, filtered, counted and paged (50 a page). A filter
    whose value the list does not take (an address edited by hand) is left out, and named
    with the reason on the filter form (400). The filter form is sent by POST and answered
    with the list's address (a redirect, or for htmx ``HX-Location``), an ID number in it
    swapped for a token; an ID number in a GET's ``q`` (an old bookmark) is swapped too."""
    user = signed_in_user(request)
    if request.method == "POST" or looks_like_id_number(request.GET.get("q", "")):
        params = request.POST if request.method == "POST" else request.GET
        url = f"{reverse('registry:child_list')}?{_list_query(request, params).urlencode()}"
        if wants_fragment(request):
            response = HttpResponse(status=204)
            response["HX-Location"] = json.dumps(
                {"path": url, "target": "#results", "swap": "outerHTML"}
            )
            return response
        return redirect(url)
    filters, errors, id_search = _filters(request, request.GET)
    return _list_page(request, user, filters, errors, id_search)


def _list_page(
    request: HttpRequest,
    user: User,
    filters: ChildFilters,
    errors: dict[str, list[str]],
    id_search: IdSearch | None = None,
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
    full_base = reverse("registry:child_export_full")
    divisions = _division_options(filter_divisions(user))
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
            "divisions": divisions,
            "division_options": _division_options_html(divisions, filters.division),
            "category_choices": CATEGORY_CHOICES,
            "status_choices": STATUS_CHOICES,
            "enrolment_choices": Enrolment.choices,
            "risk_choices": RISK_CHOICES,
            "age_bands": AGE_BANDS,
            "all_url": base,
            "export_url": export_url,
            # A long list is written by the worker: its link opens a page, not a download.
            "export_later": total > inline_rows(),
            "export_full_url": f"{full_base}?{_query(request.GET, full_ids='')}"
            if user.reveals_id_numbers
            else "",
            "id_search": id_search,
            "filter_errors": [message for messages in errors.values() for message in messages],
        },
        status=400 if errors else 200,
    )


def _export_params(params: QueryDict, filters: ChildFilters) -> dict[str, str]:
    """The query an export is queued with: the filters, an ID number searched for as its keyed
    hash (the worker has no session)."""
    kept = {k: str(params.get(k, "")) for k in params if k not in _NOT_FILTERS and k != "idq"}
    if filters.id_hash:
        kept["id_hash"] = filters.id_hash
    return kept


def _file_response(exported: ExportedFile) -> HttpResponse:
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


@require_http_methods(["GET", "POST"])
@staff_view(allow=_reads_files)
def child_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as an xlsx file: every matching row, ID numbers masked (full numbers
    are asked for on their own form, ``child_export_full``). Audited with the row count. A
    list longer than the exports' inline limit is written by the worker: the GET asks to
    confirm, the POST queues it and sends the user to the export's page."""
    user = signed_in_user(request)
    filters, errors, id_search = _filters(request, request.GET)
    if errors:
        # Nothing is exported on filters the user did not mean: the list shows what is wrong.
        return _list_page(request, user, filters, errors, id_search)
    if request.method == "POST":
        params = _export_params(request.GET, filters)
        run = export_queue(actor=user, kind="children", params=params, request=request)
        return redirect("exports:export_detail", run.public_id)
    rows = children_for_list(user, filters).count()
    if rows > inline_rows():
        return render(
            request,
            "exports/confirm.html",
            {"title": _("List of children"), "rows": rows, "back": reverse("registry:child_list")},
        )
    return _file_response(exports.children_export(actor=user, filters=filters, request=request))


class FullIdExportForm(forms.Form):
    """Why the full numbers are needed, and the person's password (or, when they have one, the
    code from their authenticator app) once more."""

    reason = forms.ChoiceField(
        label=_("Why the full ID numbers are needed"),
        choices=exports.FullIdReason.choices,
        widget=forms.RadioSelect,
    )
    secret = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, code: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if code:
            secret = self.fields["secret"]
            secret.label = _("Code from your authenticator app")
            secret.widget = forms.TextInput(
                attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8}
            )


def _reveals_ids(user: User) -> bool:
    return user.reads_child_files and user.reveals_id_numbers


@require_http_methods(["GET", "POST"])
@staff_view(allow=_reveals_ids)
def child_export_full(request: HttpRequest) -> HttpResponse:
    """The filtered list with full ID numbers: asked for by POST with a reason from a fixed
    list and the person's password (or second-factor code) once more, within a daily cap of
    numbers per person. A wrong password is audited as a failed attempt, and as many as
    sign-in allows lock the form for its cool-off (429); a list longer than the inline limit
    is queued for the worker, which meets the same cap."""
    user = signed_in_user(request)
    filters, errors, id_search = _filters(request, request.GET)
    if errors:
        return _list_page(request, user, filters, errors, id_search)
    code = credentials.has_second_factor(user)
    form = FullIdExportForm(request.POST if request.method == "POST" else None, code=code)
    children = children_for_list(user, filters)
    rows = children.count()
    status = 200
    if request.method == "POST":
        status = 400
        valid = form.is_valid()
        try:
            exports.full_id_export_check_attempts(user)
        except exports.TooManyWrongAnswers as locked:
            form.add_error(None, str(locked))
            status = 429
        else:
            if valid and (done := _confirmed_export(request, user, filters, form, code)):
                return done
    response = render(
        request,
        "registry/child_export_full.html",
        {
            "form": form,
            "rows": rows,
            "ids": exports.id_numbers_in(children),
            "left": exports.full_ids_left_today(user),
            "cap": exports.full_id_daily_cap(),
            "later": rows > inline_rows(),
            "back": f"{reverse('registry:child_list')}?{_query(request.GET)}",
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _confirmed_export(
    request: HttpRequest, user: User, filters: ChildFilters, form: FullIdExportForm, code: bool
) -> HttpResponse | None:
    """The export, once the password (or code) is right; None with the error on the form."""
    reason = form.cleaned_data["reason"]
    if not credentials.identity_confirmed(user, form.cleaned_data["secret"]):
        exports.full_id_export_refused(
            actor=user, reason=reason, why="credentials", request=request
        )
        form.add_error(
            "secret",
            _("That code is not right, or has expired.")
            if code
            else _("That is not your password."),
        )
        return None
    try:
        return _export_full(request, user, filters, reason)
    except exports.FullIdCapReached as refused:
        form.add_error(None, str(refused))
        return None


def _export_full(
    request: HttpRequest, user: User, filters: ChildFilters, reason: str
) -> HttpResponse:
    children = children_for_list(user, filters)
    if children.count() > inline_rows():
        # Refused here already when it cannot pass the cap; the worker checks it again.
        exports.full_id_cap_check(actor=user, children=children, reason=reason, request=request)
        params = {**_export_params(request.GET, filters), "full_ids": "1", "reason": reason}
        run = export_queue(actor=user, kind="children", params=params, request=request)
        return redirect("exports:export_detail", run.public_id)
    exported = exports.children_export(
        actor=user, filters=filters, full_ids=True, reason=reason, request=request
    )
    return _file_response(exported)


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
    path("export-full/", child_export_full, name="child_export_full"),
    path("agreements/expiring/", agreement_expiring_list, name="agreement_expiring_list"),
]
