"""``manage.py remind``: the daily digest of due-soon and overdue lines, the escalations to the
town supervisor and to the county, their e-mails, and nothing new on a second run that day.

The child of 东村 is left-behind from May 2024 (its mother left on 1 February), registered on
1 January, at low risk: on 25 June 2024 its June contact is overdue since the end of May (the
first counted month) and its quarterly home visit is due on 30 June."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent
from tongxin.notices.models import Notification
from tongxin.registry.models import Child, ChildStatus
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors
from tongxin.visits import services
from tongxin.visits.models import CadencePolicyVersion, ChildRisk
from tongxin.visits.reminders import remind, villages_without_director

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 25)
COMMUNITY = "620724100001"  # 城关镇社区: no director in the stock world


def _low_risk(child: Child) -> Child:
    # The stored level is today's; the scenario is judged in 2024 at the plan's calendar cadence.
    ChildRisk.objects.filter(child=child).update(level="low")
    return child


@pytest.fixture
def child(actors: Actors) -> Child:
    return _low_risk(make_family(actors))


def _with_email(user: User, address: str) -> User:
    user.email = address
    user.save(update_fields=["email"])
    return user


def _notes(user: User, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("pk"))


def test_a_director_gets_one_digest_with_masked_names(actors: Actors, child: Child) -> None:
    with translation.override("en"):
        summary = remind(as_of=AS_OF)
    (digest,) = _notes(actors.village_director, "digest")
    assert digest.key == "digest:2024-06-25"
    assert digest.title == "Contacts to make: 1 overdue, 1 due soon"
    assert digest.body == "王*明 · monthly contact · overdue since May 31, 2024"
    assert digest.url == "/visits/worklist/"
    assert "王*明" in digest.body
    assert "王小明" not in digest.body
    assert "王小明" not in digest.title
    assert summary.digests == 1
    # The supervisor's yearly family contact is not due before December: no digest.
    assert _notes(actors.town_supervisor, "digest") == []
    # Other villages' directors have nothing due.
    assert _notes(actors.other_village_director, "digest") == []


def test_the_digest_is_emailed_to_workers_with_an_address(actors: Actors, child: Child) -> None:
    _with_email(actors.village_director, "director@example.org")
    summary = remind(as_of=AS_OF)
    assert summary.emails_sent >= 1
    (message,) = [m for m in mail.outbox if m.to == ["director@example.org"]]
    assert "王*明" in message.body
    assert "王小明" not in message.body
    (digest,) = _notes(actors.village_director, "digest")
    assert digest.emailed_at is not None


def test_a_second_run_the_same_day_sends_nothing_new(actors: Actors, child: Child) -> None:
    _with_email(actors.village_director, "director@example.org")
    _with_email(actors.town_supervisor, "supervisor@example.org")
    first = remind(as_of=AS_OF)
    assert (first.digests, first.escalations) == (1, 1)
    sent = len(mail.outbox)
    assert sent == 2
    count = Notification.objects.count()
    second = remind(as_of=AS_OF)
    assert (second.digests, second.escalations, second.county_alerts) == (0, 0, 0)
    assert second.emails_sent == 0
    assert len(mail.outbox) == sent
    assert Notification.objects.count() == count
    # The next day brings a new digest, but not the same escalation again.
    third = remind(as_of=date(2024, 6, 26))
    assert (third.digests, third.escalations) == (1, 0)


def test_an_overdue_child_is_escalated_to_the_town_supervisor(actors: Actors, child: Child) -> None:
    remind(as_of=AS_OF)
    (note,) = _notes(actors.town_supervisor, "escalation_overdue")
    assert note.key == f"overdue:{child.public_id}:2024-05-31"
    assert "王*明" in note.title
    assert "东村" in note.title
    assert "王小明" not in note.body
    assert note.url == f"/children/{child.public_id}/"
    # Only the supervisor of the village's town.
    assert not Notification.objects.filter(kind="escalation_overdue").exclude(
        recipient=actors.town_supervisor
    )


@pytest.mark.parametrize(("as_of", "escalated"), [(date(2024, 6, 15), 0), (date(2024, 6, 16), 1)])
def test_it_escalates_only_after_more_than_15_days(
    actors: Actors, child: Child, as_of: date, escalated: int
) -> None:
    assert remind(as_of=as_of).escalations == escalated
    assert len(_notes(actors.town_supervisor, "escalation_overdue")) == escalated


def test_the_policy_in_force_sets_the_escalation_delay(actors: Actors, child: Child) -> None:
    CadencePolicyVersion.objects.create(
        effective_from=date(2024, 1, 1), escalate_after_days=30, reason="放宽"
    )
    assert remind(as_of=AS_OF).escalations == 0  # 25 days overdue
    assert remind(as_of=date(2024, 7, 1)).escalations == 1  # 31 days


def test_a_new_missed_due_date_is_a_new_escalation(actors: Actors, child: Child) -> None:
    remind(as_of=AS_OF)
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": date(2024, 6, 26), "met_caregiver": True},
    )
    # The contact settles May; the quarter's home visit is missed on 30 June.
    assert remind(as_of=date(2024, 7, 10)).escalations == 0
    assert remind(as_of=date(2024, 7, 20)).escalations == 1
    keys = [n.key for n in _notes(actors.town_supervisor, "escalation_overdue")]
    assert keys == [
        f"overdue:{child.public_id}:2024-05-31",
        f"overdue:{child.public_id}:2024-06-30",
    ]


def test_a_village_without_an_active_director_is_reported_to_the_county(
    actors: Actors, child: Child
) -> None:
    _low_risk(make_family(actors, village=COMMUNITY, name="李小红"))
    _with_email(actors.county_admin, "county@example.org")
    summary = remind(as_of=AS_OF)
    assert summary.villages_without_director == 1
    (note,) = _notes(actors.county_admin, "escalation_no_director")
    assert note.key == "no-director:2024-06-25"
    assert "城关镇社区" in note.body
    assert COMMUNITY in note.body
    assert "东村" not in note.body
    # Not the officer of another county, not the workers.
    assert _notes(actors.other_county_admin, "escalation_no_director") == []
    assert any(m.to == ["county@example.org"] for m in mail.outbox)


def test_a_deactivated_director_leaves_the_village_without_one(
    actors: Actors, child: Child
) -> None:
    assert [v.code for v, _n in villages_without_director()] == []
    director = actors.village_director
    director.is_active = False
    director.save(update_fields=["is_active"])
    assert [(v.code, n) for v, n in villages_without_director()] == [("620724100201", 1)]
    # A village whose only child left scope is not reported.
    Child.objects.filter(pk=child.pk).update(status=ChildStatus.CLOSED)
    assert villages_without_director() == []


def test_the_run_is_audited_once_with_counts_only(actors: Actors, child: Child) -> None:
    remind(as_of=AS_OF)
    (event,) = AuditEvent.objects.filter(action="visits.remind")
    assert event.object_code == "2024-06-25"
    assert event.detail["digests"] == 1
    assert event.detail["escalations"] == 1
    assert "王" not in str(event.detail)


def test_the_command_prints_a_summary(actors: Actors, child: Child) -> None:
    out = StringIO()
    call_command("remind", "--as-of", "2024-06-25", stdout=out)
    text = out.getvalue()
    assert "2024-06-25" in text
    assert _notes(actors.village_director, "digest")


def test_refresh_risk_recomputes_and_prints_counts(actors: Actors, child: Child) -> None:
    # Stored low above; the day after it was computed both parents have been away for years
    # and there is no agreement. (A run as of an earlier day writes the history only:
    # test_risk_history.py.)
    later = timezone.localdate() + timedelta(days=1)
    out = StringIO()
    call_command("refresh_risk", "--as-of", later.isoformat(), stdout=out)
    assert later.isoformat() in out.getvalue()
    risk = ChildRisk.objects.get(pk=child.pk)
    assert risk.level == "high"
    assert risk.computed_on == later
    assert "both_parents_away" in risk.factors
