"""The registry of what apps contribute to pages they do not own: the home page's panels, the
navigation's entries and the child file's sections.

Each app registers its own from its ``AppConfig.ready()`` (a ``panels.py`` module imported
there), so a new app adds a panel, a menu entry or a section without editing the home view, the
navigation or the child file's template. Only what has something behind it is registered: no
placeholder panel that always says "none".

The user is typed ``Any`` here: core is plumbing and knows no user model's attributes; each
registration's callables are written by an app that does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

# A panel lists at most this many items; its count says how many there are in all.
PANEL_LENGTH = 10


class PanelLine:
    """One line of a home panel, a link; ``str()`` is the escaped HTML. ``record_url``: the
    contact form for the line's child, offered beside it as a "record a contact" button."""

    def __init__(self, url: str, text: str, record_url: str = "") -> None:
        self.url, self.text, self.record_url = url, text, record_url

    def __html__(self) -> SafeString:
        link = format_html('<a href="{}">{}</a>', self.url, self.text)
        if not self.record_url:
            return link
        return format_html(
            '{} <a href="{}" role="button" class="outline record-contact">{}</a>',
            link,
            self.record_url,
            _("Record a contact"),
        )

    def __str__(self) -> str:
        return self.__html__()


# --- home panels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelFill:
    """What a panel's filler answers: the items shown (at most ``PANEL_LENGTH``), how many
    there are in all, and the page that lists them all. A filler may also answer a plain list
    (then all of them are shown and counted)."""

    items: Iterable[object]
    total: int
    url: str = ""


PanelFiller = Callable[[Any], "Iterable[object] | PanelFill"]


@dataclass(frozen=True)
class HomePanel:
    """A panel of the home page as declared by the app that owns its work: the roles that see
    it, its place among a role's panels (``order``, smaller first), its title, what it says
    when empty, and its filler."""

    key: str
    roles: frozenset[str]
    order: int
    title: Promise
    empty: Promise
    fill: PanelFiller


@dataclass
class WorkList:
    """One panel of a user's home page, filled: the first ``PANEL_LENGTH`` items, ``total``
    how many there are in all, ``url`` the page listing them."""

    key: str
    title: Promise
    empty: Promise
    items: list[object] = field(default_factory=list)
    total: int = 0
    url: str = ""

    @property
    def more(self) -> bool:
        """Whether the panel shows fewer items than there are."""
        return self.total > len(self.items)


# (key, role) → the panel: one key may be declared with another title for another role.
_home_panels: dict[tuple[str, str], HomePanel] = {}


def register_home_panel(
    key: str,
    *,
    roles: Iterable[str],
    order: int,
    title: Promise,
    empty: Promise,
    fill: PanelFiller,
) -> None:
    """Show the panel ``key`` on the home page of each of ``roles``."""
    panel = HomePanel(key, frozenset(roles), order, title, empty, fill)
    for role in panel.roles:
        _home_panels[key, role] = panel


def unregister_home_panel(key: str) -> None:
    """Remove the panel ``key`` for every role."""
    for registered in [k for k in _home_panels if k[0] == key]:
        del _home_panels[registered]


def home_panels(user: Any) -> list[WorkList]:
    """The panels of the user's home page, in order, filled."""
    declared = sorted(
        (panel for (_key, role), panel in _home_panels.items() if role == user.role),
        key=lambda panel: (panel.order, panel.key),
    )
    panels = []
    for declaration in declared:
        panel = WorkList(declaration.key, declaration.title, declaration.empty)
        found = declaration.fill(user)
        if isinstance(found, PanelFill):
            panel.items, panel.total, panel.url = list(found.items), found.total, found.url
        else:
            panel.items = list(found)
            panel.total = len(panel.items)
        panels.append(panel)
    return panels


# --- the navigation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    """An entry of the navigation: shown to the users ``shows`` accepts, at its ``order``
    (smaller first). ``url`` and ``label`` are called per request (the label may be an object
    that reads what it shows only when rendered)."""

    key: str
    order: int
    url: Callable[[], str]
    label: Callable[[Any], object]
    shows: Callable[[Any], bool]


_menu: dict[str, MenuEntry] = {}


def register_menu_entry(
    key: str,
    *,
    order: int,
    url: Callable[[], str],
    label: Callable[[Any], object],
    shows: Callable[[Any], bool],
) -> None:
    _menu[key] = MenuEntry(key, order, url, label, shows)


def unregister_menu_entry(key: str) -> None:
    _menu.pop(key, None)


def menu(user: Any) -> list[dict[str, object]]:
    """The signed-in user's navigation: ``url`` and ``label`` of each entry shown, in order."""
    entries = sorted(_menu.values(), key=lambda entry: (entry.order, entry.key))
    return [
        {"url": entry.url(), "label": entry.label(user)} for entry in entries if entry.shows(user)
    ]


# --- sections of the child's file --------------------------------------------------------------

# What a section answers for (child, user): its template and that template's context, or None
# when the user sees nothing of it.
SectionRender = Callable[[Any, Any], "tuple[str, dict[str, Any]] | None"]


@dataclass(frozen=True)
class ChildSection:
    """A section another app adds to the child's file, at its ``order`` (smaller first)."""

    key: str
    order: int
    render: SectionRender


_child_sections: dict[str, ChildSection] = {}


def register_child_section(key: str, *, order: int, render: SectionRender) -> None:
    _child_sections[key] = ChildSection(key, order, render)


def unregister_child_section(key: str) -> None:
    _child_sections.pop(key, None)


def child_sections(child: Any, user: Any) -> list[tuple[str, dict[str, Any]]]:
    """The sections of the child's file for the user, in order: template and context each.
    The caller has already fetched ``child`` through the user's scope."""
    sections = sorted(_child_sections.values(), key=lambda section: (section.order, section.key))
    return [found for section in sections if (found := section.render(child, user)) is not None]
