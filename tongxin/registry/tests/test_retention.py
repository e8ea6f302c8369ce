"""Retention (decision 019): a file closed longer than TONGXIN_RETENTION_YEARS loses its
personal values, in its rows and their history, and keeps what statistics need; a sibling's
open file keeps the family; the run is audited; a dry run changes nothing and prints no
personal value."""

from __future__ import annotations

import random
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tongxin.audit.models import AuditEvent
from tongxin.lib import idcard
from tongxin.registry import services
from tongxin.registry.models import Child, Household, Parent
from tongxin.registry.services.retention import retention_apply
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, database_owner
from tongxin.visits.services import contact_record

TODAY = date(2031, 6, 1)


def _close(actors: Actors, child: Child, since: date) -> Child:
    return services.child_set_status(
        actor=actors.county_admin,
        child=child,
        version=child.version,
        status="closed",
        reason="迁出本县",
        since=since,
    )


def _number() -> str:
    return idcard.generate(
        random.Random(3), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )


@pytest.mark.django_db
class TestRetention:
    def test_it_archives_a_file_closed_long_enough_and_its_history(self, actors: Actors) -> None:
        child = make_family(actors, id_number=_number(), name="李小红")
        household = child.household
        contact_record(
            actor=actors.village_director,
            household=household,
            children=[child],
            fields={
                "kind": "phone",
                "day": date(2026, 5, 1),
                "met_child": True,
                "notes": "家里老人身体不好",
            },
        )
        _close(actors, child, date(2026, 5, 31))
        recent = make_family(actors, name="赵小刚", village="620724100202")
        _close(actors, recent, date(2026, 6, 2))

        with database_owner():
            plan = retention_apply(today=TODAY)

        assert plan.counts == {
            "children": 1,
            "households": 1,
            "parents": 2,
            "migrations": 2,
            "agreements": 0,
        }
        child.refresh_from_db()
        assert (child.name, child.id_number_enc, child.id_number_hash) == ("", None, None)
        assert child.birth_date == date(2014, 1, 1)
        assert child.archived_on == TODAY
        assert child.village_id == "620724100201"
        assert child.category_codes
        assert Household.objects.get(pk=household.pk).address == ""
        assert set(Parent.objects.filter(household=household).values_list("name", flat=True)) == {
            ""
        }
        history = Child.history.filter(id=child.pk)
        assert set(history.values_list("name", flat=True)) == {""}
        assert {d.day for d in history.values_list("birth_date", flat=True)} == {1}
        contact = household.contacts.get()
        assert contact.notes == ""
        assert set(contact.history.values_list("notes", flat=True)) == {""}
        assert Child.objects.get(pk=recent.pk).name == "赵小刚"
        entry = AuditEvent.objects.get(action="child.archive")
        assert entry.detail["children"] == 1
        assert "李小红" not in str(entry.detail)
        # The history tables are append-only again afterwards.
        with database_owner(), pytest.raises(DatabaseError), transaction.atomic():
            Child.history.filter(id=child.pk).update(name="x")

    def test_a_sibling_with_an_open_file_keeps_the_family(self, actors: Actors) -> None:
        child = make_family(actors)
        sibling = services.child_register(
            actor=actors.county_admin,
            household=child.household,
            fields={
                "name": "王小丽",
                "gender": "female",
                "birth_date": date(2016, 2, 2),
                "registered_on": date(2024, 1, 1),
                "id_missing_reason": "not_registered",
            },
        ).child
        _close(actors, child, date(2020, 1, 1))
        with database_owner():
            plan = retention_apply(today=TODAY)
        assert plan.counts["children"] == 1
        assert plan.counts["households"] == 0
        assert Household.objects.get(pk=child.household_id).address == "一组"
        assert Child.objects.get(pk=sibling.pk).name == "王小丽"

    def test_the_dry_run_lists_codes_and_changes_nothing(self, actors: Actors) -> None:
        child = _close(actors, make_family(actors, name="孙小梅"), date(2020, 1, 1))
        out = StringIO()
        call_command("retention", "--dry-run", stdout=out)
        # The real today: 2020 is more than five years ago from 2026 on.
        assert str(child.public_id) in out.getvalue()
        assert "孙小梅" not in out.getvalue()
        assert Child.objects.get(pk=child.pk).name == "孙小梅"
        assert not AuditEvent.objects.filter(action="child.archive").exists()

    @pytest.mark.skipif("connection.vendor != 'postgresql'")
    def test_the_runtime_role_is_told_to_run_it_as_the_owner(self, actors: Actors) -> None:
        _close(actors, make_family(actors), date(2020, 1, 1))
        from django.core.management.base import CommandError

        with pytest.raises(CommandError), transaction.atomic():
            call_command("retention", stdout=StringIO())
        assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_an_archived_file_is_named_as_such_and_never_reopened(actors: Actors) -> None:
    from django.core.exceptions import ValidationError

    from tongxin.testing import web_client

    child = make_family(actors, id_number=_number(), name="周小红")
    _close(actors, child, date(2020, 1, 1))
    with database_owner():
        retention_apply(today=TODAY)
    child.refresh_from_db()

    for change in (
        lambda: services.child_set_status(
            actor=actors.county_admin,
            child=child,
            version=child.version,
            status="active",
            reason="",
            since=date(2026, 1, 1),
        ),
        lambda: services.child_update(
            actor=actors.county_admin,
            child=child,
            version=child.version,
            changes={"name": "周小明"},
        ),
    ):
        with pytest.raises(ValidationError, match="归档"):
            change()
    child.refresh_from_db()
    assert (child.status, child.name) == ("closed", "")

    client = web_client(actors.county_admin)
    listed = client.get("/children/?status=").content.decode()
    assert f"已归档（{TODAY.isoformat()}）" in listed
    page = client.get(f"/children/{child.public_id}/").content.decode()
    assert f"已归档（{TODAY.isoformat()}）" in page
    assert "保存期限" in page
