"""The child's risk page and API: the computed level with each factor's reason, the override
set and cleared by county officers and town supervisors (audited), read-only for the others."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.registry.models import Child
from tongxin.testing import Actors, api_client, web_client
from tongxin.visits import services
from tongxin.visits.models import ChildRisk
from tongxin.visits.tests import worklist_world as world

pytestmark = pytest.mark.django_db


def _page(child: Child) -> str:
    return reverse("visits:child_risk", args=[child.public_id])


def _api(child: Child, override: bool = False) -> str:
    name = "api:child_risk_override" if override else "api:child_risk"
    return reverse(name, args=[child.public_id])


def _override(**over: Any) -> dict[str, Any]:
    until = timezone.localdate() + timedelta(days=30)
    return {
        "action": "set",
        "level": "low",
        "until": until.isoformat(),
        "reason": "父亲已返乡",
        **over,
    }


def test_it_shows_the_computed_level_with_each_factors_reason(actors: Actors, child: Child) -> None:
    # Both parents away since early 2024 (12 months and more by now), no care agreement.
    response = web_client(actors.village_director).get(_page(child))
    assert response.status_code == 200
    body = response.content.decode()
    codes = [f["code"] for f in response.context["factors"]]
    assert codes == ["both_parents_away", "care_agreement"]
    assert "父母均外出务工满12个月" in body
    assert "留守儿童没有委托照护协议" in body
    assert response.context["risk"].computed_level == "high"
    # A village director may look but gets no form.
    assert response.context["form"] is None
    assert AuditEvent.objects.filter(
        action="child.view", object_code=str(child.public_id), actor=actors.village_director
    ).exists()


def test_a_county_officer_overrides_and_the_computed_level_stays(
    actors: Actors, child: Child
) -> None:
    client = web_client(actors.county_admin)
    assert client.get(_page(child)).context["form"] is not None
    response = client.post(_page(child), _override())
    assert response.status_code == 302
    risk = ChildRisk.objects.get(pk=child.pk)
    assert (risk.level, risk.computed_level, risk.override_reason) == ("low", "high", "父亲已返乡")
    event = AuditEvent.objects.get(action="risk.override", object_code=str(child.public_id))
    assert event.detail["level"] == "low"
    assert event.detail["computed"] == "high"
    page = client.get(_page(child))
    assert page.context["risk"].override_level == "low"
    assert "父亲已返乡" in page.content.decode()


def test_a_town_supervisor_clears_the_override(actors: Actors, child: Child) -> None:
    client = web_client(actors.town_supervisor)
    client.post(_page(child), _override())
    assert ChildRisk.objects.get(pk=child.pk).level == "low"
    assert client.post(_page(child), {"action": "clear"}).status_code == 302
    risk = ChildRisk.objects.get(pk=child.pk)
    assert (risk.level, risk.override_level) == ("high", "")
    assert AuditEvent.objects.filter(action="risk.override_clear").count() == 1


def test_a_past_end_date_is_refused_and_nothing_changes(actors: Actors, child: Child) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    response = web_client(actors.county_admin).post(
        _page(child), _override(until=yesterday.isoformat())
    )
    assert response.status_code == 400
    assert response.context["form"].errors["until"]
    assert ChildRisk.objects.get(pk=child.pk).override_level == ""
    assert not AuditEvent.objects.filter(action="risk.override").exists()


@pytest.mark.parametrize("key", ["village_director", "auditor"])
def test_a_director_or_auditor_may_not_override(actors: Actors, child: Child, key: str) -> None:
    client = web_client(getattr(actors, key))
    assert client.get(_page(child)).status_code == 200
    assert client.post(_page(child), _override()).status_code == 403
    assert ChildRisk.objects.get(pk=child.pk).override_level == ""


def test_an_outsider_gets_404_and_the_denial_is_audited(actors: Actors, child: Child) -> None:
    assert web_client(actors.other_village_director).get(_page(child)).status_code == 404
    assert (
        web_client(actors.other_village_director).post(_page(child), _override()).status_code == 404
    )
    assert AuditEvent.objects.filter(
        action="child.view", result="denied", object_code=str(child.public_id)
    ).exists()


# --- API ---------------------------------------------------------------------------------


def test_the_api_returns_the_risk(actors: Actors, child: Child) -> None:
    response = api_client(actors.auditor).get(_api(child))
    assert response.status_code == 200
    data = response.json()
    assert data["child"] == str(child.public_id)
    assert (data["level"], data["computed_level"]) == ("high", "high")
    assert [f["code"] for f in data["factors"]] == ["both_parents_away", "care_agreement"]
    assert data["factors"][1]["reason"] == "留守儿童没有委托照护协议"
    assert data["override"] is None
    assert AuditEvent.objects.filter(action="child.view", actor=actors.auditor).exists()


def test_the_api_sets_and_clears_the_override(actors: Actors, child: Child) -> None:
    client = api_client(actors.town_supervisor)
    body = _override(level="medium")
    body.pop("action")
    response = client.post(_api(child, override=True), body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["level"] == "medium"
    assert data["computed_level"] == "high"
    assert data["override"]["until"] == body["until"]
    assert data["override"]["reason"] == "父亲已返乡"
    cleared = client.delete(_api(child, override=True))
    assert cleared.status_code == 200
    assert cleared.json()["override"] is None
    assert ChildRisk.objects.get(pk=child.pk).level == "high"


def test_the_api_refuses_bad_input_with_the_field_named(actors: Actors, child: Child) -> None:
    client = api_client(actors.county_admin)
    bad_level = client.post(
        _api(child, override=True), {**_override(level="extreme")}, format="json"
    )
    assert bad_level.status_code == 400
    assert "level" in bad_level.json()
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    late = client.post(_api(child, override=True), _override(until=past), format="json")
    assert late.status_code == 400
    assert "until" in late.json()
    assert ChildRisk.objects.get(pk=child.pk).override_level == ""


@pytest.mark.parametrize(("key", "status"), [("village_director", 403), ("auditor", 403)])
def test_the_api_override_is_refused_to_readers(
    actors: Actors, child: Child, key: str, status: int
) -> None:
    client = api_client(getattr(actors, key))
    assert client.post(_api(child, override=True), _override(), format="json").status_code == status
    assert client.delete(_api(child, override=True)).status_code == status
    assert ChildRisk.objects.get(pk=child.pk).override_level == ""


def test_the_api_answers_404_to_an_outsider(actors: Actors, child: Child) -> None:
    for key in ("other_village_director", "department_officer", "other_county_admin"):
        client = api_client(getattr(actors, key))
        assert client.get(_api(child)).status_code == 404, key
        assert (
            client.post(_api(child, override=True), _override(), format="json").status_code == 404
        )


# --- the history (issue 10) ----------------------------------------------------------------


def _with_history(actors: Actors, child: Child) -> None:
    """Medium from 1 May 2024 (recorded then), high from registration today; then a town
    supervisor lowers it today for 30 days."""
    world.risk_history(child, [(date(2024, 5, 1), "medium")])
    services.risk_override_set(
        actor=actors.town_supervisor,
        child=child,
        level="low",
        until=timezone.localdate() + timedelta(days=29),
        reason="父亲已返乡",
    )


def test_the_page_shows_the_history_with_each_override(actors: Actors, child: Child) -> None:
    _with_history(actors, child)
    response = web_client(actors.village_director).get(_page(child))
    assert response.status_code == 200
    rows = [(r.first, r.last, r.level, r.computed) for r in response.context["history"]]
    today = timezone.localdate()
    # The override's stretch ends on its last day; what comes after it is not history yet.
    assert rows == [
        (today, today + timedelta(days=29), "低", "高"),
        (date(2024, 5, 1), today - timedelta(days=1), "中", "中"),
    ]
    assert response.context["history"][0].override.reason == "父亲已返乡"
    html = response.content.decode()
    history = html[
        html.index('id="risk-history"') : html.index("</ol>", html.index("risk-history"))
    ]
    assert "2024年5月1日" in history
    assert "父亲已返乡" in history
    assert actors.town_supervisor.name in history
    overrides = html[html.index('id="risk-overrides"') :]
    assert f"{today.year}年{today.month}月{today.day}日" in overrides


def test_the_api_returns_the_history(actors: Actors, child: Child) -> None:
    _with_history(actors, child)
    data = api_client(actors.auditor).get(_api(child)).json()
    today = timezone.localdate()
    override = {
        "level": "low",
        "set_on": today.isoformat(),
        "until": (today + timedelta(days=29)).isoformat(),
        "cleared_on": None,
        "reason": "父亲已返乡",
        "by": str(actors.town_supervisor),
        "cleared_by": "",
    }
    assert data["history"] == [
        {
            "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=29)).isoformat(),
            "level": "low",
            "computed_level": "high",
            "override": override,
        },
        {
            "valid_from": "2024-05-01",
            "valid_until": (today - timedelta(days=1)).isoformat(),
            "level": "medium",
            "computed_level": "medium",
            "override": None,
        },
    ]
    assert data["overrides"] == [override]
    cleared = api_client(actors.county_admin).delete(_api(child, override=True)).json()
    assert cleared["overrides"][0]["cleared_on"] == today.isoformat()
    assert cleared["overrides"][0]["cleared_by"] == str(actors.county_admin)
    # Set and cleared the same day: it never held, so the timeline no longer shows it.
    assert [(h["valid_from"], h["level"]) for h in cleared["history"]] == [
        (today.isoformat(), "high"),
        ("2024-05-01", "medium"),
    ]


def test_the_schema_documents_the_history(actors: Actors) -> None:
    schema = api_client(None).get(reverse("schema"), {"format": "json"}).json()
    risk = schema["components"]["schemas"]["Risk"]["properties"]
    assert {"history", "overrides"} <= set(risk)
    entry = schema["components"]["schemas"]["HistoryEntry"]["properties"]
    assert set(entry) == {"valid_from", "valid_until", "level", "computed_level", "override"}
