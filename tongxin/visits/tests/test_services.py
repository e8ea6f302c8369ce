"""Contacts, credits, the edit window, addenda, problems and risk: the services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.core.versions import StaleEdit
from tongxin.protection.models import Concern
from tongxin.registry import services as registry
from tongxin.registry.models import Child
from tongxin.testing import Actors
from tongxin.visits import services
from tongxin.visits.models import ChildRisk, Contact, ContactCredit
from tongxin.visits.tests.conftest import REACHED, VISITED, add_sibling

pytestmark = pytest.mark.django_db


def _fields(**over: Any) -> dict[str, Any]:
    return {"kind": "phone", "day": date(2024, 6, 3), **REACHED, **over}


def _record(actors: Actors, child: Child, **over: Any) -> services.Recorded:
    return services.contact_record(
        actor=over.pop("actor", actors.village_director),
        household=child.household,
        children=over.pop("children", [child]),
        fields=_fields(**over),
        idempotency_key=over.pop("key", "") if "key" in over else "",
    )


def _credited(contact: Contact) -> set[int]:
    return set(ContactCredit.objects.filter(contact=contact).values_list("child_id", flat=True))


def test_a_phone_contact_counts_for_the_child_named_only(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    contact = _record(actors, child).contact
    assert _credited(contact) == {child.pk}
    assert contact.author_role == "village_director"
    assert sibling.pk not in _credited(contact)


def test_a_home_visit_credits_every_sibling_registered_by_then(
    actors: Actors, child: Child
) -> None:
    sibling = add_sibling(actors, child)
    late = add_sibling(actors, child, name="王小刚", registered_on=date(2024, 7, 1))
    contact = _record(actors, child, kind="home_visit", **VISITED).contact
    assert _credited(contact) == {child.pk, sibling.pk}
    assert late.pk not in _credited(contact)
    credit = ContactCredit.objects.filter(contact=contact).first()
    assert credit is not None
    assert credit.home_visit
    assert credit.day == date(2024, 6, 3)


def test_the_same_idempotency_key_records_once(actors: Actors, child: Child) -> None:
    first = services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields=_fields(),
        idempotency_key="abc-1",
    )
    again = services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields=_fields(notes="retried"),
        idempotency_key="abc-1",
    )
    assert first.created
    assert not again.created
    assert again.contact.pk == first.contact.pk
    assert Contact.objects.filter(household=child.household).count() == 1


def test_a_future_date_and_a_missing_child_are_refused(actors: Actors, child: Child) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as e:
        _record(actors, child, day=tomorrow)
    assert "day" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        _record(actors, child, children=[])
    assert "children" in e.value.message_dict
    assert not Contact.objects.exists()


def test_outsiders_and_read_only_roles_cannot_record(actors: Actors, child: Child) -> None:
    for actor in (actors.other_village_director, actors.auditor, actors.department_officer):
        with pytest.raises(PermissionDenied):
            _record(actors, child, actor=actor)


def test_only_the_author_edits_and_only_within_48_hours(actors: Actors, child: Child) -> None:
    contact = _record(actors, child).contact
    with pytest.raises(PermissionDenied):
        services.contact_update(
            actor=actors.town_supervisor, contact=contact, version=1, changes={"notes": "x"}
        )
    updated = services.contact_update(
        actor=actors.village_director,
        contact=contact,
        version=1,
        changes={"kind": "home_visit", **VISITED},
    )
    assert updated.version == 2
    assert ContactCredit.objects.get(contact=contact).home_visit
    with pytest.raises(StaleEdit) as stale:
        services.contact_update(
            actor=actors.village_director, contact=contact, version=1, changes={"notes": "y"}
        )
    assert stale.value.current_version == 2
    assert any(c.field == "kind" for c in stale.value.changes)
    Contact.objects.filter(pk=contact.pk).update(
        created_at=timezone.now() - timedelta(hours=48, minutes=1)
    )
    contact.refresh_from_db()
    with pytest.raises(services.EditWindowClosed):
        services.contact_update(
            actor=actors.village_director, contact=contact, version=2, changes={"notes": "z"}
        )
    addendum = services.addendum_add(
        actor=actors.village_director, contact=contact, text="补记：家长已回电"
    )
    assert addendum.contact == contact
    contact.refresh_from_db()
    assert contact.notes == ""


def test_a_concern_becomes_a_problem_and_raises_the_risk(actors: Actors, child: Child) -> None:
    assert "high_severity_problem" not in ChildRisk.objects.get(pk=child.pk).factors
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields=_fields(check_safety="concern"),
        problems=[
            services.ProblemInput(
                checklist_item="check_safety",
                description="屋后水塘无护栏",
                solution="联系村委会加装护栏",
                severity="high",
                due_on=date(2024, 6, 30),
            )
        ],
    )
    concern = Concern.objects.get(child=child)
    assert concern.category == "safety"
    assert concern.severity == "high"
    risk = ChildRisk.objects.get(pk=child.pk)
    assert risk.level == "high"
    assert "high_severity_problem" in risk.factors
    events = AuditEvent.objects.filter(action="concern.raise")
    assert events.count() == 1
    assert "屋后" not in str(events.get().detail)


def test_a_problem_needs_its_item_marked_concern(actors: Actors, child: Child) -> None:
    with pytest.raises(ValidationError):
        services.contact_record(
            actor=actors.village_director,
            household=child.household,
            children=[child],
            fields=_fields(),
            problems=[services.ProblemInput(checklist_item="check_safety", description="x")],
        )
    assert not Contact.objects.exists()


def test_a_fact_change_recomputes_the_risk(actors: Actors, child: Child) -> None:
    risk = ChildRisk.objects.get(pk=child.pk)
    assert "dropout" not in risk.factors
    registry.child_update(
        actor=actors.village_director,
        child=child,
        version=child.version,
        changes={"enrolment": "dropped_out"},
    )
    risk.refresh_from_db()
    assert risk.level == "high"
    assert "儿童辍学" in risk.reasons


def test_an_override_holds_until_its_end_and_keeps_the_computed_level(
    actors: Actors, child: Child
) -> None:
    computed = ChildRisk.objects.get(pk=child.pk).computed_level
    until = timezone.localdate() + timedelta(days=10)
    with pytest.raises(PermissionDenied):
        services.risk_override_set(
            actor=actors.village_director, child=child, level="high", until=until, reason="x"
        )
    with pytest.raises(ValidationError):
        services.risk_override_set(
            actor=actors.town_supervisor, child=child, level="high", until=until, reason=" "
        )
    risk = services.risk_override_set(
        actor=actors.town_supervisor, child=child, level="high", until=until, reason="家中有变故"
    )
    assert (risk.level, risk.computed_level) == ("high", computed)
    assert AuditEvent.objects.filter(action="risk.override").exists()
    from tongxin.visits.risk import risk_refresh

    lapsed = risk_refresh(child, as_of=until + timedelta(days=1))
    assert (lapsed.level, lapsed.override_level) == (computed, "")


def test_a_cadence_version_takes_effect_today_or_later(actors: Actors) -> None:
    past = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError):
        services.policy_version_add(
            actor=actors.county_admin, fields={"effective_from": past, "reason": "调整"}
        )
    with pytest.raises(PermissionDenied):
        services.policy_version_add(
            actor=actors.town_supervisor,
            fields={"effective_from": timezone.localdate(), "reason": "调整"},
        )
    version = services.policy_version_add(
        actor=actors.county_admin,
        fields={
            "effective_from": timezone.localdate() + timedelta(days=30),
            "high_contact_days": 10,
            "reason": "提高高风险儿童联系频次",
        },
    )
    from tongxin.visits.models import policy_versions

    versions = policy_versions()
    assert versions[0].effective_from == date.min
    assert versions[-1].high_contact_days == 10 == version.high_contact_days


def test_the_work_log_is_kept_for_the_authors_division(actors: Actors, child: Child) -> None:
    entry = services.worklog_record(
        actor=actors.village_director,
        fields={"day": date(2024, 6, 5), "kind": "meeting", "title": "村两委例会"},
        children=[child],
    )
    assert entry.division_id == actors.village_director.division_id
    assert list(child.work_log.all()) == [entry]
    with pytest.raises(PermissionDenied):
        services.worklog_record(
            actor=actors.other_village_director,
            fields={"day": date(2024, 6, 5), "kind": "meeting", "title": "x"},
            children=[child],
        )
