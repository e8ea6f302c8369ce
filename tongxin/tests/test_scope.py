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

# Roles that list children's files (each inside its own scope), and those that may not.
LIST_READERS = ("county_admin", "town_supervisor", "village_director", "auditor")
LIST_OUTSIDERS = ("department_officer", "reporter", "system_admin")


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
        **organisation_cases(),
        "audit:event_list": [
            Access(
                reverse("audit:event_list"),
                allowed=("county_admin", "auditor"),
                outsiders=("village_director", "town_supervisor", "system_admin", "reporter"),
            )
        ],
        # Lists of children: every file reader gets a list of their own scope (possibly
        # empty); roles that read no files get 404.
        "registry:child_list": [
            Access(
                reverse("registry:child_list"),
                allowed=(*LIST_READERS, "other_county_admin"),
                outsiders=LIST_OUTSIDERS,
            )
        ],
        "registry:child_export": [
            Access(
                reverse("registry:child_export"),
                allowed=(*LIST_READERS, "other_county_admin"),
                outsiders=LIST_OUTSIDERS,
            )
        ],
        "registry:agreement_expiring_list": [
            Access(
                reverse("registry:agreement_expiring_list"),
                allowed=(*LIST_READERS, "other_county_admin"),
                outsiders=LIST_OUTSIDERS,
            )
        ],
        "api:child_list": [
            Access(
                reverse("api:child_list"),
                api=True,
                allowed=(*LIST_READERS, "other_county_admin"),
                outsiders=LIST_OUTSIDERS,
            )
        ],
        **duplicate_cases(actors),
        **file_cases(actors),
        **ledger_cases(actors),
        **remind_cases(actors),
        **contact_cases(actors),
        **report_cases(actors),
        **referral_cases(actors),
        **intervention_cases(actors),
        **report_stats_cases(actors),
        **settings_cases(),
        **worklist_cases(actors),
        **compliance_cases(actors),
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
        "api:eligibility": [
            Access(
                reverse("api:eligibility"),
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


def worklist_cases(actors: Actors) -> dict[str, list[Access]]:
    """The worklist: each worker's own; a county officer or auditor reads a village's or a
    town's; a village or town outside the scope answers 404 like one that is not there."""
    roles = ("county_admin", "town_supervisor", "village_director", "auditor")
    others = ("department_officer", "reporter", "system_admin")
    page, api = reverse("visits:worklist"), reverse("api:worklist")
    village = "?village=620724100201"
    not_theirs = ("other_village_director", "other_town_director", "other_county_admin")
    return {
        "visits:worklist": [
            Access(page, allowed=(*roles, "other_county_admin"), outsiders=others),
            Access(page + village, allowed=roles, outsiders=(*not_theirs, *others)),
            Access(page + "?village=620724101000", allowed=("county_admin",), outsiders=not_theirs),
        ],
        "api:worklist": [
            Access(api, api=True, allowed=(*roles, "other_county_admin"), outsiders=others),
            Access(
                api + village + "&as_of=2024-06-30",
                api=True,
                allowed=roles,
                outsiders=(*not_theirs, *others),
            ),
        ],
    }


def compliance_cases(actors: Actors) -> dict[str, list[Access]]:
    """Compliance (履职统计): county officers, town supervisors and auditors, on their own
    division (the default) or one inside it; another division answers 404 like one that is
    not there, and so does the page for any other role."""
    readers = ("county_admin", "town_supervisor", "auditor")
    others = ("village_director", "department_officer", "reporter", "system_admin")
    town, other_town = "620724100000", "620724101000"
    cases: dict[str, list[Access]] = {}
    for name, api in (
        ("visits:compliance", False),
        ("visits:compliance_export", False),
        ("api:compliance", True),
    ):
        url = reverse(name)
        cases[name] = [
            Access(
                f"{url}?period=2024-Q2",
                api=api,
                allowed=(*readers, "other_county_admin"),
                outsiders=others,
            ),
            Access(
                f"{url}?division={town}&period=2024-06",
                api=api,
                allowed=readers,
                outsiders=("other_county_admin", "other_town_director", *others),
            ),
            Access(
                f"{url}?division={other_town}&period=2024",
                api=api,
                allowed=("county_admin", "auditor"),
                outsiders=("town_supervisor", "other_county_admin", *others),
            ),
            Access(f"{url}?division=999999999999&period=2024", api=api, outsiders=readers),
        ]
    return cases


def duplicate_cases(actors: Actors) -> dict[str, list[Access]]:
    """The duplicate review queue (a pair in 东村 and 西村, town 城关镇) and a transfer request
    (东村's director asks for a file of 南村, town 宣化镇). Decision posts carry an empty form:
    allowed users get it back with errors (400), nothing changes."""
    import random
    from datetime import date

    from tongxin.geo.models import Division
    from tongxin.lib import crypto, idcard
    from tongxin.registry import duplicates
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
    transfer = duplicates.transfer_request_create(
        actor=actors.village_director,
        lookup=crypto.lookup_hash(number),
        to_village=Division.objects.get(code="620724100201"),
        reason="搬家",
    ).public_id
    no_queue = ("village_director", "department_officer", "reporter", "system_admin")
    no_files = ("department_officer", "reporter", "system_admin")
    queue_readers = ("county_admin", "town_supervisor", "auditor")
    return {
        "registry:duplicate_list": [
            Access(
                reverse("registry:duplicate_list"),
                allowed=(*queue_readers, "other_county_admin"),
                outsiders=(*no_queue, "other_town_director"),
            )
        ],
        "registry:duplicate_refresh": [
            Access(
                reverse("registry:duplicate_refresh"),
                method="post",
                allowed=("county_admin",),
                outsiders=no_queue,
                read_only=("auditor", "town_supervisor"),
            )
        ],
        "registry:duplicate_detail": [
            Access(
                reverse("registry:duplicate_detail", args=[pair]),
                allowed=queue_readers,
                outsiders=(*no_queue, "other_town_director", "other_county_admin"),
            )
        ],
        **{
            name: [
                Access(
                    reverse(name, args=[pair]),
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
            Access(
                reverse("registry:transfer_request_list"),
                allowed=(*queue_readers, "village_director", "other_village_director"),
                outsiders=no_files,
            )
        ],
        "registry:transfer_request_create": [
            Access(
                reverse("registry:transfer_request_create"),
                allowed=("county_admin", "town_supervisor", "village_director"),
                outsiders=no_files,
                read_only=("auditor",),
            ),
            Access(
                reverse("registry:transfer_request_create"),
                method="post",
                data={"step": "locate", "id_number": ""},
                allowed=("village_director",),
                outsiders=no_files,
                read_only=("auditor",),
            ),
        ],
        "registry:transfer_request_detail": [
            Access(
                reverse("registry:transfer_request_detail", args=[transfer]),
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
            Access(
                reverse("registry:transfer_request_decide", args=[transfer]),
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


def file_cases(actors: Actors) -> dict[str, list[Access]]:
    """The child's file (a child of 东村 with a care agreement) and the file API. Posts carry an
    empty form: allowed users get it back with errors, nothing changes."""
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
    keepers = ("county_admin", "town_supervisor", "village_director")
    outsiders = (
        "other_village_director",
        "other_town_director",
        "other_county_admin",
        "department_officer",
        "system_admin",
        "reporter",
    )
    on_child: list[object] = [child.public_id]
    on_agreement: list[object] = [child.public_id, agreement.public_id]
    forms: dict[str, list[object]] = {
        "registry:child_edit": on_child,
        "registry:child_status": on_child,
        "registry:household_edit": on_child,
        "registry:household_transfer": on_child,
        "registry:parent_edit": [child.public_id, "father"],
        "registry:migration_create": [child.public_id, "mother"],
        "registry:migration_edit": [child.public_id, spell.public_id],
        "registry:agreement_create": on_child,
        "registry:agreement_terminate": on_agreement,
        "registry:agreement_incapable": on_agreement,
    }
    api_url = reverse("api:child_detail", args=on_child)
    return {
        "registry:child_create": [
            Access(
                reverse("registry:child_create"),
                allowed=(*keepers, "other_village_director", "other_county_admin"),
                outsiders=("department_officer", "system_admin", "reporter"),
                read_only=("auditor",),
            ),
            Access(
                reverse("registry:child_create"),
                method="post",
                data={},
                allowed=keepers,
                outsiders=("department_officer", "system_admin", "reporter"),
                read_only=("auditor",),
            ),
        ],
        "registry:child_detail": [
            Access(
                reverse("registry:child_detail", args=on_child),
                allowed=(*keepers, "auditor"),
                outsiders=outsiders,
            )
        ],
        "registry:child_reveal_id": [
            Access(
                reverse("registry:child_reveal_id", args=on_child),
                method="post",
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            )
        ],
        **{
            name: [
                Access(reverse(name, args=args), allowed=keepers, outsiders=outsiders),
                Access(
                    reverse(name, args=args),
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
            Access(
                reverse("registry:manual_decision", args=on_child),
                allowed=("county_admin",),
                outsiders=(*outsiders, "town_supervisor", "village_director"),
                read_only=("auditor",),
            ),
            Access(
                reverse("registry:manual_decision", args=on_child),
                method="post",
                data={},
                allowed=("county_admin",),
                outsiders=(*outsiders, "town_supervisor", "village_director"),
                read_only=("auditor",),
            ),
        ],
        "registry:agreement_document": [
            Access(reverse("registry:agreement_document", args=on_agreement), outsiders=outsiders)
        ],
        "api:child_detail": [
            Access(api_url, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            Access(
                api_url,
                method="patch",
                data={"grade": "x"},  # no If-Match: 428 for the keepers, nothing changes
                api=True,
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            ),
        ],
        **family_api_cases(child.public_id, spell.public_id, keepers, outsiders),
    }


def family_api_cases(
    child: object, spell: object, keepers: tuple[str, ...], outsiders: tuple[str, ...]
) -> dict[str, list[Access]]:
    """A parent and a spell of work away through the API: reads for the file readers, changes
    without If-Match (428 for the keepers, nothing changes), a new spell with an empty body
    (400 for the keepers)."""
    parent_url = reverse("api:child_parent", args=[child, "father"])
    spell_url = reverse("api:child_migration", args=[child, spell])

    def change(url: str, method: str, data: dict[str, str]) -> Access:
        return Access(
            url,
            method=method,
            data=data,
            api=True,
            allowed=keepers,
            outsiders=outsiders,
            read_only=("auditor",),
        )

    return {
        "api:child_parent": [
            Access(parent_url, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            change(parent_url, "patch", {"name": "x"}),
        ],
        "api:child_migration": [
            Access(spell_url, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            change(spell_url, "patch", {"phone": "1"}),
        ],
        "api:parent_migration_create": [
            change(reverse("api:parent_migration_create", args=[child, "mother"]), "post", {})
        ],
    }


def ledger_cases(actors: Actors) -> dict[str, list[Access]]:
    """The ledger import (台账): for the roles that keep files; a batch is its uploader's own.
    The upload posts no file (400 for the allowed); the apply of a batch whose file is gone is
    refused with a message (302)."""
    from tongxin.interop.models import BatchStatus, ImportBatch

    batch = ImportBatch.objects.create(
        created_by=actors.county_admin,
        file_name="台账.xlsx",
        size=1,
        sha256="0" * 64,
        status=BatchStatus.CHECKED,
        counts={"new": 1, "total": 1},
    ).public_id
    # Another county's officer imports that county's own ledger: the pages are for them too.
    keepers = ("county_admin", "town_supervisor", "village_director", "other_county_admin")
    others = ("department_officer", "reporter", "system_admin")
    not_theirs = ("town_supervisor", "village_director", "other_county_admin", "reporter")
    return {
        "ledger:index": [
            Access(reverse("ledger:index"), allowed=keepers, outsiders=(*others, "auditor"))
        ],
        "ledger:template": [
            Access(reverse("ledger:template"), allowed=keepers, outsiders=(*others, "auditor"))
        ],
        "ledger:upload": [
            Access(
                reverse("ledger:upload"),
                method="post",
                allowed=keepers,
                outsiders=others,
                read_only=("auditor",),
            )
        ],
        "ledger:batch": [
            Access(
                reverse("ledger:batch", args=[batch]),
                allowed=("county_admin",),
                outsiders=(*not_theirs, "auditor", "department_officer"),
            )
        ],
        "ledger:apply": [
            Access(
                reverse("ledger:apply", args=[batch]),
                method="post",
                allowed=("county_admin",),
                outsiders=not_theirs,
                read_only=("auditor",),
            )
        ],
    }


def remind_cases(actors: Actors) -> dict[str, list[Access]]:
    """Notifications (every signed-in user has their own), the child's risk (a child of 东村;
    posts carry an empty form: 400 for those who may override), the cadence policy (county
    officers change it, the other file readers see it read-only)."""
    from tongxin.registry.tests.conftest import make_family

    child = make_family(actors, name="吴风险").public_id
    everyone = (*EVERYONE_IN_GAOTAI, "other_county_admin")
    readers = ("county_admin", "town_supervisor", "village_director", "auditor")
    overriders = ("county_admin", "town_supervisor")
    outsiders = (
        "other_village_director",
        "other_town_director",
        "other_county_admin",
        "department_officer",
        "system_admin",
        "reporter",
    )
    no_files = ("department_officer", "reporter", "system_admin")
    risk_url = reverse("visits:child_risk", args=[child])
    override_api = reverse("api:child_risk_override", args=[child])
    return {
        "visits:notification_list": [Access(reverse("visits:notification_list"), allowed=everyone)],
        "visits:notification_read": [
            Access(reverse("visits:notification_read"), method="post", allowed=everyone)
        ],
        "visits:child_risk": [
            Access(risk_url, allowed=readers, outsiders=outsiders),
            Access(
                risk_url,
                method="post",
                data={"action": "set"},
                allowed=overriders,
                outsiders=outsiders,
                read_only=("auditor", "village_director"),
            ),
        ],
        "visits:policy": [
            Access(
                reverse("visits:policy"),
                allowed=(*readers, "other_county_admin"),
                outsiders=no_files,
            ),
            Access(
                reverse("visits:policy"),
                method="post",
                data={},
                allowed=("county_admin",),
                outsiders=no_files,
                read_only=("auditor", "town_supervisor", "village_director"),
            ),
        ],
        "api:child_risk": [
            Access(
                reverse("api:child_risk", args=[child]),
                api=True,
                allowed=readers,
                outsiders=outsiders,
            )
        ],
        "api:child_risk_override": [
            Access(
                override_api,
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


def contact_cases(actors: Actors) -> dict[str, list[Access]]:
    """Contacts (a phone call with a child of 东村 by its director, still editable) and the work
    log. Posts carry an empty or incomplete form: the allowed get it back with errors (the API:
    400, or 428 without If-Match), nothing changes. Only the author edits: the file's other
    keepers get 403 like the read-only auditor."""
    from datetime import date

    from tongxin.registry.tests.conftest import make_family
    from tongxin.visits import services as visits

    child = make_family(actors, name="郑联系")
    contact = visits.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": date(2024, 6, 3), "met_caregiver": True},
    ).contact.public_id
    keepers = ("county_admin", "town_supervisor", "village_director")
    outsiders = (
        "other_village_director",
        "other_town_director",
        "other_county_admin",
        "department_officer",
        "system_admin",
        "reporter",
    )
    no_files = ("department_officer", "reporter", "system_admin")
    new = f"{reverse('visits:contact_create')}?child={child.public_id}"
    edit = reverse("visits:contact_edit", args=[contact])
    not_author = ("auditor", "county_admin", "town_supervisor")
    api_contact = reverse("api:contact_detail", args=[contact])
    return {
        "visits:contact_create": [
            Access(new, allowed=keepers, outsiders=outsiders, read_only=("auditor",)),
            Access(
                new,
                method="post",
                data={},
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            ),
        ],
        "visits:contact_detail": [
            Access(
                reverse("visits:contact_detail", args=[contact]),
                allowed=(*keepers, "auditor"),
                outsiders=outsiders,
            )
        ],
        "visits:contact_edit": [
            Access(edit, allowed=("village_director",), outsiders=outsiders, read_only=not_author),
            Access(
                edit,
                method="post",
                data={},
                allowed=("village_director",),
                outsiders=outsiders,
                read_only=not_author,
            ),
        ],
        "visits:contact_addendum": [
            Access(
                reverse("visits:contact_addendum", args=[contact]),
                method="post",
                data={},
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            )
        ],
        "visits:worklog": [
            Access(
                reverse("visits:worklog"),
                allowed=(*keepers, "auditor", "other_village_director", "other_county_admin"),
                outsiders=no_files,
            )
        ],
        "visits:worklog_create": [
            Access(
                reverse("visits:worklog_create"),
                method=method,
                data={} if method == "post" else None,
                allowed=(*keepers, "other_village_director", "other_county_admin"),
                outsiders=no_files,
                read_only=("auditor",),
            )
            for method in ("get", "post")
        ],
        "api:contact_create": [
            Access(
                reverse("api:contact_create"),
                method="post",
                data={"child": str(child.public_id)},
                api=True,
                allowed=keepers,
                outsiders=outsiders,
                read_only=("auditor",),
            )
        ],
        "api:child_contacts": [
            Access(
                reverse("api:child_contacts", args=[child.public_id]),
                api=True,
                allowed=(*keepers, "auditor"),
                outsiders=outsiders,
            )
        ],
        "api:contact_detail": [
            Access(api_contact, api=True, allowed=(*keepers, "auditor"), outsiders=outsiders),
            Access(
                api_contact,
                method="patch",
                data={"notes": "x"},  # no If-Match: 428 for the author, nothing changes
                api=True,
                allowed=("village_director",),
                outsiders=outsiders,
                read_only=not_author,
            ),
        ],
    }


def report_cases(actors: Actors) -> dict[str, list[Access]]:
    """Mandatory reports: an urgent report of physical abuse filed by the school about a child
    described in 东村, routed to the police (the stock department officer), with its
    registration task for 东村 and an attachment on record (not opened: the allowed are not
    listed for it). Posts carry empty forms: the allowed get errors (302/400), nothing moves;
    an edit of the report answers 409."""
    from tongxin.protection.models import ReportAttachment
    from tongxin.protection.tests.conftest import file_report

    report = file_report(actors)
    attachment = ReportAttachment.objects.create(
        report=report, file="reports/scope.pdf", kind="pdf", size=1, uploaded_by=actors.reporter
    ).public_id
    task = report.tasks.get().public_id
    code = report.public_id
    readers = ("reporter", "village_director", "department_officer", "county_admin", "auditor")
    strangers = (
        "other_village_director",
        "other_town_director",
        "other_department_officer",
        "town_supervisor",
        "system_admin",
        "other_county_admin",
    )
    movers = ("department_officer", "county_admin")
    addenda = (*movers, "reporter")
    not_addenda = (*strangers, "village_director")
    everyone_but_admin = tuple(k for k in STOCK_ACTORS if k != "system_admin")
    submitters = ("reporter", "village_director", "county_admin", "department_officer")
    detail = reverse("reports:report_detail", args=[code])
    api_detail = reverse("api:report_detail", args=[code])
    return {
        "reports:report_list": [
            Access(
                reverse("reports:report_list"),
                allowed=everyone_but_admin,
                outsiders=("system_admin",),
            )
        ],
        "reports:report_create": [
            Access(
                reverse("reports:report_create"),
                allowed=(*submitters, "town_supervisor", "other_county_admin"),
                outsiders=("system_admin",),
                read_only=("auditor",),
            ),
            Access(
                reverse("reports:report_create"),
                method="post",
                data={},
                allowed=submitters,
                outsiders=("system_admin",),
                read_only=("auditor",),
            ),
        ],
        "reports:report_detail": [Access(detail, allowed=readers, outsiders=strangers)],
        "reports:report_transition": [
            Access(
                reverse("reports:report_transition", args=[code]),
                method="post",
                data={},
                allowed=movers,
                outsiders=strangers,
                read_only=("auditor",),
            )
        ],
        "reports:report_addendum": [
            Access(
                reverse("reports:report_addendum", args=[code]),
                method="post",
                data={},
                allowed=addenda,
                outsiders=not_addenda,
                read_only=("auditor",),
            )
        ],
        "reports:report_attachment": [
            Access(
                reverse("reports:report_attachment", args=[code, attachment]),
                outsiders=(*strangers, "reporter", "village_director"),
            )
        ],
        "reports:task_done": [
            Access(
                reverse("reports:task_done", args=[task]),
                allowed=("village_director", "county_admin"),
                outsiders=(
                    "other_village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "system_admin",
                    "other_county_admin",
                ),
                read_only=("auditor",),
            )
        ],
        "reports:failure_list": [
            Access(
                reverse("reports:failure_list"),
                allowed=("county_admin", "auditor", "other_county_admin"),
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "system_admin",
                ),
            )
        ],
        "reports:failure_create": [
            Access(
                reverse("reports:failure_create"),
                allowed=("county_admin", "other_county_admin"),
                outsiders=("village_director", "department_officer", "reporter", "system_admin"),
                read_only=("auditor",),
            )
        ],
        "api:report_collection": [
            Access(
                reverse("api:report_collection"),
                api=True,
                allowed=everyone_but_admin,
                outsiders=("system_admin",),
            ),
            Access(
                reverse("api:report_collection"),
                method="post",
                data={},
                api=True,
                allowed=submitters,
                outsiders=("system_admin",),
                read_only=("auditor",),
            ),
        ],
        "api:report_detail": [
            Access(api_detail, api=True, allowed=readers, outsiders=strangers),
            Access(
                api_detail,
                method="patch",
                data={"facts": "x"},
                api=True,
                allowed=(*movers, "reporter", "village_director"),
                outsiders=strangers,
                read_only=("auditor",),
            ),
        ],
        "api:report_transitions": [
            Access(
                reverse("api:report_transitions", args=[code]),
                method="post",
                data={},
                api=True,
                allowed=(*movers, "reporter"),
                outsiders=strangers,
                read_only=("auditor",),
            )
        ],
        "api:report_addenda": [
            Access(
                reverse("api:report_addenda", args=[code]),
                method="post",
                data={},
                api=True,
                allowed=addenda,
                outsiders=not_addenda,
                read_only=("auditor",),
            )
        ],
        "api:report_attachment": [
            Access(
                reverse("api:report_attachment", args=[code, attachment]),
                api=True,
                outsiders=(*strangers, "reporter", "village_director"),
            )
        ],
    }


def intervention_cases(actors: Actors) -> dict[str, list[Access]]:
    """Guardianship interventions: a temporary guardianship of a child of 东村, linked to a
    report the police (the stock department officer) handle, with a document on record (not
    opened: the allowed are not listed for it). Posts carry empty forms: nothing is saved."""
    from tongxin.protection.tests.test_interventions import make_intervention

    intervention = make_intervention(actors, documents=False)
    document = intervention.documents.create(
        file="interventions/scope.pdf", kind="pdf", size=1, uploaded_by=actors.county_admin
    ).public_id
    child, code = intervention.child.public_id, intervention.public_id
    writers = ("county_admin", "department_officer")
    nobody = (
        "other_village_director",
        "other_town_director",
        "other_department_officer",
        "town_supervisor",
        "reporter",
        "system_admin",
        "other_county_admin",
    )
    readers = (*writers, "auditor")
    not_writers, auditor = (*nobody, "village_director"), ("auditor",)
    create = reverse("reports:intervention_create", args=[child])
    return {
        "reports:intervention_list": [
            Access(
                reverse("reports:intervention_list", args=[child]),
                allowed=(*readers, "village_director"),
                outsiders=nobody,
            )
        ],
        "reports:intervention_create": [
            Access(create, allowed=writers, outsiders=not_writers, read_only=auditor),
            Access(
                create,
                method="post",
                data={},
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            ),
        ],
        "reports:intervention_detail": [
            Access(
                reverse("reports:intervention_detail", args=[code]),
                allowed=readers,
                outsiders=(*nobody, "village_director"),
            )
        ],
        "reports:intervention_assess": [
            Access(
                reverse("reports:intervention_assess", args=[code]),
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            )
        ],
        "reports:intervention_end": [
            Access(
                reverse("reports:intervention_end", args=[code]),
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            ),
            Access(
                reverse("reports:intervention_end", args=[code]),
                method="post",
                data={},
                allowed=writers,
                outsiders=not_writers,
                read_only=auditor,
            ),
        ],
        "reports:intervention_document": [
            Access(
                reverse("reports:intervention_document", args=[code, document]),
                outsiders=(*nobody, "village_director"),
            )
        ],
    }


def report_stats_cases(actors: Actors) -> dict[str, list[Access]]:
    """The statistics of mandatory reports: the county, the auditor and department officers;
    a division outside the user's own answers 404 like one that is not there."""
    readers = ("county_admin", "auditor", "department_officer", "other_department_officer")
    others = (
        "village_director",
        "town_supervisor",
        "reporter",
        "system_admin",
        "other_village_director",
    )
    town = {"division": "620724100000", "period": "2024"}
    cases: dict[str, list[Access]] = {}
    for name, api in (("reports:report_stats", False), ("api:report_stats", True)):
        url = reverse(name)
        cases[name] = [
            Access(url, api=api, allowed=(*readers, "other_county_admin"), outsiders=others),
            Access(
                url + "?" + "&".join(f"{k}={v}" for k, v in town.items()),
                api=api,
                allowed=readers,
                outsiders=(*others, "other_county_admin"),
            ),
        ]
    return cases


def referral_cases(actors: Actors) -> dict[str, list[Access]]:
    """Problems found and referrals: a problem of a child of 东村 owned by the police (the
    stock department officer's department), referred by the county officer to the police,
    sharing the child and the problem; a report (routed to the police) to refer. Posts carry
    empty forms: the allowed get errors (400, 302, 428), nothing changes. Those who see a
    referral but do not receive it get 403 on its transitions (listed as read-only)."""
    from tongxin.accounts.models import Organisation
    from tongxin.protection import referrals
    from tongxin.protection.tests.conftest import file_report
    from tongxin.registry.tests.conftest import make_family

    child = make_family(actors, name="郑小冬", father_left=None, mother_left=None)
    police = Organisation.objects.get(department="police", division_id="620724000000")
    problem = referrals.problem_raise(
        actor=actors.village_director,
        child=child,
        fields={"category": "safety", "description": "放学路上被拦", "owner_department": police},
    )
    other = referrals.problem_raise(
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
    ).public_id
    report = file_report(actors).public_id
    code = problem.public_id
    keepers = ("county_admin", "town_supervisor", "village_director")
    readers = (*keepers, "auditor")
    strangers = (
        "other_village_director",
        "other_town_director",
        "other_department_officer",
        "reporter",
        "system_admin",
        "other_county_admin",
    )
    local = ("village_director", "town_supervisor")
    referral_readers = ("county_admin", "auditor", "department_officer", *local)
    detail = reverse("reports:referral_detail", args=[referral])
    api_detail = reverse("api:referral_detail", args=[referral])
    problems_page = reverse("reports:child_problems", args=[child.public_id])
    api_problems = reverse("api:child_problems", args=[child.public_id])
    return {
        "reports:child_problems": [
            Access(
                problems_page,
                allowed=readers,
                outsiders=(*strangers, "department_officer"),
            ),
            Access(
                problems_page,
                method="post",
                data={},
                allowed=keepers,
                outsiders=(*strangers, "department_officer"),
                read_only=("auditor",),
            ),
        ],
        "api:child_problems": [
            Access(
                api_problems,
                api=True,
                allowed=readers,
                outsiders=(*strangers, "department_officer"),
            ),
            Access(
                api_problems,
                method="post",
                data={},
                api=True,
                allowed=keepers,
                outsiders=(*strangers, "department_officer"),
                read_only=("auditor",),
            ),
        ],
        "reports:problem_mine": [
            Access(
                reverse("reports:problem_mine"),
                allowed=(*keepers, "department_officer", "other_department_officer"),
                outsiders=("reporter", "system_admin", "auditor"),
            )
        ],
        "reports:problem_detail": [
            Access(
                reverse("reports:problem_detail", args=[code]),
                allowed=(*readers, "department_officer"),
                outsiders=strangers,
            )
        ],
        "api:problem_detail": [
            Access(
                reverse("api:problem_detail", args=[code]),
                api=True,
                allowed=(*readers, "department_officer"),
                outsiders=strangers,
            ),
            Access(
                reverse("api:problem_detail", args=[code]),
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
                Access(
                    reverse(f"reports:problem_{name}", args=[code]),
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
            Access(
                reverse("reports:referral_list"),
                allowed=(
                    *referral_readers,
                    "other_village_director",
                    "other_town_director",
                    "other_department_officer",
                    "other_county_admin",
                ),
                outsiders=("reporter", "system_admin"),
            )
        ],
        "reports:referral_create": [
            Access(
                reverse("reports:referral_create") + f"?problem={other.public_id}",
                allowed=("county_admin", "town_supervisor"),
                outsiders=(*strangers, "village_director", "department_officer"),
                read_only=("auditor",),
            ),
            Access(
                reverse("reports:referral_create") + f"?report={report}",
                allowed=("county_admin", "department_officer"),
                outsiders=(*strangers, "village_director", "town_supervisor"),
                read_only=("auditor",),
            ),
            Access(
                reverse("reports:referral_create") + f"?problem={other.public_id}",
                method="post",
                data={"problem": str(other.public_id)},
                allowed=("county_admin", "town_supervisor"),
                outsiders=(*strangers, "village_director", "department_officer"),
                read_only=("auditor",),
            ),
        ],
        "api:referral_create": [
            Access(
                reverse("api:referral_create"),
                method="post",
                data={
                    "problem": str(other.public_id),
                    "department": str(police.public_id),
                    "reason": "需要公安介入",
                    "sections": ["child"],
                },
                api=True,
                # The first creates it; the second is told it is already referred (409).
                allowed=("county_admin", "town_supervisor"),
                outsiders=(*strangers, "department_officer"),
                read_only=("auditor", "village_director"),  # sees the problem, may not refer
            )
        ],
        "reports:referral_detail": [
            Access(detail, allowed=referral_readers, outsiders=strangers),
        ],
        "api:referral_detail": [
            Access(api_detail, api=True, allowed=referral_readers, outsiders=strangers),
        ],
        "reports:referral_transition": [
            Access(
                reverse("reports:referral_transition", args=[referral]),
                method="post",
                data={},
                allowed=("department_officer",),
                outsiders=strangers,
                read_only=("auditor", "county_admin", *local),
            )
        ],
        "api:referral_transitions": [
            Access(
                reverse("api:referral_transitions", args=[referral]),
                method="post",
                data={},
                api=True,
                allowed=("department_officer",),
                outsiders=strangers,
                read_only=("auditor", "county_admin", *local),
            )
        ],
    }


def settings_cases() -> dict[str, list[Access]]:
    """The working-day calendar and the routing of new reports: county officers change them,
    the auditor reads them (403 on a post), everyone else gets 404. Posts carry empty forms."""
    others = (
        "town_supervisor",
        "village_director",
        "department_officer",
        "reporter",
        "system_admin",
    )
    cases: dict[str, list[Access]] = {}
    for name in ("core:workdays", "reports:routing"):
        cases[name] = [
            Access(
                reverse(name),
                allowed=("county_admin", "other_county_admin", "auditor"),
                outsiders=others,
            ),
            Access(reverse(name), method="post", data={}, outsiders=others, read_only=("auditor",)),
        ]
    return cases


def organisation_cases() -> dict[str, list[Access]]:
    """The organisation pages: county and system administrators, inside their own division."""
    from tongxin.accounts.models import Organisation

    school = Organisation.objects.get(name="城关镇中心小学").public_id
    admins = ("county_admin", "system_admin")
    return {
        "accounts:organisation_list": [
            Access(
                reverse("accounts:organisation_list"),
                allowed=admins,
                outsiders=(
                    "village_director",
                    "town_supervisor",
                    "department_officer",
                    "reporter",
                    "auditor",
                ),
            )
        ],
        "accounts:organisation_create": [
            Access(
                reverse("accounts:organisation_create"),
                allowed=admins,
                outsiders=("village_director", "town_supervisor", "department_officer", "reporter"),
                read_only=("auditor",),
            )
        ],
        "accounts:organisation_detail": [
            Access(
                reverse("accounts:organisation_detail", args=[school]),
                allowed=admins,
                outsiders=("other_county_admin", "village_director", "reporter"),
                read_only=("auditor",),
            ),
            Access(
                reverse("accounts:organisation_detail", args=[school]),
                method="post",
                data={
                    "name": "城关镇中心小学",
                    "kind": "institution",
                    "institution_type": "school",
                    "division": "620724100000",
                },
                outsiders=("other_county_admin", "department_officer", "reporter"),
                read_only=("auditor",),
            ),
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
