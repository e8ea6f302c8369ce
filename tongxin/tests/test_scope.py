"""Every URL of the project, checked against the stock actors: anonymous users are sent to sign
in, outsiders get 404, read-only roles get 403 on writes. A URL added without a case here fails
``test_it_covers_every_url``."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tongxin.testing import STOCK_ACTORS, Access, Actors, check_access

EVERYONE_IN_GAOTAI = tuple(k for k in STOCK_ACTORS if k != "other_county_admin")
CHILD_FILE_READERS = (
    "county_admin",
    "town_supervisor",
    "village_director",
    "department_officer",
    "auditor",
)


def cases(actors: Actors) -> dict[str, list[Access]]:
    """URL name → the accesses to check. Build URLs to real stock objects."""
    village = "620724100201"
    managed = actors.village_director.public_id
    return {
        "login": [Access(reverse("login"), public=True)],
        "logout": [Access(reverse("logout"), method="post", public=True)],
        "set_language": [
            Access(reverse("set_language"), method="post", data={"language": "en"}, public=True)
        ],
        "schema": [Access(reverse("schema"), public=True)],
        "api_docs": [Access(reverse("api_docs"), public=True)],
        "api:auth_token": [
            Access(reverse("api:auth_token"), method="post", data={}, api=True, public=True)
        ],
        "home": [Access(reverse("home"), allowed=EVERYONE_IN_GAOTAI, public=True)],
        "second_factor": [
            Access(reverse("second_factor"), allowed=("county_admin", "village_director"))
        ],
        "geo:division_list": [
            Access(
                reverse("geo:division_list"),
                allowed=(*CHILD_FILE_READERS, "system_admin"),
                outsiders=("reporter",),
            )
        ],
        "geo:division_detail": [
            Access(
                reverse("geo:division_detail", args=[village]),
                allowed=("county_admin", "town_supervisor", "village_director", "auditor"),
                outsiders=(
                    "other_village_director",
                    "other_town_director",
                    "other_county_admin",
                    "reporter",
                ),
            ),
            Access(
                reverse("geo:division_detail", args=["999999999999"]),
                outsiders=("county_admin",),
            ),
        ],
        "accounts:user_list": [
            Access(
                reverse("accounts:user_list"),
                allowed=("county_admin", "system_admin"),
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "auditor",
                ),
            )
        ],
        "accounts:user_create": [
            Access(
                reverse("accounts:user_create"),
                allowed=("county_admin", "system_admin"),
                outsiders=("village_director", "town_supervisor", "reporter"),
                read_only=("auditor",),
            )
        ],
        "accounts:user_detail": [
            Access(
                reverse("accounts:user_detail", args=[managed]),
                allowed=("county_admin", "system_admin"),
                outsiders=("other_county_admin", "village_director", "town_supervisor"),
                read_only=("auditor",),
            ),
            Access(
                reverse("accounts:user_detail", args=[managed]),
                method="post",
                data={"role": "village_director", "division": village, "is_active": "on"},
                outsiders=("other_county_admin", "other_village_director"),
                read_only=("auditor",),
            ),
        ],
        "audit:event_list": [
            Access(
                reverse("audit:event_list"),
                allowed=("county_admin", "auditor"),
                outsiders=("village_director", "town_supervisor", "system_admin", "reporter"),
            )
        ],
        "api:me": [Access(reverse("api:me"), api=True, allowed=EVERYONE_IN_GAOTAI)],
        "api:classify": [
            Access(
                reverse("api:classify"),
                method="post",
                data={
                    "as_of": "2024-06-30",
                    "birth_date": "2012-05-01",
                    "lives_in": "village",
                    "father": {"status": "alive", "capacity": "full", "migrations": []},
                    "mother": {"status": "deceased", "capacity": "full", "migrations": []},
                    "parents_divorced": False,
                    "dibao": False,
                    "tekun": False,
                    "disability_grade": None,
                    "serious_illness": False,
                },
                api=True,
                allowed=EVERYONE_IN_GAOTAI,
            )
        ],
    }


def _names(patterns: list[URLPattern | URLResolver], namespace: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _names(p.url_patterns, ns)
        else:
            yield f"{namespace}{p.name}" if p.name else f"<unnamed {p.pattern}>"


def test_it_covers_every_url(actors: Actors) -> None:
    covered = set(cases(actors))
    missing = sorted(set(_names(get_resolver().url_patterns)) - covered)
    assert not missing, f"URLs without an access case in test_scope.py: {missing}"


def test_it_honours_every_access_case(actors: Actors) -> None:
    failures = [
        line
        for accesses in cases(actors).values()
        for a in accesses
        for line in check_access(a, actors)
    ]
    assert not failures, "\n".join(failures)
