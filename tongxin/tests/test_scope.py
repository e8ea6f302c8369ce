"""Every URL of the project, checked against the stock actors: anonymous users are sent to sign
in, outsiders get 404, read-only roles get 403 on writes. A URL added without a case here fails
``test_it_covers_every_url``.

The cases are static data, known when pytest collects: each names its URL and who must (and
must not) reach it, and builds its URL's arguments from a ``World`` (the objects the URLs point
at). Each request is one test with a readable id (``reports:report_detail-get-outsider-
other_village_director``), so a failure names its cell and xdist spreads the cells. The world
is built once per module in a transaction rolled back at the module's end; each test rolls its
own requests back inside it, as Django's ``setUpTestData`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tongxin.privacy_guard import guard
from tongxin.testing import (
    STOCK_ACTORS,
    Access,
    Actors,
    Expectation,
    access_cells,
    check_cell,
)

EVERYONE_IN_GAOTAI = tuple(k for k in STOCK_ACTORS if k != "other_county_admin")
# The administrators of accounts and of security: they read no child's data by any path.
ACCOUNT_ADMINS = ("system_admin", "security_admin")
CHILD_FILE_READERS = (
    "county_admin",
    "town_supervisor",
    "village_director",
    "department_officer",
    "auditor",
)

# Roles that list children's files (each inside its own scope), and those that may not.
LIST_READERS = ("county_admin", "town_supervisor", "village_director", "auditor")
LIST_OUTSIDERS = ("department_officer", "reporter", *ACCOUNT_ADMINS)


@dataclass(frozen=True)
class World:
    """The objects the cases' URLs point at (their public ids), built for the stock world."""

    managed: UUID  # the village director's account, as administrators manage it
    grant: UUID  # a request for a county officer's role, awaiting a second person
    school: UUID
    pair: UUID
    transfer: UUID
    file_child: UUID
    agreement: UUID
    spell: UUID
    batch: UUID
    roll: UUID
    risk_child: UUID
    contact_child: UUID
    contact: UUID
    report: UUID
    attachment: UUID
    task: UUID
    problem_child: UUID
    problem: UUID
    other_problem: UUID
    referral: UUID
    referral_report: UUID
    police: UUID
    intervention_child: UUID
    intervention: UUID
    intervention_document: UUID
    export: UUID
    benefit_child: UUID
    benefit_enrolment: UUID


@dataclass(frozen=True)
class Case:
    """One access to a URL name: its arguments and query (built from the world, or fixed), the
    request, and who must and must not reach it. ``label`` tells apart two cases of one URL
    name and method (it goes into the test ids)."""

    args: Callable[[World], Sequence[object]] | Sequence[object] = ()
    query: Callable[[World], str] | str = ""
    label: str = ""
    method: str = "get"
    data: Callable[[World], dict[str, Any]] | dict[str, Any] | None = None
    api: bool = False
    allowed: tuple[str, ...] = ()
    outsiders: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    public: bool = False

    def access(self, name: str, world: World) -> Access:
        args = self.args(world) if callable(self.args) else self.args
        query = self.query(world) if callable(self.query) else self.query
        return Access(
            reverse(name, args=args) + query,
            method=self.method,
            data=self.data(world) if callable(self.data) else self.data,
            api=self.api,
            allowed=self.allowed,
            outsiders=self.outsiders,
            read_only=self.read_only,
            public=self.public,
        )


def base_cases() -> dict[str, list[Case]]:
    """Signing in, the home page, divisions, accounts, the audit log, the lists of children and
    the stateless API."""
    village = "620724100201"
    cases: dict[str, list[Case]] = {
        "login": [Case(public=True)],
        "logout": [Case(method="post", public=True)],
        "set_language": [Case(method="post", data={"language": "en"}, public=True)],
        "schema": [Case(public=True)],
        "api_docs": [Case(public=True)],
        "healthz": [Case(public=True)],
        "api:auth_token": [
            Case(method="post", data={}, api=True, public=True),
            # Revokes the token the request carries: everyone's own.
            Case(method="delete", api=True, allowed=(*EVERYONE_IN_GAOTAI, "other_county_admin")),
        ],
        "home": [Case(allowed=EVERYONE_IN_GAOTAI, public=True)],
        "second_factor": [Case(allowed=("county_admin", "village_director", "security_admin"))],
        "geo:division_list": [
            Case(allowed=(*CHILD_FILE_READERS, "system_admin"), outsiders=("reporter",))
        ],
        "geo:division_detail": [
            Case(
                args=[village],
                allowed=("county_admin", "town_supervisor", "village_director", "auditor"),
                outsiders=(
                    "other_village_director",
                    "other_town_director",
                    "other_county_admin",
                    "reporter",
                ),
            ),
            Case(args=["999999999999"], label="unknown", outsiders=("county_admin",)),
        ],
        **account_cases(),
        **organisation_cases(),
        "audit:event_list": [
            Case(
                allowed=("county_admin", "auditor"),
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "system_admin",
                    "security_admin",
                    "reporter",
                ),
            )
        ],
        "audit:anchor_download": [
            Case(
                allowed=("county_admin", "auditor"),
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "system_admin",
                    "security_admin",
                    "reporter",
                ),
            )
        ],
        # Lists of children: every file reader gets a list of their own scope (possibly
        # empty); roles that read no files get 404.
        **{
            name: [
                Case(
                    api=name.startswith("api:"),
                    allowed=(*LIST_READERS, "other_county_admin"),
                    outsiders=LIST_OUTSIDERS,
                )
            ]
            for name in (
                "registry:child_list",
                "registry:child_export",
                "registry:agreement_expiring_list",
                "api:child_list",
            )
        },
    }
    cases["registry:child_export"].append(
        # Queues the export for the worker (exports_cases: its page is the asker's alone).
        Case(method="post", allowed=(*LIST_READERS, "other_county_admin"), outsiders=LIST_OUTSIDERS)
    )
    # The filter form, sent by POST (an ID number never goes in the URL).
    cases["registry:child_list"].append(
        Case(
            method="post",
            data={"q": "620724201405014132"},
            allowed=(*LIST_READERS, "other_county_admin"),
            outsiders=LIST_OUTSIDERS,
        )
    )
    cases["api:child_search"] = [
        Case(
            method="post",
            api=True,
            data={"id_number": "620724201405014132"},
            allowed=(*LIST_READERS, "other_county_admin"),
            outsiders=LIST_OUTSIDERS,
        )
    ]
    # Full ID numbers: only the roles that may reveal them (not the auditor).
    revealers = ("county_admin", "town_supervisor", "village_director", "other_county_admin")
    cases["registry:child_export_full"] = [
        Case(allowed=revealers, outsiders=("auditor", *LIST_OUTSIDERS)),
        Case(
            method="post",
            data={"reason": "supervision", "secret": "not-the-password"},
            allowed=revealers,
            outsiders=("auditor", *LIST_OUTSIDERS),
        ),
    ]
    return cases


