"""A new app adds a home panel, a menu entry and a section of the child's file from its own
``AppConfig.ready()``, without editing the home view, the navigation or the registry's
template: registered here by a fake app's config, seen on the pages, then unregistered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import AppConfig
from django.template import Engine
from django.urls import reverse

# Lazy texts that makemessages does not collect: the catalogue holds no test strings.
from django.utils.translation import gettext_lazy as untranslated

import tongxin.tests
from tongxin.accounts.roles import Role
from tongxin.core import panels
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

pytestmark = pytest.mark.django_db


def _section(child: Any, user: Any) -> tuple[str, dict[str, Any]]:
    return "fake/section.html", {"name": child.name}


class FakeConfig(AppConfig):
    """An app that contributes one of each."""

    name = "tongxin.fake"
    label = "fake"

    def ready(self) -> None:
        panels.register_home_panel(
            "fake_panel",
            roles=[Role.VILLAGE_DIRECTOR],
            order=25,
            title=untranslated("Fake panel"),
            empty=untranslated("Nothing fake."),
            fill=lambda user: [f"fake line for {user.username}"],
        )
        panels.register_menu_entry(
            "fake_entry",
            order=35,
            url=lambda: "/fake/",
            label=lambda user: "Fake entry",
            shows=lambda user: user.role == Role.VILLAGE_DIRECTOR,
        )
        panels.register_child_section("fake_section", order=15, render=_section)


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The section's template, found by the project's template engine.
    loader = Engine.get_default().template_loaders[0]
    sources = {"fake/section.html": '<section id="fake">fake section of {{ name }}</section>'}
    original = loader.get_template

    def get_template(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in sources:
            return Engine.get_default().from_string(sources[name])
        return original(name, *args, **kwargs)

    monkeypatch.setattr(loader, "get_template", get_template)
    FakeConfig("tongxin.fake", tongxin.tests).ready()
    yield
    panels.unregister_home_panel("fake_panel")
    panels.unregister_menu_entry("fake_entry")
    panels.unregister_child_section("fake_section")


def test_a_new_app_adds_a_panel_a_menu_entry_and_a_section(actors: Actors, fake_app: None) -> None:
    client = web_client(actors.village_director)
    home = client.get(reverse("home"))
    keys = [panel.key for panel in home.context["panels"]]
    assert keys == [
        "contacts_due",
        "visits_due",
        "fake_panel",
        "agreements_expiring",
        "problems_open",
    ]
    html = home.content.decode()
    assert 'id="panel-fake_panel"' in html
    assert "fake line for village_director" in html
    labels = [str(entry["label"]) for entry in home.context["nav"]]
    assert labels.index("Fake entry") == 3  # after my work, worklist and work log
    assert 'href="/fake/"' in html

    child = make_family(actors)
    page = client.get(reverse("registry:child_detail", args=[child.public_id])).content.decode()
    assert f"fake section of {child.name}" in page
    # In its order: after the contacts (10), before the interventions (20).
    assert page.index('id="contacts"') < page.index('id="fake"') < page.index('id="history"')

    # Other roles see neither the panel nor the entry.
    other = web_client(actors.county_admin).get(reverse("home")).content.decode()
    assert "fake_panel" not in other
    assert "/fake/" not in other


def test_unregistered_they_are_gone(actors: Actors) -> None:
    html = web_client(actors.village_director).get(reverse("home")).content.decode()
    assert "fake" not in html
