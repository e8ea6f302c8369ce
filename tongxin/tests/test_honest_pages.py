"""Honest pages: a home panel is listed only when something fills it (no placeholder that always
says "none"), the child's file has no empty section, and the README points to documents the
project itself carries."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import STOCK_ACTORS, Actors, web_client

# Each role's home panels, in order, as the apps that own the work register them.
HOME_PANELS: dict[str, list[str]] = {
    Role.VILLAGE_DIRECTOR: ["contacts_due", "visits_due", "agreements_expiring", "problems_open"],
    Role.TOWN_SUPERVISOR: [
        "family_contacts_due",
        "escalations",
        "problems_overdue",
        "problems_mine",
    ],
    Role.COUNTY_ADMIN: [
        "urgent_reports",
        "duplicates",
        "villages_without_director",
        "problems_overdue",
        "problems_mine",
        "role_grants",
    ],
    Role.DEPARTMENT_OFFICER: ["urgent_reports", "referrals_incoming", "problems_mine"],
    Role.REPORTER: ["my_reports"],
    Role.AUDITOR: ["villages_without_director", "problems_overdue"],
    Role.SYSTEM_ADMIN: ["role_grants"],
    Role.SECURITY_ADMIN: ["role_grants"],
}


@pytest.mark.parametrize("role", sorted(HOME_PANELS))
def test_each_role_sees_its_panels_in_order(actors: Actors, role: str) -> None:
    user = next(u for u in User.objects.filter(role=role).order_by("pk"))
    response = web_client(user).get(reverse("home"))
    assert [panel.key for panel in response.context["panels"]] == HOME_PANELS[role]


@pytest.mark.parametrize("key", sorted(k for k in STOCK_ACTORS if k != "other_county_admin"))
def test_no_home_page_shows_a_placeholder(actors: Actors, key: str) -> None:
    html = web_client(getattr(actors, key)).get(reverse("home")).content.decode()
    for placeholder in ("本部门的重点任务", "本年度抽查", "保障与服务", "被锁定的账户"):
        assert placeholder not in html


def test_the_childs_file_has_no_empty_benefits_section(actors: Actors) -> None:
    child = make_family(actors)
    url = reverse("registry:child_detail", args=[child.public_id])
    html = web_client(actors.village_director).get(url).content.decode()
    assert 'id="contacts"' in html
    assert "保障与服务" not in html
    assert "尚未记录" not in html


def test_it_lists_villages_with_children_and_no_director(actors: Actors) -> None:
    User.objects.filter(username="other_village_director").update(is_active=False)
    make_family(actors, village="620724100202", name="赵小兰")
    for key in ("county_admin", "auditor"):
        html = web_client(getattr(actors, key)).get(reverse("home")).content.decode()
        panel = html[html.index('id="panel-villages_without_director"') :]
        panel = panel[: panel.index("</article>")]
        assert "西村：在册儿童1名" in panel, key
        assert reverse("geo:division_detail", args=["620724100202"]) in panel
        assert "东村" not in panel  # its director is active
    other = web_client(actors.other_county_admin).get(reverse("home")).content.decode()
    assert "西村" not in other


def test_the_readme_points_only_to_files_the_project_carries() -> None:
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert "../shared" not in readme
    linked = set(re.findall(r"`((?:docs|tongxin|bench|scripts)/[\w./-]+)`", readme))
    linked |= set(re.findall(r"\]\(((?!https?:)[^)#]+)\)", readme))
    assert "docs/design.md" in linked
    missing = sorted(p for p in linked if not (settings.BASE_DIR / p).exists())
    assert not missing, f"README names files that are not there: {missing}"


def test_the_design_document_covers_what_a_reader_needs() -> None:
    design = (settings.BASE_DIR / "docs" / "design.md").read_text()
    for heading in ("Users and roles", "Glossary", "Policy rules", "Layers and apps"):
        assert re.search(rf"^## {heading}", design, re.M), heading
    # Every app the project installs is described.
    for app in settings.INSTALLED_APPS:
        if app.startswith("tongxin."):
            assert f"`{app.removeprefix('tongxin.')}/`" in design, app
