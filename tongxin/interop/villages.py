"""Finding the village a ledger row means from its 现居住地 text (城关镇东关村三组, 东关村,
城关东关, 甘肃省高台县宣化镇南村 …): names of the divisions with or without 镇/乡/村/社区."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from tongxin.geo.models import Division, Level
from tongxin.geo.regions import local_core, plain_text

_PLACES = (Level.COUNTY, Level.TOWN, Level.VILLAGE, Level.COMMUNITY)
_HOMES = (Level.VILLAGE, Level.COMMUNITY)


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    level: str
    parent_code: str


class VillageNotFound(Exception):
    """The text names no village, or names several: the message quotes it."""


class VillageMatcher:
    """Matches 现居住地 against the villages, towns (and counties) under ``base_code``'s prefix.

    Every substring of the text is looked up in an index of names, so the cost does not grow
    with the number of divisions. A village must lie inside the town (and county) the text
    names, if it names one; a full name beats a short one, a longer name a shorter one.
    """

    def __init__(self, places: list[Place]) -> None:
        self.places = {p.code: p for p in places}
        self.index: dict[str, list[tuple[Place, bool]]] = defaultdict(list)
        for place in places:
            core = local_core(place.name)
            self.index[place.name].append((place, True))
            if core != place.name:
                self.index[core].append((place, False))
        self.longest = max((len(name) for name in self.index), default=1)
        self._cache: dict[str, str] = {}

    @classmethod
    def for_prefix(cls, prefix: str) -> VillageMatcher:
        rows = Division.objects.filter(code__startswith=prefix, level__in=_PLACES).values_list(
            "code", "name", "level", "parent_id"
        )
        return cls([Place(c, n, lv, p or "") for c, n, lv, p in rows])

    def local_names(self, county_code: str) -> list[str]:
        """The names of the towns and villages of a county (for reading work places)."""
        return [
            p.name
            for p in self.places.values()
            if p.code.startswith(county_code[:6]) and p.level != Level.COUNTY
        ]

    def match(self, raw: str) -> str:
        """The code of the village or community ``raw`` names; ``VillageNotFound`` otherwise."""
        text = plain_text(raw)
        if not text:
            raise VillageNotFound(_("The place of residence (现居住地) is empty."))
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = self._match(text, raw)
            if len(self._cache) > 100_000:
                self._cache.clear()
        return found

    def _match(self, text: str, raw: str) -> str:
        hits: list[tuple[int, int, Place, bool]] = []  # start, length, place, full name
        for i in range(len(text)):
            for length in range(min(self.longest, len(text) - i), 1, -1):
                for place, full in self.index.get(text[i : i + length], ()):
                    hits.append((i, length, place, full))
        if not hits:
            raise VillageNotFound(
                _("No village of your county is named in “%(text)s”.") % {"text": raw.strip()}
            )
        areas = [h for h in hits if h[2].level not in _HOMES]
        # The characters that name a town cannot name a village as well: in 宣化镇幸福村 the
        # 宣化 of the town is not the village 宣化村.
        homes = [
            h
            for h in hits
            if h[2].level in _HOMES
            and not any(a[0] <= h[0] and h[0] + h[1] <= a[0] + a[1] for a in areas)
        ]
        # The areas named narrow the villages: a village must lie in every area named before it.
        for start, _length, area, _full in sorted(areas, key=lambda h: h[0]):
            inside = [h for h in homes if h[2].code.startswith(_prefix(area)) and h[0] >= start]
            if inside:
                homes = inside
        if not homes:
            raise VillageNotFound(
                _("“%(text)s” names a town but no village of it.") % {"text": raw.strip()}
            )
        best = max(homes, key=lambda h: (h[3], h[1], -h[0]))
        tied = {h[2].code for h in homes if (h[3], h[1], -h[0]) == (best[3], best[1], -best[0])}
        if len(tied) > 1:
            names = sorted(f"{self._town_name(code)}{self.places[code].name}" for code in tied)
            raise VillageNotFound(
                _("“%(text)s” could be any of %(villages)s: write the full name.")
                % {"text": raw.strip(), "villages": "、".join(names)}
            )
        return best[2].code

    def _town_name(self, code: str) -> str:
        place = self.places.get(code)
        town = self.places.get(place.parent_code) if place else None
        return town.name if town else code


def _prefix(place: Place) -> str:
    return place.code[:6] if place.level == Level.COUNTY else place.code[:9]