def api_rule_cases() -> dict[str, list[Case]]:
    """The stateless API: who the user is, and the classification and eligibility rules."""
    return {
        "api:me": [Case(api=True, allowed=EVERYONE_IN_GAOTAI)],
        "api:classify": [
            Case(
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
        "api:eligibility": [
            Case(
                method="post",
                data={
                    "as_of": "2024-06-30",
                    "birth_date": "2012-05-01",
                    "in_institution": False,
                    "schooling": "primary",
                    "adopted": False,
                    "deceased": False,
                    "hukou_in_county": True,
                    "disability": None,
                    "household": {"dibao": False, "low_income": False, "tekun": False},
                    "enrolled": [],
                    "father": {"state": "able"},
                    "mother": {"state": "deceased"},
                },
                api=True,
                allowed=EVERYONE_IN_GAOTAI,
            )
        ],
    }


def worklist_cases() -> dict[str, list[Case]]:
    """The worklist: each worker's own; a county officer or auditor reads a village's or a
    town's; a village or town outside the scope answers 404 like one that is not there."""
    roles = ("county_admin", "town_supervisor", "village_director", "auditor")
    others = ("department_officer", "reporter", "system_admin", "security_admin")
    village = "?village=620724100201"
    not_theirs = ("other_village_director", "other_town_director", "other_county_admin")
    return {
        "visits:worklist": [
            Case(allowed=(*roles, "other_county_admin"), outsiders=others),
            Case(
                query=village,
                label="village",
                allowed=roles,
                outsiders=(*not_theirs, *others),
            ),
            Case(
                query="?village=620724101000",
                label="other_town",
                allowed=("county_admin",),
                outsiders=not_theirs,
            ),
        ],
        "api:worklist": [
            Case(api=True, allowed=(*roles, "other_county_admin"), outsiders=others),
            Case(
                query=village + "&as_of=2024-06-30",
                label="village",
                api=True,
                allowed=roles,
                outsiders=(*not_theirs, *others),
            ),
        ],
    }


def compliance_cases() -> dict[str, list[Case]]:
    """Compliance (履职统计): county officers, town supervisors and auditors, on their own
    division (the default) or one inside it; another division answers 404 like one that is
    not there, and so does the page for any other role."""
    readers = ("county_admin", "town_supervisor", "auditor")
    others = (
        "village_director",
        "department_officer",
        "reporter",
        "system_admin",
        "security_admin",
    )
    town, other_town = "620724100000", "620724101000"
    cases: dict[str, list[Case]] = {}
    for name, api in (
        ("visits:compliance", False),
        ("visits:compliance_export", False),
        ("api:compliance", True),
    ):
        cases[name] = [
            Case(
                query="?period=2024-Q2",
                api=api,
                allowed=(*readers, "other_county_admin"),
                outsiders=others,
            ),
            Case(
                query=f"?division={town}&period=2024-06",
                label="town",
                api=api,
                allowed=readers,
                outsiders=("other_county_admin", "other_town_director", *others),
            ),
            Case(
                query=f"?division={other_town}&period=2024",
                label="other_town",
                api=api,
                allowed=("county_admin", "auditor"),
                outsiders=("town_supervisor", "other_county_admin", *others),
            ),
            Case(
                query="?division=999999999999&period=2024",
                label="unknown",
                api=api,
                outsiders=readers,
            ),
        ]
    return cases


def duplicate_world(actors: Actors) -> dict[str, UUID]:
    """A duplicate pair in 东村 and 西村 (town 城关镇), and a transfer request: 东村's director
    asks for a file of 南村 (town 宣化镇)."""
    import random
    from datetime import date

    from tongxin.geo.models import Division
    from tongxin.lib import crypto, idcard
    from tongxin.registry import transfers
    from tongxin.registry.models import DuplicateCandidate
    from tongxin.registry.tests.conftest import make_family

    a = make_family(actors, name="钱一鸣", village="620724100201", birth_date=date(2012, 2, 2))
    b = make_family(actors, name="钱亦鸣", village="620724100202", birth_date=date(2012, 2, 2))
    pair = DuplicateCandidate.objects.create(
        child_a=a, child_b=b, county_code="620724", matched_fields=["name_pinyin", "birth_date"]
    ).public_id
    number = idcard.generate(
        random.Random(4242), region="620724", birth_date=date(2012, 12, 12), gender="female"
    )
    make_family(
        actors,
        name="孙小红",
        village="620724101201",
        birth_date=date(2012, 12, 12),
        id_number=number,
    )
    transfer = transfers.transfer_request_create(
        actor=actors.village_director,
        lookup=crypto.lookup_hash(number),
        to_village=Division.objects.get(code="620724100201"),
        reason="搬家",
    ).public_id
    return {"pair": pair, "transfer": transfer}


def duplicate_cases() -> dict[str, list[Case]]:
    """The duplicate review queue and a transfer request (``duplicate_world``). Decision posts
    carry an empty form: allowed users get it back with errors (400), nothing changes."""
    no_queue = (
        "village_director",
        "department_officer",
        "reporter",
        "system_admin",
        "security_admin",
    )
    no_files = ("department_officer", "reporter", "system_admin", "security_admin")
    queue_readers = ("county_admin", "town_supervisor", "auditor")

    def on_pair(w: World) -> list[object]:
        return [w.pair]

    def on_transfer(w: World) -> list[object]:
        return [w.transfer]

    return {
        "registry:duplicate_list": [
            Case(
                allowed=(*queue_readers, "other_county_admin"),
                outsiders=(*no_queue, "other_town_director"),
            )
        ],
        "registry:duplicate_refresh": [
            Case(
                method="post",
                allowed=("county_admin",),
                outsiders=no_queue,
                read_only=("auditor", "town_supervisor"),
            )
        ],
        "registry:duplicate_detail": [
            Case(
                args=on_pair,
                allowed=queue_readers,
                outsiders=(*no_queue, "other_town_director", "other_county_admin"),
            )
        ],
        **{
            name: [
                Case(
                    args=on_pair,
                    method="post",
                    data={},
                    allowed=("county_admin",),
                    outsiders=(*no_queue, "other_county_admin"),
                    read_only=("auditor", "town_supervisor"),
                )
            ]
            for name in ("registry:duplicate_merge", "registry:duplicate_distinct")
        },
        "registry:transfer_request_list": [
            Case(
                allowed=(*queue_readers, "village_director", "other_village_director"),
                outsiders=no_files,
            )
        ],
        "registry:transfer_request_create": [
            Case(
                allowed=("county_admin", "town_supervisor", "village_director"),
                outsiders=no_files,
                read_only=("auditor",),
            ),
            Case(
                method="post",
                data={"step": "locate", "id_number": ""},
                allowed=("village_director",),
                outsiders=no_files,
                read_only=("auditor",),
            ),
        ],
        "registry:transfer_request_detail": [
            Case(
                args=on_transfer,
                allowed=(*queue_readers, "village_director"),
                outsiders=(
                    *no_files,
                    "other_village_director",
                    "other_town_director",
                    "other_county_admin",
                ),
            )
        ],
        "registry:transfer_request_decide": [
            Case(
                args=on_transfer,
                method="post",
                data={},
                allowed=("county_admin",),
                outsiders=(
                    *no_files,
                    "other_village_director",
                    "other_town_director",
                    "other_county_admin",
                ),
                read_only=("auditor", "village_director", "town_supervisor"),
            )
        ],
    }


def file_world(actors: Actors) -> dict[str, UUID]:
    """A child of 东村 with a care agreement (a scan on record) and a parent's spell away."""
    from datetime import date

    from tongxin.registry import agreements
    from tongxin.registry.models import CareAgreement, Migration
    from tongxin.registry.tests.conftest import make_family

    child = make_family(actors, name="周档案")
    agreement = agreements.agreement_create(
        actor=actors.county_admin,
        household=child.household,
        fields={
            "entrusted_by": "both",
            "caregiver_name": "周奶奶",
            "caregiver_relation": "祖母",
            "signed_on": date(2024, 1, 5),
        },
    )
    # A scan on record without writing one: outsiders are refused before it is opened.
    CareAgreement.objects.filter(pk=agreement.pk).update(document="agreements/scope.pdf")
    spell = Migration.objects.filter(parent__household=child.household).first()
    assert spell is not None
    return {
        "file_child": child.public_id,
        "agreement": agreement.public_id,
        "spell": spell.public_id,
    }


def file_cases() -> dict[str, list[Case]]:
    """The child's file (``file_world``) and the file API. Posts carry an empty form: allowed
    users get it back with errors, nothing changes."""
    keepers = ("county_admin", "town_supervisor", "village_director")
    outsiders = (
        "other_village_director",
        "other_town_director",
        "other_county_admin",
        "department_officer",
        "system_admin",
        "security_admin",
        "reporter",
    )

    def on_child(w: World) -> list[object]:
        return [w.file_child]

    def on_agreement(w: World) -> list[object]:
        return [w.file_child, w.agreement]

    forms: dict[str, Callable[[World], Sequence[object]]] = {
        "registry:child_edit": on_child,
        "registry:child_status": on_child,
        "registry:household_edit": on_child,
        "registry:household_transfer": on_child,
        "registry:parent_edit": lambda w: [w.file_child, "father"],
        "registry:migration_create": lambda w: [w.file_child, "mother"],
        "registry:migration_edit": lambda w: [w.file_child, w.spell],
        "registry:agreement_create": on_child,
        "registry:agreement_terminate": on_agreement,
        "registry:agreement_incapable": on_agreement,
    }
    return {
        "registry:child_create": [
            Case(
                allowed=(*keepers, "other_village_director", "other_county_admin"),
                outsiders=("department_officer", "system_admin", "security_admin", "reporter"),
                read_only=("auditor",),
            ),
            Case(
                method="post",
                data={},
                allowed=keepers,
                outsiders=("department_officer", "system_admin", "security_admin", "reporter"),
                read_only=("auditor",),
            ),
        ],
        "registry:child_detail": [
            Case(args=on_child, allowed=(*keepers, "auditor"), outsiders=outsiders)
        ],
        "registry:child_reveal_id": [
            Case(
                args=on_child,
                method="post",
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            )
        ],
        **{
            name: [
                Case(args=args, allowed=keepers, outsiders=outsiders),
                Case(
                    args=args,
                    method="post",
                    data={},
                    allowed=keepers,
                    outsiders=outsiders,
                    read_only=("auditor",),
                ),
            ]
            for name, args in forms.items()
        },
        "registry:manual_decision": [
            Case(
                args=on_child,
                method=method,
                data={} if method == "post" else None,
                allowed=("county_admin",),
                outsiders=(*outsiders, "town_supervisor", "village_director"),
                read_only=("auditor",),
            )
            for method in ("get", "post")
        ],
        # The guardian's copy of the file: a county officer of the child's county only.
        "registry:child_copy": [
            Case(
                args=on_child,
                method=method,
                data={} if method == "post" else None,
                allowed=("county_admin",),
                outsiders=(*outsiders, "town_supervisor", "village_director"),
                read_only=("auditor",),
            )
            for method in ("get", "post")
        ],
        "registry:agreement_document": [Case(args=on_agreement, outsiders=outsiders)],
        "api:child_detail": [
            Case(args=on_child, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            Case(
                args=on_child,
                method="patch",
                data={"grade": "x"},  # no If-Match: 428 for the keepers, nothing changes
                api=True,
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            ),
        ],
        **family_api_cases(keepers, outsiders),
    }


def family_api_cases(keepers: tuple[str, ...], outsiders: tuple[str, ...]) -> dict[str, list[Case]]:
    """A parent and a spell of work away through the API: reads for the file readers, changes
    without If-Match (428 for the keepers, nothing changes), a new spell with an empty body
    (400 for the keepers)."""

    def change(
        args: Callable[[World], Sequence[object]], method: str, data: dict[str, str]
    ) -> Case:
        return Case(
            args=args,
            method=method,
            data=data,
            api=True,
            allowed=keepers,
            outsiders=outsiders,
            read_only=("auditor",),
        )

    def on_parent(w: World) -> list[object]:
        return [w.file_child, "father"]

    def on_spell(w: World) -> list[object]:
        return [w.file_child, w.spell]

    return {
        "api:child_parent": [
            Case(args=on_parent, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            change(on_parent, "patch", {"name": "x"}),
        ],
        "api:child_migration": [
            Case(args=on_spell, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            change(on_spell, "patch", {"phone": "1"}),
        ],
        "api:parent_migration_create": [change(lambda w: [w.file_child, "mother"], "post", {})],
    }


def ledger_world(actors: Actors) -> dict[str, UUID]:
    """A checked import batch of the county officer's (its file is gone)."""
    from tongxin.interop.models import BatchStatus, ImportBatch

    batch = ImportBatch.objects.create(
        created_by=actors.county_admin,
        file_name="台账.xlsx",
        size=1,
        sha256="0" * 64,
        status=BatchStatus.CHECKED,
        counts={"new": 1, "total": 1},
    )
    return {"batch": batch.public_id}


def roll_world(actors: Actors) -> dict[str, UUID]:
    """A previewed payment roll of the county officer's, with no lines."""
    from tongxin.benefits.roll_models import PaymentRoll, RollStatus

    roll = PaymentRoll.objects.create(
        uploaded_by=actors.county_admin,
        county_code="620724000000",
        file_name="花名册.xlsx",
        size=1,
        sha256="0" * 64,
        status=RollStatus.PREVIEWED,
        counts={"total": 0},
    )
    return {"roll": roll.public_id}


def roll_cases() -> dict[str, list[Case]]:
    """Payment rolls (发放花名册): the county's officers import them, auditors read them; the
    children to register are read by every role that reads files, in its own division. The
    upload posts no file (400 for the allowed); applying the roll without lines writes
    nothing (302)."""
    not_readers = (
        "town_supervisor",
        "village_director",
        "department_officer",
        "reporter",
        "system_admin",
        "security_admin",
    )

    def on_roll(w: World) -> list[object]:
        return [w.roll]

    return {
        "rolls:index": [
            Case(allowed=("county_admin", "auditor", "other_county_admin"), outsiders=not_readers)
        ],
        "rolls:upload": [
            Case(
                method="post",
                allowed=("county_admin", "other_county_admin"),
                outsiders=not_readers,
                read_only=("auditor",),
            )
        ],
        "rolls:detail": [
            Case(
                args=on_roll,
                allowed=("county_admin", "auditor"),
                outsiders=(*not_readers, "other_county_admin"),
            )
        ],
        "rolls:apply": [
            Case(
                args=on_roll,
                method="post",
                allowed=("county_admin",),
                outsiders=(*not_readers, "other_county_admin"),
                read_only=("auditor",),
            )
        ],
        "rolls:unmatched": [
            Case(
                allowed=(
                    "county_admin",
                    "auditor",
                    "town_supervisor",
                    "village_director",
                    "other_village_director",
                    "other_county_admin",
                ),
                outsiders=("department_officer", "reporter", "system_admin", "security_admin"),
            )
        ],
    }


def export_world(actors: Actors) -> dict[str, UUID]:
    """A list of children the worker wrote for the county officer, its file waiting."""
    from tongxin.exports.models import ExportRun, ExportStatus

    run = ExportRun.objects.create(
        kind="children",
        requested_by=actors.county_admin,
        status=ExportStatus.DONE,
        rows=0,
        filename="children.xlsx",
        finished_at=timezone.now(),
    )
    run.path.parent.mkdir(parents=True, exist_ok=True)
    run.path.write_bytes(b"PK")  # the world rolls back; a file left in var/ is deleted in a day
    return {"export": run.public_id}


def export_cases() -> dict[str, list[Case]]:
    """An export written in the background (``export_world``): its page and file are its
    asker's alone; everyone else, whatever their role, gets 404."""
    others = tuple(k for k in STOCK_ACTORS if k != "county_admin")

    def on_export(w: World) -> list[object]:
        return [w.export]

    return {
        name: [Case(args=on_export, allowed=("county_admin",), outsiders=others)]
        for name in ("exports:export_detail", "exports:export_file")
    }


def ledger_cases() -> dict[str, list[Case]]:
    """The ledger import (台账): for the roles that keep files; a batch (``ledger_world``) is
    its uploader's own. The upload posts no file (400 for the allowed); the apply of a batch
    whose file is gone is refused with a message (302)."""
    # Another county's officer imports that county's own ledger: the pages are for them too.
    keepers = ("county_admin", "town_supervisor", "village_director", "other_county_admin")
    others = ("department_officer", "reporter", "system_admin", "security_admin")
    not_theirs = ("town_supervisor", "village_director", "other_county_admin", "reporter")

    def on_batch(w: World) -> list[object]:
        return [w.batch]

    return {
        "ledger:index": [Case(allowed=keepers, outsiders=(*others, "auditor"))],
        "ledger:template": [Case(allowed=keepers, outsiders=(*others, "auditor"))],
        "ledger:upload": [
            Case(method="post", allowed=keepers, outsiders=others, read_only=("auditor",))
        ],
        "ledger:batch": [
            Case(
                args=on_batch,
                allowed=("county_admin",),
                outsiders=(*not_theirs, "auditor", "department_officer"),
            )
        ],
        "ledger:apply": [
            Case(
                args=on_batch,
                method="post",
                allowed=("county_admin",),
                outsiders=not_theirs,
                read_only=("auditor",),
            )
        ],
    }


def remind_world(actors: Actors) -> dict[str, UUID]:
    """A child of 东村 whose risk is read and overridden."""
    from tongxin.registry.tests.conftest import make_family

    return {"risk_child": make_family(actors, name="吴风险").public_id}


def remind_cases() -> dict[str, list[Case]]:
    """Notifications (every signed-in user has their own), the child's risk (``remind_world``;
    posts carry an empty form: 400 for those who may override), the cadence policy (county
    officers change it, the other file readers see it read-only)."""
    everyone = (*EVERYONE_IN_GAOTAI, "other_county_admin")
    readers = ("county_admin", "town_supervisor", "village_director", "auditor")
    overriders = ("county_admin", "town_supervisor")
    outsiders = (
        "other_village_director",
        "other_town_director",
        "other_county_admin",
        "department_officer",
        "system_admin",
        "security_admin",
        "reporter",
    )
    no_files = ("department_officer", "reporter", "system_admin", "security_admin")

    def on_child(w: World) -> list[object]:
        return [w.risk_child]

    return {
        "notices:notification_list": [Case(allowed=everyone)],
        "notices:notification_read": [Case(method="post", allowed=everyone)],
        "visits:child_risk": [
            Case(args=on_child, allowed=readers, outsiders=outsiders),
            Case(
                args=on_child,
                method="post",
                data={"action": "set"},
                allowed=overriders,
                outsiders=outsiders,
                read_only=("auditor", "village_director"),
            ),
        ],
        "visits:policy": [
            Case(allowed=(*readers, "other_county_admin"), outsiders=no_files),
            Case(
                method="post",
                data={},
                allowed=("county_admin",),
                outsiders=no_files,
                read_only=("auditor", "town_supervisor", "village_director"),
            ),
        ],
        "api:child_risk": [Case(args=on_child, api=True, allowed=readers, outsiders=outsiders)],
        "api:child_risk_override": [
            Case(
                args=on_child,
                method=method,
                data={},
                api=True,
                allowed=overriders,
                outsiders=outsiders,
                read_only=("auditor", "village_director"),
            )
            for method in ("post", "delete")
        ],
    }


def contact_world(actors: Actors) -> dict[str, UUID]:
    """A phone call with a child of 东村 by its director, still editable."""
    from datetime import date

    from tongxin.registry.tests.conftest import make_family
    from tongxin.visits import services as visits

    child = make_family(actors, name="郑联系")
    contact = visits.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": date(2024, 6, 3), "met_caregiver": True},
    ).contact
    return {"contact_child": child.public_id, "contact": contact.public_id}


def contact_cases() -> dict[str, list[Case]]:
    """Contacts (``contact_world``) and the work log. Posts carry an empty or incomplete form:
    the allowed get it back with errors (the API: 400, or 428 without If-Match), nothing
    changes. Only the author edits: the file's other keepers get 403 like the read-only
    auditor."""
    keepers = ("county_admin", "town_supervisor", "village_director")
    outsiders = (
        "other_village_director",
        "other_town_director",
        "other_county_admin",
        "department_officer",
        "system_admin",
        "security_admin",
        "reporter",
    )
    no_files = ("department_officer", "reporter", "system_admin", "security_admin")
    not_author = ("auditor", "county_admin", "town_supervisor")

    def for_child(w: World) -> str:
        return f"?child={w.contact_child}"

    def on_contact(w: World) -> list[object]:
        return [w.contact]

    return {
        "visits:contact_create": [
            Case(query=for_child, allowed=keepers, outsiders=outsiders, read_only=("auditor",)),
            Case(
                query=for_child,
                method="post",
                data={},
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            ),
        ],
        "visits:contact_detail": [
            Case(args=on_contact, allowed=(*keepers, "auditor"), outsiders=outsiders)
        ],
        "visits:contact_edit": [
            Case(
                args=on_contact,
                method=method,
                data={} if method == "post" else None,
                allowed=("village_director",),
                outsiders=outsiders,
                read_only=not_author,
            )
            for method in ("get", "post")
        ],
        "visits:contact_addendum": [
            Case(
                args=on_contact,
                method="post",
                data={},
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            )
        ],
        "visits:worklog": [
            Case(
                allowed=(*keepers, "auditor", "other_village_director", "other_county_admin"),
                outsiders=no_files,
            )
        ],
        "visits:worklog_create": [
            Case(
                method=method,
                data={} if method == "post" else None,
                allowed=(*keepers, "other_village_director", "other_county_admin"),
                outsiders=no_files,
                read_only=("auditor",),
            )
            for method in ("get", "post")
        ],
        "api:contact_create": [
            Case(
                method="post",
                data=lambda w: {"child": str(w.contact_child)},
                api=True,
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            )
        ],
        "api:child_contacts": [
            Case(
                args=lambda w: [w.contact_child],
                api=True,
                allowed=(*keepers, "auditor"),
                outsiders=outsiders,
            )
        ],
        "api:contact_detail": [
            Case(args=on_contact, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            Case(
                args=on_contact,
                method="patch",
                data={"notes": "x"},  # no If-Match: 428 for the author, nothing changes
                api=True,
                allowed=("village_director",),
                outsiders=outsiders,
                read_only=not_author,
            ),
        ],
    }


def report_world(actors: Actors) -> dict[str, UUID]:
    """An urgent report of physical abuse filed by the school about a child described in 东村,
    routed to the police (the stock department officer), with its registration task for 东村
    and an attachment on record (its file not written)."""
    from tongxin.protection.models import ReportAttachment
    from tongxin.protection.tests.conftest import file_report

    report = file_report(actors)
    attachment = ReportAttachment.objects.create(
        report=report, file="reports/scope.pdf", kind="pdf", size=1, uploaded_by=actors.reporter
    )
    return {
        "report": report.public_id,
        "attachment": attachment.public_id,
        "task": report.tasks.get().public_id,
    }


def report_cases() -> dict[str, list[Case]]:
    """Mandatory reports (``report_world``); its attachment is not opened: the allowed are not
    listed for it. Posts carry empty forms: the allowed get errors (302/400), nothing moves;
    an edit of the report answers 409."""
    readers = ("reporter", "village_director", "department_officer", "county_admin", "auditor")
    strangers = (
        "other_village_director",
        "other_town_director",
        "other_department_officer",
        "town_supervisor",
        "system_admin",
        "security_admin",
        "other_county_admin",
    )
    movers = ("department_officer", "county_admin")
    addenda = (*movers, "reporter")
    not_addenda = (*strangers, "village_director")
    everyone_but_admin = tuple(k for k in STOCK_ACTORS if k not in ACCOUNT_ADMINS)
    submitters = ("reporter", "village_director", "county_admin", "department_officer")

    def on_report(w: World) -> list[object]:
        return [w.report]

    def on_attachment(w: World) -> list[object]:
        return [w.report, w.attachment]

    return {
        "reports:report_list": [
            Case(allowed=everyone_but_admin, outsiders=("system_admin", "security_admin"))
        ],
        "reports:report_create": [
            Case(
                allowed=(*submitters, "town_supervisor", "other_county_admin"),
                outsiders=("system_admin", "security_admin"),
                read_only=("auditor",),
            ),
            Case(
                method="post",
                data={},
                allowed=submitters,
                outsiders=("system_admin", "security_admin"),
                read_only=("auditor",),
            ),
        ],
        "reports:report_detail": [Case(args=on_report, allowed=readers, outsiders=strangers)],
        "reports:report_transition": [
            Case(
                args=on_report,
                method="post",
                data={},
                allowed=movers,
                outsiders=strangers,
                read_only=("auditor",),
            )
        ],
        "reports:report_addendum": [
            Case(
                args=on_report,
                method="post",
                data={},
                allowed=addenda,
                outsiders=not_addenda,
                read_only=("auditor",),
            )
        ],
        "reports:report_attachment": [
            Case(args=on_attachment, outsiders=(*strangers, "reporter", "village_director"))
        ],
        "reports:task_done": [
            Case(
                args=lambda w: [w.task],
                allowed=("village_director", "county_admin"),
                outsiders=(
                    "other_village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "system_admin",
                    "security_admin",
                    "other_county_admin",
                ),
                read_only=("auditor",),
            )
        ],
        "reports:failure_list": [
            Case(
                allowed=("county_admin", "auditor", "other_county_admin"),
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "system_admin",
                    "security_admin",
                ),
            )
        ],
        "reports:failure_create": [
            Case(
                allowed=("county_admin", "other_county_admin"),
                outsiders=(
                    "village_director",
                    "department_officer",
                    "reporter",
                    "system_admin",
                    "security_admin",
                ),
                read_only=("auditor",),
            )
        ],
        "api:report_collection": [
            Case(
                api=True, allowed=everyone_but_admin, outsiders=("system_admin", "security_admin")
            ),
            Case(
                method="post",
                data={},
                api=True,
                allowed=submitters,
                outsiders=("system_admin", "security_admin"),
                read_only=("auditor",),
            ),
        ],
        "api:report_detail": [
            Case(args=on_report, api=True, allowed=readers, outsiders=strangers),
            Case(
                args=on_report,
                method="patch",
                data={"facts": "x"},
                api=True,
                allowed=(*movers, "reporter", "village_director"),
                outsiders=strangers,
                read_only=("auditor",),
            ),
        ],
        "api:report_transitions": [
            Case(
                args=on_report,
                method="post",
                data={},
                api=True,
                allowed=(*movers, "reporter"),
                outsiders=strangers,
                read_only=("auditor",),
            )
        ],
        "api:report_addenda": [
            Case(
                args=on_report,
                method="post",
                data={},
                api=True,
                allowed=addenda,
                outsiders=not_addenda,
                read_only=("auditor",),
            )
        ],
        "api:report_attachment": [
            Case(
                args=on_attachment,
                api=True,
                outsiders=(*strangers, "reporter", "village_director"),
            )
        ],
    }


def intervention_world(actors: Actors) -> dict[str, UUID]:
    """A temporary guardianship of a child of 东村, linked to a report the police (the stock
    department officer) handle, with a document on record (its file not written)."""
    from tongxin.protection.tests.test_interventions import make_intervention

    intervention = make_intervention(actors, documents=False)
    document = intervention.documents.create(
        file="interventions/scope.pdf", kind="pdf", size=1, uploaded_by=actors.county_admin
    )
    return {
        "intervention_child": intervention.child.public_id,
        "intervention": intervention.public_id,
        "intervention_document": document.public_id,
    }


def intervention_cases() -> dict[str, list[Case]]:
    """Guardianship interventions (``intervention_world``); the document is not opened: the
    allowed are not listed for it. Posts carry empty forms: nothing is saved."""
    writers = ("county_admin", "department_officer")
    nobody = (
        "other_village_director",
        "other_town_director",
        "other_department_officer",
        "town_supervisor",
        "reporter",
        "system_admin",
        "security_admin",
        "other_county_admin",
    )
    readers = (*writers, "auditor")
    not_writers, auditor = (*nobody, "village_director"), ("auditor",)

    def on_child(w: World) -> list[object]:
        return [w.intervention_child]

    def on_intervention(w: World) -> list[object]:
        return [w.intervention]

    return {
        "reports:intervention_list": [
            Case(args=on_child, allowed=(*readers, "village_director"), outsiders=nobody)
        ],
        "reports:intervention_create": [
            Case(args=on_child, allowed=writers, outsiders=not_writers, read_only=auditor),
            Case(
                args=on_child,
                method="post",
                data={},
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            ),
        ],
        "reports:intervention_detail": [
            Case(
                args=on_intervention,
                allowed=readers,
                outsiders=(*nobody, "village_director"),
            )
        ],
        "reports:intervention_assess": [
            Case(
                args=on_intervention,
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            )
        ],
        "reports:intervention_end": [
            Case(
                args=on_intervention,
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            ),
            Case(
                args=on_intervention,
                method="post",
                data={},
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            ),
        ],
        "reports:intervention_document": [
            Case(
                args=lambda w: [w.intervention, w.intervention_document],
                outsiders=(*nobody, "village_director"),
            )
        ],
    }


def benefit_world(actors: Actors) -> dict[str, UUID]:
    """A child of 东村 enrolled in the orphan allowance by the county officer."""
    from datetime import date
    from decimal import Decimal

    from tongxin.benefits import services as benefits
    from tongxin.registry.tests.conftest import make_family

    child = make_family(actors, name="吴保障")
    enrolment = benefits.enrolment_create(
        actor=actors.county_admin,
        child=child,
        data=benefits.EnrolmentInput(
            programme="orphan_allowance",
            rate="scattered",
            monthly_amount=Decimal(1300),
            start_month=date(2024, 1, 1),
        ),
    )
    return {"benefit_child": child.public_id, "benefit_enrolment": enrolment.public_id}


def benefit_cases() -> dict[str, list[Case]]:
    """Benefits (``benefit_world``): the standards (the file readers see them, county officers
    add a version), the list of enrolments (scoped; a division outside the scope answers 404),
    an enrolment's forms (county officers; the auditor 403) and the API. Posts carry empty
    forms: nothing is saved."""
    readers = ("county_admin", "town_supervisor", "village_director", "auditor")
    no_files = ("department_officer", "reporter", "system_admin", "security_admin")
    not_theirs = ("other_village_director", "other_town_director", "other_county_admin")
    not_writers = (*not_theirs, "town_supervisor", "village_director", *no_files)
    auditor = ("auditor",)

    def on_child(w: World) -> list[object]:
        return [w.benefit_child]

    def on_enrolment(w: World) -> list[object]:
        return [w.benefit_enrolment]

    writes = {
        name: [
            Case(args=args, allowed=("county_admin",), outsiders=not_writers, read_only=auditor),
            Case(
                args=args,
                method="post",
                data={},
                allowed=("county_admin",),
                outsiders=not_writers,
                read_only=auditor,
            ),
        ]
        for name, args in (
            ("benefits:enrolment_create", on_child),
            ("benefits:enrolment_edit", on_enrolment),
            ("benefits:enrolment_end", on_enrolment),
        )
    }
    return {
        "benefits:standards": [
            Case(allowed=(*readers, "other_county_admin"), outsiders=no_files),
            Case(
                method="post",
                data={},
                allowed=("county_admin",),
                outsiders=no_files,
                read_only=("auditor", "town_supervisor", "village_director"),
            ),
        ],
        "benefits:enrolment_list": [
            Case(allowed=(*readers, "other_county_admin"), outsiders=no_files),
            Case(
                query="?division=620724100201&programme=orphan_allowance&state=open",
                label="village",
                allowed=readers,
                outsiders=(*not_theirs, *no_files),
            ),
        ],
        **writes,
        "api:benefit_programmes": [
            Case(api=True, allowed=(*EVERYONE_IN_GAOTAI, "other_county_admin"))
        ],
        "api:child_enrolments": [
            Case(
                args=on_child,
                api=True,
                allowed=readers,
                outsiders=(*not_theirs, *no_files),
            )
        ],
    }


def report_stats_cases() -> dict[str, list[Case]]:
    """The statistics of mandatory reports: the county, the auditor and department officers;
    a division outside the user's own answers 404 like one that is not there."""
    readers = ("county_admin", "auditor", "department_officer", "other_department_officer")
    others = (
        "village_director",
        "town_supervisor",
        "reporter",
        "system_admin",
        "security_admin",
        "other_village_director",
    )
    town = {"division": "620724100000", "period": "2024"}
    cases: dict[str, list[Case]] = {}
    for name, api in (("reports:report_stats", False), ("api:report_stats", True)):
        cases[name] = [
            Case(api=api, allowed=(*readers, "other_county_admin"), outsiders=others),
            Case(
                query="?" + "&".join(f"{k}={v}" for k, v in town.items()),
                label="town",
                api=api,
                allowed=readers,
                outsiders=(*others, "other_county_admin"),
            ),
        ]
    return cases


def referral_world(actors: Actors) -> dict[str, UUID]:
    """Two problems of a child of 东村: one owned by the police (the stock department officer's
    department) and referred by the county officer to the police, sharing the child and the
    problem; the other not referred. And a report (routed to the police) to refer."""
    from tongxin.accounts.models import Organisation
    from tongxin.protection import problems, referrals
    from tongxin.protection.tests.conftest import file_report
    from tongxin.registry.tests.conftest import make_family

    child = make_family(actors, name="郑小冬", father_left=None, mother_left=None)
    police = Organisation.objects.get(department="police", division_id="620724000000")
    problem = problems.problem_raise(
        actor=actors.village_director,
        child=child,
        fields={"category": "safety", "description": "放学路上被拦", "owner_department": police},
    )
    other = problems.problem_raise(
        actor=actors.village_director,
        child=child,
        fields={"category": "schooling", "description": "经常缺课"},
    )
    referral = referrals.referral_send(
        actor=actors.county_admin,
        department=police,
        reason="需要公安介入",
        sections=["child", "problem"],
        concern=problem,
    )
    return {
        "problem_child": child.public_id,
        "problem": problem.public_id,
        "other_problem": other.public_id,
        "referral": referral.public_id,
        "referral_report": file_report(actors).public_id,
        "police": police.public_id,
    }


def referral_cases() -> dict[str, list[Case]]:
    """Problems found and referrals (``referral_world``). Posts carry empty forms: the allowed
    get errors (400, 302, 428), nothing changes. Those who see a referral but do not receive it
    get 403 on its transitions (listed as read-only)."""
    keepers = ("county_admin", "town_supervisor", "village_director")
    readers = (*keepers, "auditor")
    strangers = (
        "other_village_director",
        "other_town_director",
        "other_department_officer",
        "reporter",
        "system_admin",
        "security_admin",
        "other_county_admin",
    )
    local = ("village_director", "town_supervisor")
    referral_readers = ("county_admin", "auditor", "department_officer", *local)

    def on_child(w: World) -> list[object]:
        return [w.problem_child]

    def on_problem(w: World) -> list[object]:
        return [w.problem]

    def on_referral(w: World) -> list[object]:
        return [w.referral]

    def for_other_problem(w: World) -> str:
        return f"?problem={w.other_problem}"

    return {
        "reports:child_problems": [
            Case(args=on_child, allowed=readers, outsiders=(*strangers, "department_officer")),
            Case(
                args=on_child,
                method="post",
                data={},
                allowed=keepers,
                outsiders=(*strangers, "department_officer"),
                read_only=("auditor",),
            ),
        ],
        "api:child_problems": [
            Case(
                args=on_child,
                api=True,
                allowed=readers,
                outsiders=(*strangers, "department_officer"),
            ),
            Case(
                args=on_child,
                method="post",
                data={},
                api=True,
                allowed=keepers,
                outsiders=(*strangers, "department_officer"),
                read_only=("auditor",),
            ),
        ],
        "reports:problem_mine": [
            Case(
                allowed=(*keepers, "department_officer", "other_department_officer"),
                outsiders=("reporter", "system_admin", "security_admin", "auditor"),
            )
        ],
        "reports:problem_detail": [
            Case(
                args=on_problem,
                allowed=(*readers, "department_officer"),
                outsiders=strangers,
            )
        ],
        "api:problem_detail": [
            Case(
                args=on_problem,
                api=True,
                allowed=(*readers, "department_officer"),
                outsiders=strangers,
            ),
            Case(
                args=on_problem,
                method="patch",
                data={},
                api=True,
                allowed=(*keepers, "department_officer"),
                outsiders=strangers,
                read_only=("auditor",),
            ),
        ],
        **{
            f"reports:problem_{name}": [
                Case(
                    args=on_problem,
                    method="post",
                    data={},
                    allowed=(*keepers, "department_officer") if name != "assign" else keepers,
                    outsiders=strangers if name != "assign" else (*strangers, "department_officer"),
                    read_only=("auditor",),
                )
            ]
            for name in ("action", "status", "assign")
        },
        "reports:referral_list": [
            Case(
                allowed=(
                    *referral_readers,
                    "other_village_director",
                    "other_town_director",
                    "other_department_officer",
                    "other_county_admin",
                ),
                outsiders=("reporter", "system_admin", "security_admin"),
            )
        ],
        "reports:referral_create": [
            Case(
                query=for_other_problem,
                label="problem",
                allowed=("county_admin", "town_supervisor"),
                outsiders=(*strangers, "village_director", "department_officer"),
                read_only=("auditor",),
            ),
            Case(
                query=lambda w: f"?report={w.referral_report}",
                label="report",
                allowed=("county_admin", "department_officer"),
                outsiders=(*strangers, "village_director", "town_supervisor"),
                read_only=("auditor",),
            ),
            Case(
                query=for_other_problem,
                method="post",
                data=lambda w: {"problem": str(w.other_problem)},
                allowed=("county_admin", "town_supervisor"),
                outsiders=(*strangers, "village_director", "department_officer"),
                read_only=("auditor",),
            ),
        ],
        "api:referral_create": [
            Case(
                method="post",
                data=lambda w: {
                    "problem": str(w.other_problem),
                    "department": str(w.police),
                    "reason": "需要公安介入",
                    "sections": ["child"],
                },
                api=True,
                # Each creates it (its test alone); were it referred already, the answer would
                # be 409, still not a refusal.
                allowed=("county_admin", "town_supervisor"),
                outsiders=(*strangers, "department_officer"),
                read_only=("auditor", "village_director"),  # sees the problem, may not refer
            )
        ],
        "reports:referral_detail": [
            Case(args=on_referral, allowed=referral_readers, outsiders=strangers),
        ],
        "api:referral_detail": [
            Case(args=on_referral, api=True, allowed=referral_readers, outsiders=strangers),
        ],
        "reports:referral_transition": [
            Case(
                args=on_referral,
                method="post",
                data={},
                allowed=("department_officer",),
                outsiders=strangers,
                read_only=("auditor", "county_admin", *local),
            )
        ],
        "api:referral_transitions": [
            Case(
                args=on_referral,
                method="post",
                data={},
                api=True,
                allowed=("department_officer",),
                outsiders=strangers,
                read_only=("auditor", "county_admin", *local),
            )
        ],
    }


def settings_cases() -> dict[str, list[Case]]:
    """The working-day calendar and the routing of new reports: county officers change them,
    the auditor reads them (403 on a post), everyone else gets 404. Posts carry empty forms."""
    others = (
        "town_supervisor",
        "village_director",
        "department_officer",
        "reporter",
        "system_admin",
        "security_admin",
    )
    return {
        name: [
            Case(allowed=("county_admin", "other_county_admin", "auditor"), outsiders=others),
            Case(method="post", data={}, outsiders=others, read_only=("auditor",)),
        ]
        for name in ("workdays:workdays", "reports:routing")
    }


def accounts_world(actors: Actors) -> dict[str, UUID]:
    """A new account whose county-officer role the system administrator asked for: the request
    awaits a second person."""
    from tongxin.accounts.models import RoleGrant, User

    subject = User.objects.create(
        username="grant_subject", role="", division_id="620724000000", name="待批准"
    )
    grant = RoleGrant.objects.create(
        user=subject,
        role="county_admin",
        division_id="620724000000",
        requested_by=actors.system_admin,
    )
    return {"grant": grant.public_id}


def account_cases() -> dict[str, list[Case]]:
    """Accounts: user administrators (county officers, the system administrator) manage them,
    the security administrator reads them and keeps their sign-in safe, each inside their own
    division; every signed-in person has their own password and API token pages."""
    village = "620724100201"
    everyone = (*EVERYONE_IN_GAOTAI, "other_county_admin")
    user_admins = ("county_admin", "system_admin")
    account_readers = (*user_admins, "security_admin")
    no_accounts = ("village_director", "town_supervisor", "department_officer", "reporter")

    def on_managed(w: World) -> list[object]:
        return [w.managed]

    def security(action: str, **data: str) -> dict[str, str]:
        return {"action": action, **data}

    cases: dict[str, list[Case]] = {
        "accounts:password": [
            Case(allowed=everyone),
            # An empty form: 400, the page again with its errors.
            Case(method="post", data={}, allowed=everyone),
        ],
        "accounts:token_list": [
            Case(allowed=everyone),
            Case(method="post", data={"token": "all"}, allowed=everyone),
        ],
        "accounts:user_list": [
            Case(allowed=account_readers, outsiders=(*no_accounts, "auditor")),
        ],
        "accounts:user_create": [
            Case(
                allowed=user_admins,
                outsiders=("village_director", "town_supervisor", "reporter", "security_admin"),
                read_only=("auditor",),
            )
        ],
        "accounts:user_detail": [
            Case(
                args=on_managed,
                allowed=account_readers,
                outsiders=("other_county_admin", "village_director", "town_supervisor"),
                read_only=("auditor",),
            ),
            Case(
                args=on_managed,
                method="post",
                data={"role": "village_director", "division": village, "is_active": "on"},
                outsiders=("other_county_admin", "other_village_director"),
                # The security administrator reads the account and changes none of it.
                read_only=("auditor", "security_admin"),
            ),
        ],
        "accounts:user_security": [
            Case(
                args=on_managed,
                method="post",
                data=security("reset_password"),
                label="password",
                allowed=user_admins,
                outsiders=("other_county_admin", "village_director", "reporter"),
                read_only=("auditor", "security_admin"),
            ),
            *(
                Case(
                    args=on_managed,
                    method="post",
                    data=security(action, token="all"),
                    label=action,
                    allowed=("security_admin",),
                    outsiders=("other_county_admin", "village_director", "reporter"),
                    read_only=("auditor", *user_admins),
                )
                for action in ("reset_second_factor", "unlock", "revoke_tokens")
            ),
        ],
        "accounts:grant_list": [
            Case(
                allowed=(*account_readers, "other_county_admin"),
                outsiders=(*no_accounts, "auditor"),
            )
        ],
        "accounts:grant_decide": [
            Case(
                args=lambda w: [w.grant],
                method="post",
                data={"decision": "approve"},
                # The requester (the system administrator) is refused with a message.
                allowed=account_readers,
                outsiders=(*no_accounts, "other_county_admin"),
                read_only=("auditor",),
            )
        ],
    }
    return cases


def organisation_cases() -> dict[str, list[Case]]:
    """The organisation pages: county and system administrators, inside their own division (the
    stock school, ``World.school``)."""
    admins = ("county_admin", "system_admin")

    def on_school(w: World) -> list[object]:
        return [w.school]

    return {
        "accounts:organisation_list": [
            Case(
                allowed=admins,
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "auditor",
                    "security_admin",
                ),
            )
        ],
        "accounts:organisation_create": [
            Case(
                allowed=admins,
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "security_admin",
                ),
                read_only=("auditor",),
            )
        ],
        "accounts:organisation_detail": [
            Case(
                args=on_school,
                allowed=admins,
                outsiders=("other_county_admin", "village_director", "reporter", "security_admin"),
                read_only=("auditor",),
            ),
            Case(
                args=on_school,
                method="post",
                data={
                    "name": "城关镇中心小学",
                    "kind": "institution",
                    "institution_type": "school",
                    "division": "620724100000",
                },
                outsiders=(
                    "other_county_admin",
                    "department_officer",
                    "reporter",
                    "security_admin",
                ),
                read_only=("auditor",),
            ),
        ],
    }


# URL name → its cases; static, so pytest knows every cell when it collects.
CASES: dict[str, list[Case]] = {
    **base_cases(),
    **duplicate_cases(),
    **file_cases(),
    **ledger_cases(),
    **roll_cases(),
    **export_cases(),
    **remind_cases(),
    **contact_cases(),
    **report_cases(),
    **referral_cases(),
    **intervention_cases(),
    **benefit_cases(),
    **report_stats_cases(),
    **settings_cases(),
    **worklist_cases(),
    **compliance_cases(),
    **api_rule_cases(),
}


def build_world(actors: Actors) -> World:
    """The objects the cases point at, created now in the current transaction."""
    from tongxin.accounts.models import Organisation

    return World(
        managed=actors.village_director.public_id,
        school=Organisation.objects.get(name="城关镇中心小学").public_id,
        **accounts_world(actors),
        **duplicate_world(actors),
        **file_world(actors),
        **ledger_world(actors),
        **roll_world(actors),
        **export_world(actors),
        **remind_world(actors),
        **contact_world(actors),
        **report_world(actors),
        **referral_world(actors),
        **intervention_world(actors),
        **benefit_world(actors),
    )


def cases(actors: Actors) -> dict[str, list[Access]]:
    """URL name → the accesses to check, with URLs to objects created now (for other modules
    that walk every page, in their own test)."""
    world = build_world(actors)
    return {name: [case.access(name, world) for case in each] for name, each in CASES.items()}


def _cells() -> list[pytest.ParameterSet]:
    """One test per request: a case's anonymous request, then each actor's."""
    cells = []
    for name, each in CASES.items():
        for case in each:
            stem = "-".join(part for part in (name, case.method, case.label) if part)
            for expectation, key in access_cells(case):
                cell = stem + (f"-{expectation}-{key}" if key else f"-{expectation}")
                cells.append(pytest.param(name, case, expectation, key, id=cell))
    ids = [str(cell.id) for cell in cells]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"cases that need a label to tell them apart: {twice}"
    return cells


CELLS = _cells()


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The world, built once per module (and xdist worker) in a transaction rolled back at the
    module's end. Each test's own transaction is a savepoint inside it: what its requests
    change is rolled back before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        with guard():
            built = build_world(Actors())
        try:
            yield built
        finally:
            transaction.set_rollback(True)


def _names(patterns: list[URLPattern | URLResolver], namespace: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _names(p.url_patterns, ns)
        else:
            yield f"{namespace}{p.name}" if p.name else f"<unnamed {p.pattern}>"


def test_it_covers_every_url() -> None:
    missing = sorted(set(_names(get_resolver().url_patterns)) - set(CASES))
    assert not missing, f"URLs without an access case in test_scope.py: {missing}"


@pytest.mark.parametrize(("name", "case", "expectation", "key"), CELLS)
def test_it_honours_the_access_case(
    world: World,
    actors: Actors,
    name: str,
    case: Case,
    expectation: Expectation,
    key: str | None,
) -> None:
    failure = check_cell(case.access(name, world), actors, expectation, key)
    assert failure is None, failure
