"""Test support shared by every app: the stock actors and the access checker.

The stock world is built once per test database (see ``conftest.py``): one county with two
towns, villages in each, and one account per role, plus the actors that must be refused
(a director of another village, an officer of another department, an admin of another county).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from tongxin.accounts.models import (
    Department,
    InstitutionType,
    Organisation,
    OrganisationKind,
    User,
)
from tongxin.accounts.roles import SECOND_FACTOR_ROLES, Role
from tongxin.geo.models import Division, Level

PASSWORD = "Stock-Password-42"

# code, name, level, parent
STOCK_DIVISIONS: list[tuple[str, str, str, str | None]] = [
    ("620000000000", "甘肃省", Level.PROVINCE, None),
    ("620700000000", "张掖市", Level.CITY, "620000000000"),
    ("620724000000", "高台县", Level.COUNTY, "620700000000"),
    ("620724100000", "城关镇", Level.TOWN, "620724000000"),
    ("620724100001", "城关镇社区", Level.COMMUNITY, "620724100000"),
    ("620724100201", "东村", Level.VILLAGE, "620724100000"),
    ("620724100202", "西村", Level.VILLAGE, "620724100000"),
    ("620724101000", "宣化镇", Level.TOWN, "620724000000"),
    ("620724101201", "南村", Level.VILLAGE, "620724101000"),
    ("620702000000", "甘州区", Level.COUNTY, "620700000000"),
    ("620702100000", "梁家墩镇", Level.TOWN, "620702000000"),
]

# key: (role, division, organisation key)
STOCK_ACTORS: dict[str, tuple[str, str, str | None]] = {
    "county_admin": (Role.COUNTY_ADMIN, "620724000000", "civil_affairs"),
    "town_supervisor": (Role.TOWN_SUPERVISOR, "620724100000", None),
    "village_director": (Role.VILLAGE_DIRECTOR, "620724100201", None),
    "other_village_director": (Role.VILLAGE_DIRECTOR, "620724100202", None),
    "other_town_director": (Role.VILLAGE_DIRECTOR, "620724101201", None),
    "department_officer": (Role.DEPARTMENT_OFFICER, "620724000000", "police"),
    "other_department_officer": (Role.DEPARTMENT_OFFICER, "620724000000", "education"),
    "reporter": (Role.REPORTER, "620724100000", "school"),
    "auditor": (Role.AUDITOR, "620724000000", None),
    "system_admin": (Role.SYSTEM_ADMIN, "620724000000", None),
    "security_admin": (Role.SECURITY_ADMIN, "620724000000", None),
    "other_county_admin": (Role.COUNTY_ADMIN, "620702000000", "other_civil_affairs"),
}

STOCK_ORGANISATIONS: dict[str, tuple[str, str, str, str]] = {
    # key: (name, kind, department, division)
    "civil_affairs": (
        "高台县民政局",
        OrganisationKind.DEPARTMENT,
        Department.CIVIL_AFFAIRS,
        "620724000000",
    ),
    "police": ("高台县公安局", OrganisationKind.DEPARTMENT, Department.POLICE, "620724000000"),
    "education": (
        "高台县教育局",
        OrganisationKind.DEPARTMENT,
        Department.EDUCATION,
        "620724000000",
    ),
    "school": ("城关镇中心小学", OrganisationKind.INSTITUTION, "", "620724100000"),
    "other_civil_affairs": (
        "甘州区民政局",
        OrganisationKind.DEPARTMENT,
        Department.CIVIL_AFFAIRS,
        "620702000000",
    ),
}

# An institution's type (required for institutions).
STOCK_INSTITUTION_TYPES: dict[str, str] = {"school": InstitutionType.SCHOOL}


def build_stock_world() -> None:
    """Create the stock divisions, organisations and actors (idempotent)."""
    for code, name, level, parent in STOCK_DIVISIONS:
        Division.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent_id": parent}
        )
    orgs = {}
    for key, (name, kind, department, division) in STOCK_ORGANISATIONS.items():
        orgs[key], _ = Organisation.objects.get_or_create(
            name=name,
            division_id=division,
            defaults={
                "kind": kind,
                "department": department,
                "institution_type": STOCK_INSTITUTION_TYPES.get(key, ""),
            },
        )
    for username, (role, division, org) in STOCK_ACTORS.items():
        if User.objects.filter(username=username).exists():
            continue
        user = User(
            username=username,
            name=username.replace("_", " "),
            role=role,
            division_id=division,
            organisation=orgs[org] if org else None,
        )
        user.set_password(PASSWORD)
        user.save()
        if role in SECOND_FACTOR_ROLES:
            TOTPDevice.objects.create(user=user, name="default", confirmed=True)


@dataclass
class Actors:
    """Lazy access to the stock actors by key: ``actors.village_director``."""

    _cache: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, key: str) -> User:
        if key.startswith("_") or key not in STOCK_ACTORS:
            raise AttributeError(key)
        if key not in self._cache:
            self._cache[key] = User.objects.get(username=key)
        return self._cache[key]


def web_client(user: User | None) -> Client:
    """A browser session signed in as ``user`` (second factor passed where the role needs it)."""
    client = Client()
    if user is None:
        return client
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def api_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        _, token = AuthToken.objects.create(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@dataclass(frozen=True)
class Access:
    """One URL and who must (and must not) reach it.

    ``allowed`` reach it; ``outsiders`` get 404 (the same as for a URL that is not there);
    ``read_only`` get 403 (writes only). Anonymous users are sent to sign in (HTML) or get
    401 (API).
    """

    url: str
    method: str = "get"
    data: dict[str, Any] | None = None
    api: bool = False
    allowed: tuple[str, ...] = ()
    outsiders: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    public: bool = False


def _request(client: Client, access: Access) -> Any:
    call = getattr(client, access.method)
    if access.api and access.data is not None:
        return call(access.url, access.data, format="json")
    return call(access.url, access.data or {})


# What one request of an access check (an actor's, or nobody's) must get.
Expectation = Literal["anonymous", "allowed", "outsider", "read_only"]


class Expectations(Protocol):
    """Who must (and must not) reach a URL: an ``Access``, or a case whose URL is built later."""

    @property
    def allowed(self) -> tuple[str, ...]: ...
    @property
    def outsiders(self) -> tuple[str, ...]: ...
    @property
    def read_only(self) -> tuple[str, ...]: ...


def access_cells(access: Expectations) -> list[tuple[Expectation, str | None]]:
    """Each request an access check makes, as (expectation, actor key): anonymous first."""
    return [
        ("anonymous", None),
        *(("allowed", key) for key in access.allowed),
        *(("outsider", key) for key in access.outsiders),
        *(("read_only", key) for key in access.read_only),
    ]


def check_cell(
    access: Access, actors: Actors, expectation: Expectation, key: str | None
) -> str | None:
    """How one request of ``access`` breaks its expectation, as a readable line (None: it
    does not)."""
    make = api_client if access.api else web_client
    response = _request(make(None if key is None else getattr(actors, key)), access)
    status = response.status_code
    failure = None
    if expectation == "anonymous":
        if access.public:
            if status in (401, 403, 404) or status >= 500:
                failure = f"anonymous: {status}, expected the public page"
        elif access.api:
            if status != 401:
                failure = f"anonymous: {status}, expected 401"
        elif not (status == 302 and "/accounts/login/" in response["Location"]):
            failure = f"anonymous: {status}, expected a redirect to sign in"
    elif expectation == "allowed":
        if status in (401, 403, 404) or status >= 500:
            failure = f"{key}: {status}, expected access"
    elif expectation == "outsider":
        if status != 404:
            failure = f"{key} (outsider): {status}, expected 404"
    elif status != 403:
        failure = f"{key} (read-only): {status}, expected 403"
    return None if failure is None else f"{access.method.upper()} {access.url} — {failure}"


def signed_in(client: Client) -> bool:
    """Whether ``client`` reaches its home page as a signed-in user (the address "/" shows the
    sign-in page to everyone else, and holds a user awaiting the second factor at the 2FA page)."""
    response = client.get("/")
    return response.status_code == 200 and bool(response.wsgi_request.user.is_authenticated)


def drawn_bars(html: str, chart_id: str) -> list[tuple[str, list[tuple[float, str]]]]:
    """The bar chart ``chart_id`` as a page draws it (core/bar_chart.html): for each row, its
    label and, for each bar, its length (percent of the chart's width; 0 where no bar is drawn)
    and the value written after it."""
    found = re.search(rf'<figure class="bar-chart" id="{chart_id}">.*?</figure>', html, re.S)
    assert found, f"no chart {chart_id}"
    figure = ET.fromstring(found[0])  # noqa: S314
    rows = []
    for group in figure.iter("g"):
        label = next(t for t in group.iter("text") if t.get("class") == "bar-label")
        bars: list[tuple[float, str]] = []
        for element in group:
            kind = element.get("class", "")
            if kind == "bar-track":
                bars.append((0.0, ""))
            elif kind.startswith("bar bar-"):
                bars[-1] = (float(element.get("width", "").rstrip("%")), "")
            elif kind == "bar-value":
                bars[-1] = (bars[-1][0], element.text or "")
        rows.append(((label.text or "").strip(), bars))
    return rows


# --- PostgreSQL: the tests run as the application's runtime role ------------------------------


def _runtime_role_name() -> str:
    """One role per test database (each pytest-xdist worker has its own database)."""
    name = re.sub(r"[^a-z0-9_]", "_", str(connection.settings_dict["NAME"]).lower())
    return f"{name[:50]}_runtime"


def _set_role(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    from django.db import connection as default

    if connection.vendor == "postgresql" and (
        connection.settings_dict["NAME"] == default.settings_dict["NAME"]
    ):
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {_runtime_role_name()}")


def runtime_role_start() -> str | None:
    """On PostgreSQL, once the test database is migrated and the stock world built (as the
    owner): make a runtime role with exactly the application's privileges
    (``audit.database.grant_runtime``) and switch this connection, and every later one to the
    test database, to it. The connecting user stays the session's user (``SET ROLE``), so a
    test that plays the person with the database (``database_owner``) can switch back."""
    from tongxin.audit.database import grant_runtime

    if connection.vendor != "postgresql":
        return None
    role = _runtime_role_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    grant_runtime(connection, role)
    connection_created.connect(_set_role, dispatch_uid="tongxin.testing.runtime_role")
    _set_role(None, connection)
    return role


def runtime_role_stop(role: str | None) -> None:
    if role is None:
        return
    connection_created.disconnect(dispatch_uid="tongxin.testing.runtime_role")
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


@contextmanager
def database_owner() -> Iterator[None]:
    """Inside a test: act as the person who has the database (the tables' owner, who can drop
    triggers and change rows), then go back to the runtime role. On SQLite everyone is."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {role}")
