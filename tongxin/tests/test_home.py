"""The home page's "my work": a panel shows its first items and how many there are in all, with
the link to the whole list; the navigation offers the ledger import to the roles that import."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

# Lazy texts that makemessages does not collect: the catalogue holds no test strings.
from django.utils.translation import gettext_lazy as untranslated

from tongxin.accounts.roles import Role
from tongxin.core import panels
from tongxin.core.panels import PANEL_LENGTH, WorkList
from tongxin.registry import agreements
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _expiring(actors: Actors, count: int) -> None:
    today = timezone.localdate()
    for n in range(count):
        child = make_family(actors, name=f"钱{n:02d}", birth_date=date(2014, 1, n + 1))
        agreements.agreement_create(
            actor=actors.county_admin,
            household=child.household,
            fields={
                "entrusted_by": "both",
                "caregiver_name": f"钱奶奶{n:02d}",
                "caregiver_relation": "祖母",
                "signed_on": today - timedelta(days=300),
                "valid_until": today + timedelta(days=1 + n),
            },
        )


def _panel(response: object, key: str) -> WorkList:
    panels = response.context["panels"]  # type: ignore[attr-defined]
    found: WorkList = next(p for p in panels if p.key == key)
    return found


def _panel_html(html: str, key: str) -> str:
    start = html.index(f'id="panel-{key}"')
    return html[start : html.index("</article>", start)]


def test_it_counts_all_the_items_of_a_panel_not_only_those_shown(actors: Actors) -> None:
    _expiring(actors, PANEL_LENGTH + 2)
    response = _english(web_client(actors.village_director)).get(reverse("home"))

    panel = _panel(response, "agreements_expiring")
    assert len(panel.items) == PANEL_LENGTH
    assert panel.total == PANEL_LENGTH + 2
    html = _panel_html(response.content.decode(), "agreements_expiring")
    assert f'class="count">{PANEL_LENGTH} of {PANEL_LENGTH + 2}<' in html
    list_url = reverse("registry:agreement_expiring_list")
    assert f'href="{list_url}"' in html
    assert f"See all {PANEL_LENGTH + 2}" in html
    # The soonest first on the panel; the last ones only on the full list.
    assert "钱00" in html
    assert "钱11" not in html
    page = web_client(actors.village_director).get(list_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert all(f"钱奶奶{n:02d}" in body for n in range(PANEL_LENGTH + 2))


def test_it_shows_the_plain_count_when_every_item_is_shown(actors: Actors) -> None:
    _expiring(actors, 2)
    response = _english(web_client(actors.village_director)).get(reverse("home"))

    panel = _panel(response, "agreements_expiring")
    assert (len(panel.items), panel.total, panel.more) == (2, 2, False)
    html = _panel_html(response.content.decode(), "agreements_expiring")
    assert 'class="count">2<' in html
    assert " of " not in html


def test_it_lists_only_the_agreements_of_the_users_area(actors: Actors) -> None:
    _expiring(actors, 1)
    url = reverse("registry:agreement_expiring_list")
    assert "钱奶奶00" in web_client(actors.town_supervisor).get(url).content.decode()
    other = web_client(actors.other_village_director).get(url)
    assert other.status_code == 200
    assert "钱奶奶00" not in other.content.decode()
    home = web_client(actors.other_village_director).get(reverse("home"))
    assert _panel(home, "agreements_expiring").total == 0


def test_it_counts_a_plain_list_from_an_app_as_it_is(actors: Actors) -> None:
    # Apps may fill a panel with a plain list: all of it is shown and counted.
    panels.register_home_panel(
        "plain_list",
        roles=[Role.VILLAGE_DIRECTOR],
        order=99,
        title=untranslated("Plain list"),
        empty=untranslated("Nothing."),
        fill=lambda user: ["a", "b", "c"],
    )
    try:
        response = web_client(actors.village_director).get(reverse("home"))
    finally:
        panels.unregister_home_panel("plain_list")
    panel = _panel(response, "plain_list")
    assert (panel.items, panel.total, panel.more) == (["a", "b", "c"], 3, False)


def test_it_offers_the_ledger_import_to_the_roles_that_import(actors: Actors) -> None:
    index = f'href="{reverse("ledger:index")}"'
    for key in ("county_admin", "town_supervisor", "village_director"):
        html = web_client(getattr(actors, key)).get(reverse("home")).content.decode()
        assert index in html, key
    for key in ("auditor", "department_officer", "reporter", "system_admin"):
        html = web_client(getattr(actors, key)).get(reverse("home")).content.decode()
        assert index not in html, key
        # The link is offered exactly where the page opens.
        assert web_client(getattr(actors, key)).get(reverse("ledger:index")).status_code == 404


def test_it_lists_the_open_problems_of_the_directors_village(actors: Actors) -> None:
    from tongxin.protection import problems

    mine = make_family(actors, name="孙小云")
    theirs = make_family(actors, name="周小雨", village="620724100202")
    today = timezone.localdate()
    for child, due in ((mine, today + timedelta(days=30)), (theirs, today + timedelta(days=20))):
        problems.problem_raise(
            actor=actors.county_admin,
            child=child,
            fields={"category": "safety", "description": "屋后水塘无护栏", "due_on": due},
        )
    closed = problems.problem_raise(
        actor=actors.county_admin,
        child=mine,
        fields={"category": "health", "description": "已就医"},
    )
    closed.status = "resolved"
    closed.save()
    response = _english(web_client(actors.village_director)).get(reverse("home"))
    panel = _panel(response, "problems_open")
    assert panel.total == 1
    html = _panel_html(response.content.decode(), "problems_open")
    assert "孙小云" in html
    assert "周小雨" not in html
    assert f"/children/{mine.public_id}/#problems" in html
