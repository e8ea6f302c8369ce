"""China's provinces, cities and counties (1980–2024), for what a region code or a place name
tells us: whether an ID number's region code exists, and where a parent works relative to home.

The table is ``data/regions.csv``, generated once from the Ministry of Civil Affairs' yearly
county codes by ``scripts/make_regions.py`` (see there for the source and how to refresh it).
It is read once per process, on first use.

``destination_of`` reads a free-text work place as ledgers write it (当前务工地点: 浙江省宁波市,
宁波, 张掖市甘州区, 高台县城关镇 …) the way a person would, from the left:

1. a province (full name or short form: 甘肃省, 甘肃, 内蒙古 …): another province than home's is
   ``out_of_province``;
2. then, inside the home province only, a city or county (full name or short form), or a name
   of the home county's own towns and villages (``local_names``): the home county or one of its
   towns is ``in_county``, another county or city is ``out_of_county``; a city named alone
   means its urban districts, so even the home county's own city is ``out_of_county``;
3. with no province written, a city name or a county's full name that belongs to one province
   only (宁波, 深圳市, 昆山市) places the work in that province;
4. failing all that, plain words: 省外/外省/国外 → out of province, 省内/县外 → out of county,
   县内/本县 → in county.

Where two names start at the same place the longer wins (城关镇 over 城关), and an earlier one
wins over a later one (兰州城关: 兰州 decides). ``None`` means the text does not say, e.g. a
province alone (甘肃) for a county inside it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"

IN_COUNTY = "in_county"
OUT_OF_COUNTY = "out_of_county"
OUT_OF_PROVINCE = "out_of_province"

# Names the source uses for groupings that are not places one writes (县, 市辖区, 直辖县 …).
_PSEUDO_NAMES = frozenset(
    {"县", "市辖区", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
)
# Suffixes a town or village name drops in writing (城关镇 → 城关, 东关村 → 东关).
_LOCAL_SUFFIXES = (
    "村民委员会",
    "居民委员会",
    "街道办事处",
    "村委会",
    "居委会",
    "街道",
    "社区",
    "村",
    "镇",
    "乡",
)
_PLAIN_WORDS: tuple[tuple[str, str], ...] = (
    ("省外", OUT_OF_PROVINCE),
    ("外省", OUT_OF_PROVINCE),
    ("国外", OUT_OF_PROVINCE),
    ("境外", OUT_OF_PROVINCE),
    ("出国", OUT_OF_PROVINCE),
    ("省内", OUT_OF_COUNTY),
    ("县外", OUT_OF_COUNTY),
    ("外县", OUT_OF_COUNTY),
    ("县内", IN_COUNTY),
    ("本县", IN_COUNTY),
)
# Short forms people write that the source does not list.
_PROVINCE_ALIASES = {"内蒙": "150000"}
_FULL_WIDTH = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    short: str
    level: str  # province, city, county
    parent_code: str
    first_year: int
    last_year: int

    @property
    def province(self) -> str:
        return self.code[:2] + "0000"


@dataclass(frozen=True)
class _Table:
    regions: tuple[Region, ...]
    codes: frozenset[str]
    latest: dict[str, Region]  # code → its latest name


@cache
def _table() -> _Table:
    with REGIONS_CSV.open(encoding="utf-8-sig", newline="") as f:
        regions = tuple(
            Region(
                code=row["code"],
                name=row["name"],
                short=row["short"],
                level=row["level"],
                parent_code=row["parent_code"],
                first_year=int(row["first_year"]),
                last_year=int(row["last_year"]),
            )
            for row in csv.DictReader(f)
        )
    latest: dict[str, Region] = {}
    for region in regions:
        seen = latest.get(region.code)
        if seen is None or region.last_year >= seen.last_year:
            latest[region.code] = region
    return _Table(regions, frozenset(latest), latest)


def regions() -> tuple[Region, ...]:
    return _table().regions


def known_region(code: str) -> bool:
    """Whether a 6-digit region code (an ID number's first six digits) was ever in use since
    1980 for a province, city or county."""
    return code in _table().codes


def region(code: str) -> Region | None:
    """The division with this 6-digit code, under its latest name."""
    return _table().latest.get(code)


def plain_text(text: str) -> str:
    """Full-width letters and digits as ASCII, without any whitespace."""
    if not text.isascii():
        text = text.translate(_FULL_WIDTH)
    return "".join(text.split())


def local_core(name: str) -> str:
    """A town's or village's name as people also write it: without 镇/乡/村/社区 (two
    characters at least, else the name itself)."""
    for suffix in _LOCAL_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


# A match: what kind of place a name is, and the region it names (None for a local name).
_PROVINCE, _HOME, _LOCAL, _ELSEWHERE = "province", "home", "local", "elsewhere"
type _Entry = tuple[str, Region | None]


class DestinationFinder:
    """``destination_of`` for one home county, with its own index and a cache of answers."""

    def __init__(self, home_county_code: str, local_names: Iterable[str] = ()) -> None:
        table = _table()
        self.home = home_county_code[:6]
        home_region = table.latest.get(self.home)
        self.home_city = home_region.parent_code if home_region else self.home[:4] + "00"
        self.home_province = self.home[:2] + "0000"
        self.provinces: dict[str, Region] = {}
        # name → (kind, region), the latest region where a name has had several codes
        self.names: dict[str, _Entry] = {}
        elsewhere: dict[str, set[str]] = {}
        elsewhere_region: dict[str, Region] = {}

        def put(name: str, entry: _Entry) -> None:
            old = self.names.get(name)
            if old is None or (
                old[1] is not None
                and entry[1] is not None
                and entry[1].last_year > old[1].last_year
            ):
                self.names[name] = entry

        for r in table.regions:
            if r.name in _PSEUDO_NAMES:
                continue
            spellings = [s for s in (r.name, r.short) if len(s) >= 2]
            if r.level == "province":
                for s in spellings:
                    self.provinces.setdefault(s, r)
            elif r.province == self.home_province:
                for s in spellings:
                    put(s, (_HOME, r))
            else:
                # Outside home's province, only names that belong to one province count: a
                # city by name or short form, a county by its full name only (short county
                # names repeat across the country and inside words).
                for s in spellings if r.level == "city" else [r.name]:
                    elsewhere.setdefault(s, set()).add(r.province)
                    elsewhere_region[s] = r
        for alias, code in _PROVINCE_ALIASES.items():
            if code in table.latest:
                self.provinces.setdefault(alias, table.latest[code])
        for name in local_names:
            for s in {name, local_core(name)}:
                if len(s) >= 2:
                    self.names[s] = (_LOCAL, None)
        self.elsewhere = {
            s: elsewhere_region[s]
            for s, provinces in elsewhere.items()
            if len(provinces) == 1 and s not in self.names and s not in self.provinces
        }
        # Without a province written, a name of another province may also say where it is.
        self.names_anywhere: dict[str, _Entry] = {
            **{s: (_ELSEWHERE, r) for s, r in self.elsewhere.items()},
            **self.names,
        }
        self.longest = max(
            (len(s) for s in [*self.names, *self.provinces, *self.elsewhere]), default=2
        )
        self._cache: dict[str, str | None] = {}

    def __call__(self, text: str) -> str | None:
        text = plain_text(text)
        if not text:
            return None
        try:
            return self._cache[text]
        except KeyError:
            answer = self._cache[text] = self._find(text)
            if len(self._cache) > 50_000:
                self._cache.clear()
            return answer

    def _first(self, text: str, start: int, table: Mapping[str, object]) -> tuple[int, str] | None:
        """The leftmost, then longest, name of ``table`` in ``text[start:]``: (end, name)."""
        for i in range(start, len(text)):
            for length in range(min(self.longest, len(text) - i), 1, -1):
                piece = text[i : i + length]
                if piece in table:
                    return i + length, piece
        return None

    def _find(self, text: str) -> str | None:
        start = 0
        province_found = self._first(text, 0, self.provinces)
        if province_found is not None:
            end, name = province_found
            if self.provinces[name].code != self.home_province:
                return OUT_OF_PROVINCE
            start = end
        table = self.names if province_found is not None else self.names_anywhere
        found = self._first(text, start, table)
        while found is not None:
            end, name = found
            kind, r = table[name]
            if kind == _LOCAL:
                return IN_COUNTY
            if kind == _ELSEWHERE:
                return OUT_OF_PROVINCE
            assert isinstance(r, Region)
            if r.level == "county":
                return IN_COUNTY if r.code == self.home else OUT_OF_COUNTY
            if r.code != self.home_city:
                return OUT_OF_COUNTY
            # The home county's own city: a county or town of it may follow.
            later = self._first(text, end, self.names)
            if later is None:
                return OUT_OF_COUNTY
            found = later
            table = self.names
        for word, answer in _PLAIN_WORDS:
            if word in text:
                return answer
        return None


@lru_cache(maxsize=64)
def finder(home_county_code: str, local_names: tuple[str, ...] = ()) -> DestinationFinder:
    return DestinationFinder(home_county_code, local_names)


def destination_of(text: str, home_county_code: str, local_names: Iterable[str] = ()) -> str | None:
    """Where ``text`` (a work place) lies seen from the county ``home_county_code`` (6 or 12
    digits): ``in_county``, ``out_of_county``, ``out_of_province``, or None when it does not
    say. ``local_names``: the home county's towns and villages (城关镇, 东关村 …)."""
    return finder(home_county_code[:6], tuple(sorted(set(local_names))))(text)
