"""The cadence policy page: the versions with their dates, a new version added by a county
officer from today or later, read-only for the other file readers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.testing import Actors, web_client
from tongxin.visits.models import CadencePolicyVersion

pytestmark = pytest.mark.django_db

URL = reverse("visits:policy")


def _form(**over: Any) -> dict[str, Any]:
    return {
        "effective_from": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "monthly_contact": "on",
        "quarterly_home_visit": "on",
        "yearly_family_contact": "on",
        "high_contact_days": 10,
        "high_visit_days": 30,
        "medium_visit_days": 60,
        "due_soon_days": 7,
        "escalate_after_days": 20,
        "reason": "县里加密联系",
        **over,
    }


def test_it_shows_the_plans_defaults_in_force(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(URL)
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row.effective_from is None
    assert row.state == "in_force"
    assert (row.high_contact_days, row.escalate_after_days) == (15, 15)
    form = response.context["form"]
    assert form is not None
    assert form.initial["effective_from"] == timezone.localdate()


def test_a_county_officer_adds_a_version_from_tomorrow(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    response = client.post(URL, _form())
    assert response.status_code == 302
    version = CadencePolicyVersion.objects.get()
    assert (version.high_contact_days, version.escalate_after_days) == (10, 20)
    assert version.created_by == actors.county_admin
    assert AuditEvent.objects.filter(action="cadence.policy_add").count() == 1
    rows = client.get(URL).context["rows"]
    assert [r.state for r in rows] == ["in_force", "scheduled"]
    assert rows[1].reason == "县里加密联系"


def test_a_version_in_the_past_is_refused(actors: Actors) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    response = web_client(actors.county_admin).post(
        URL, _form(effective_from=yesterday.isoformat())
    )
    assert response.status_code == 400
    assert response.context["form"].errors["effective_from"]
    assert not CadencePolicyVersion.objects.exists()


def test_an_interval_longer_than_the_calendar_is_refused(actors: Actors) -> None:
    response = web_client(actors.county_admin).post(URL, _form(high_contact_days=40))
    assert response.status_code == 400
    assert response.context["form"].errors["high_contact_days"]
    assert not CadencePolicyVersion.objects.exists()


def test_the_version_in_force_and_the_superseded_one(actors: Actors) -> None:
    CadencePolicyVersion.objects.create(effective_from=date(2024, 7, 1), reason="一")
    response = web_client(actors.town_supervisor).get(URL)
    assert [r.state for r in response.context["rows"]] == ["past", "in_force"]


@pytest.mark.parametrize("key", ["town_supervisor", "village_director", "auditor"])
def test_other_file_readers_see_it_read_only(actors: Actors, key: str) -> None:
    client = web_client(getattr(actors, key))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["form"] is None
    assert client.post(URL, _form()).status_code == 403
    assert not CadencePolicyVersion.objects.exists()


@pytest.mark.parametrize("key", ["department_officer", "reporter", "system_admin"])
def test_roles_that_read_no_files_get_404(actors: Actors, key: str) -> None:
    assert web_client(getattr(actors, key)).get(URL).status_code == 404
