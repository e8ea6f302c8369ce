"""The audit trail can be added to, never changed: in the ORM and in the database itself."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, models, transaction

from tongxin.audit.models import AppendOnlyError, AuditEvent
from tongxin.audit.services import audit_record
from tongxin.testing import Actors


@pytest.fixture
def event(actors: Actors) -> AuditEvent:
    return audit_record(
        actor=actors.county_admin,
        action="user.create",
        object_type="user",
        object_code="00000000-0000-0000-0000-000000000001",
        division_code="620724000000",
        detail={"role": "auditor"},
    )


def test_it_records_the_actor_as_they_were(event: AuditEvent, actors: Actors) -> None:
    event.refresh_from_db()
    assert (event.actor_username, event.actor_role) == ("county_admin", "county_admin")
    assert (event.result, event.ip) == ("ok", None)


def test_it_refuses_to_save_an_event_again(event: AuditEvent) -> None:
    event.action = "x"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "user.create"


def test_it_refuses_to_delete_an_event(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_to_update_through_a_queryset(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(action="x")
    event.action = "x"
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "user.create"


def test_it_refuses_to_delete_through_a_queryset(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_it_refuses_raw_sql_changes(event: AuditEvent, sql: str) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).action == "user.create"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_it_refuses_truncate_on_postgresql(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_keeps_events_when_their_actor_would_be_deleted() -> None:
    # PROTECT: deleting an account that has a trail fails instead of emptying the trail.
    assert AuditEvent._meta.get_field("actor").remote_field.on_delete is models.PROTECT
