"""Administrative divisions (行政区划) and the code arithmetic scope checks rest on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from tongxin.accounts.models import User


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWN = "town", _("Town")
    VILLAGE = "village", _("Village")
    COMMUNITY = "community", _("Community")


# How many leading digits of a 12-digit statistical code identify a division of each level.
# GB/T 2260 gives 2 (province), 4 (city), 6 (county); the statistical code adds 3 for the
# town (乡镇街道) and 3 for the village or community (村/居委会).
PREFIX_LENGTH: dict[str, int] = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWN: 9,
    Level.VILLAGE: 12,
    Level.COMMUNITY: 12,
}
# The level a child of each level may have.
CHILD_LEVELS: dict[str, frozenset[str]] = {
    Level.PROVINCE: frozenset({Level.CITY, Level.COUNTY}),
    Level.CITY: frozenset({Level.COUNTY}),
    Level.COUNTY: frozenset({Level.TOWN}),
    Level.TOWN: frozenset({Level.VILLAGE, Level.COMMUNITY}),
    Level.VILLAGE: frozenset(),
    Level.COMMUNITY: frozenset(),
}
CODE_LENGTH = 12


def code_prefix(code: str, level: str) -> str:
    """The leading digits every division inside ``code`` shares with it."""
    return code[: PREFIX_LENGTH[level]]


class DivisionQuerySet(models.QuerySet["Division"]):
    def visible_to(self, user: User) -> DivisionQuerySet:
        from tongxin.geo.scope import scope_q

        return self.filter(scope_q(user, "code"))

    def inside(self, division: Division) -> DivisionQuerySet:
        """Every division inside ``division``, itself included: one indexed prefix comparison."""
        return self.filter(code__startswith=division.prefix)


class Division(models.Model):
    """An administrative division (行政区划): province, city, county, town (乡镇) or village
    (行政村) / urban community (社区), identified by its 12-digit statistical code."""

    code = models.CharField(_("code"), max_length=CODE_LENGTH, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent division"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    objects = DivisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return code_prefix(self.code, self.level)

    def contains(self, code: str) -> bool:
        """Whether the division with ``code`` lies inside this one (or is this one)."""
        return code.startswith(self.prefix)

    def ancestors(self) -> list[Division]:
        """From the top down, this division excluded (one query)."""
        codes = [
            self.code[:n].ljust(CODE_LENGTH, "0")
            for level, n in sorted(PREFIX_LENGTH.items(), key=lambda kv: kv[1])
            if n < PREFIX_LENGTH[self.level] and level != Level.COMMUNITY
        ]
        found = {d.code: d for d in Division.objects.filter(code__in=codes)}
        return [found[c] for c in codes if c in found]

    def full_name(self) -> str:
        """Town and village, as people write it: 城关镇 东关村."""
        names = [d.name for d in self.ancestors() if d.level in (Level.TOWN,)]
        return " ".join([*names, self.name])

    def natural_key(self) -> tuple[Any, ...]:
        return (self.code,)
