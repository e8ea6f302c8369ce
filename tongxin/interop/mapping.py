"""From a spreadsheet row to a ``LedgerRow``: each cell read (``cells``), the village found
(``villages``), each parent's work place placed in or out of the county (``geo.regions``).

A cell that cannot be read makes the row an error naming the column and quoting the cell; the
other cells are still read, so one look at the preview shows every problem of the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongxin.geo import regions
from tongxin.interop import cells
from tongxin.interop.cells import CellError
from tongxin.interop.headers import HeaderMap
from tongxin.interop.villages import VillageMatcher, VillageNotFound
from tongxin.lib.plausible import name_error
from tongxin.registry.ledger import LedgerParent, LedgerRow


def _chooser(table: dict[str, str], what: Any) -> Callable[[Any], str | None]:
    return lambda value: cells.choice(value, table, what)


# The form's fixed choices; the names in messages are translated only when one is shown.
_CHOICES: dict[str, Callable[[Any], str | None]] = {
    "gender": _chooser(cells.GENDER, gettext_lazy("gender")),
    "health": _chooser(cells.HEALTH, gettext_lazy("health")),
    "schooling": _chooser(cells.SCHOOLING, gettext_lazy("schooling")),
    "assessment": _chooser(cells.ASSESSMENT, gettext_lazy("assessment")),
    "status": _chooser(cells.PARENT_STATUS, gettext_lazy("status")),
    "capacity": _chooser(cells.CAPACITY, gettext_lazy("capacity")),
    "destination": _chooser(cells.DESTINATION, gettext_lazy("destination")),
}
# A work place that says the parent is not away.
_NOT_AWAY = frozenset(
    {
        "无",
        "在家",
        "家中",
        "本地",
        "务农",
        "在家务农",
        "本地务农",
        "未外出",
        "无业",
        "/",
        "-",
        "—",
        "——",
    }
)


class RowReader:
    """Reads the rows of one ledger; one instance per import (it caches its look-ups)."""

    def __init__(self, header: HeaderMap, matcher: VillageMatcher) -> None:
        self.header = header
        self.columns = header.columns
        self.matcher = matcher
        self._finders: dict[str, regions.DestinationFinder] = {}
        self._items = sorted(header.columns.items(), key=lambda item: item[1])

    def _label(self, key: str) -> str:
        return self.header.labels.get(key, key)

    def _name(self, key: str, name: str, errors: list[str]) -> str | None:
        """A person's name (child, parent, caregiver) checked by ``lib.plausible``: the name,
        or None with the row's error naming the column. Never cut to fit."""
        error = name_error(name)
        if error is None:
            return name
        errors.append(f"{self._label(key)}: {error}")
        return None

    def read(self, line: int, values: Sequence[Any]) -> LedgerRow | None:
        """The row as a ``LedgerRow``; None for a row that holds no child (blank lines, a
        numbering row under the header, notes under the table)."""
        width = len(values)
        # The row's filled cells by field: most of a ledger's cells are empty.
        present = {
            key: values[i]
            for key, i in self._items
            if i < width and values[i] is not None and values[i] != ""
        }
        raw = present.get

        name = cells.person_name(raw("name"))
        id_raw = raw("id_number")
        residence = cells.text(raw("residence"))
        if not name and id_raw in (None, "") and not residence:
            return None
        if name.isascii() and name.isdigit() and _numbering(values):
            return None
        row = LedgerRow(line=line, name=name)
        errors = row.errors

        def read(key: str, reader: Callable[[Any], Any]) -> Any:
            value = present.get(key)
            if value is None:
                return None
            try:
                return reader(value)
            except CellError as exc:
                errors.append(f"{self._label(key)}: {exc}")
                return None

        child = row.child
        if name:
            if (checked := self._name("name", name, errors)) is not None:
                child["name"] = checked
            else:  # the row is an error; the preview shows the name's start
                row.name = cells.shown(row.name)
        if gender := read("gender", _CHOICES["gender"]):
            child["gender"] = gender
        if ethnicity := cells.compact(raw("ethnicity")):
            child["ethnicity"] = (ethnicity if ethnicity.endswith("族") else ethnicity + "族")[:20]
        if (birth := read("birth_date", cells.parse_date)) is not None:
            child["birth_date"] = birth
        row.id_number = _id_text(id_raw)
        if isinstance(id_raw, (int, float)) and not isinstance(id_raw, bool):
            row.warnings.append(
                _(
                    "The ID number is stored as a number, so Excel may have changed its last "
                    "digits: format the column as text."
                )
            )
        if (registered := read("hukou_registered", cells.parse_bool)) is not None:
            child["hukou_registered"] = registered
        if place := cells.text(raw("hukou_place")):
            child["hukou_place"] = place[:200]

        # Where the child lives: the village, and the text as the family's address.
        if residence:
            try:
                row.village_code = self.matcher.match(residence)
            except VillageNotFound as exc:
                errors.append(f"{self._label('residence')}: {exc}")
            row.household["address"] = residence[:200]
        else:
            errors.append(_("The place of residence (现居住地) is empty."))

        # Health, disability, illness.
        health = read("health", _CHOICES["health"])
        disability_type, grade = cells.disability(raw("disability"))
        illness = cells.text(raw("illness"))
        if grade is not None or disability_type:
            health = health or "disabled"
            child["disability_type"] = disability_type
            if grade is not None:
                child["disability_grade"] = grade
        if illness:
            health = health or "ill"
            child["illness"] = illness[:100]
        if health:
            child["health"] = health
            # The form asks for the illness of a child who is 患病: a serious one.
            child["serious_illness"] = health == "ill"
        if stage := read("schooling", _CHOICES["schooling"]):
            child["school_stage"] = stage
            child["enrolment"] = cells.ENROLMENT_OF_STAGE[stage]
        if (boarding := read("boarding", cells.parse_bool)) is not None:
            child["boarding"] = boarding
        if assessment := read("assessment", _CHOICES["assessment"]):
            child["guardianship_assessment"] = assessment
        if school := cells.text(raw("school")):
            child["school"] = school[:100]
        if grade_text := cells.text(raw("grade")):
            child["grade"] = grade_text[:20]
        if (registered_on := read("registered_on", cells.parse_date)) is not None:
            child["registered_on"] = registered_on

        # The family.
        household = row.household
        if phone := cells.compact(raw("phone")):
            household["phone"] = phone[:20]
        grandparents = [
            f"{label}：{who}"
            for label, who in (
                ("祖父母", cells.text(raw("grandparents"))),
                ("外祖父母", cells.text(raw("maternal_grandparents"))),
            )
            if who
        ]
        if grandparents:
            household["grandparents"] = "；".join(grandparents)[:100]
        # The entrusted guardian (委托监护人) becomes the family's caregiver, not a care
        # agreement: the form gives no signing date, term or entrusting parent, which an
        # agreement (a signed paper the file archives) is made of, and a row does not prove
        # that one was signed. The agreement form offers these values when one is archived.
        caregiver = cells.person_name(raw("caregiver_name"))
        if caregiver and (checked := self._name("caregiver_name", caregiver, errors)):
            household["caregiver_name"] = checked
        if caregiver_phone := cells.compact(raw("caregiver_phone")):
            household["caregiver_phone"] = caregiver_phone[:20]
        if caregiver_relation := cells.text(raw("caregiver_relation")):
            household["caregiver_relation"] = caregiver_relation[:20]
        if caregiver_address := cells.text(raw("caregiver_address")):
            household["caregiver_address"] = caregiver_address[:200]
        # Checked like the parents' numbers (ledger.checks.check_row), stored encrypted on the
        # household.
        row.caregiver_id_number = _id_text(raw("caregiver_id_number"))
        if income := cells.text(raw("income_source")):
            household["income_source"] = income[:100]
        if raw("assistance") not in (None, ""):
            received = cells.assistance(raw("assistance"))
            household["assistance"] = received
            household["dibao"] = any("低保" in item for item in received)
            household["tekun"] = any("特困" in item for item in received)
        if (divorced := read("divorced", cells.parse_bool)) is not None:
            household["parents_divorced"] = divorced

        # The parents.
        parents = {role: self._parent(role, raw, read, row) for role in ("father", "mother")}
        unable = read("one_away_other_unable", cells.unable_parent)
        if unable is not None:
            role, field, code = unable
            parents[role].fields[field] = code
            parents[role].fields["capacity_note"] = cells.text(raw("one_away_other_unable"))[:200]
        both_away = read("both_away", cells.parse_bool)
        if both_away and not all(p.away for p in parents.values()):
            row.warnings.append(
                _("The row says both parents are away, but a parent's work place is empty.")
            )
        row.parents = [p for p in parents.values() if p.fields or p.id_number or p.away]
        return row

    def _parent(
        self,
        role: str,
        raw: Callable[[str], Any],
        read: Callable[[str, Callable[[Any], Any]], Any],
        row: LedgerRow,
    ) -> LedgerParent:
        parent = LedgerParent(role=role)
        fields = parent.fields
        name = cells.person_name(raw(f"{role}_name"))
        if (
            name
            and name not in _NOT_AWAY
            and (checked := self._name(f"{role}_name", name, row.errors))
        ):
            fields["name"] = checked
        if (birth := read(f"{role}_birth_date", cells.parse_date)) is not None:
            fields["birth_date"] = birth
        parent.id_number = _id_text(raw(f"{role}_id_number"))
        if phone := cells.compact(raw(f"{role}_phone")):
            fields["phone"] = phone[:20]
        if status := read(f"{role}_status", _CHOICES["status"]):
            fields["status"] = status
        if capacity := read(f"{role}_capacity", _CHOICES["capacity"]):
            fields["capacity"] = capacity
        destination = read(f"{role}_destination", _CHOICES["destination"])
        left_on = read(f"{role}_left_on", cells.parse_date)
        work_place = cells.text(raw(f"{role}_work_place"))
        if work_place in _NOT_AWAY or work_place.startswith("在家"):
            work_place = ""
        if work_place and destination is None and row.village_code:
            county = row.village_code[:6]
            finder = self._finders.get(county)
            if finder is None:
                names = tuple(sorted(set(self.matcher.local_names(county))))
                finder = self._finders[county] = regions.finder(county, names)
            destination = finder(work_place)
            if destination is None:
                row.errors.append(
                    _(
                        "%(column)s: “%(value)s” does not say whether this is inside the county, "
                        "elsewhere in the province or outside it. Write the province and city "
                        "(浙江省宁波市) or fill %(destination)s."
                    )
                    % {
                        "column": self._label(f"{role}_work_place"),
                        "value": cells.shown(work_place),
                        "destination": "外出去向",
                    }
                )
        parent.work_place = work_place[:100]
        parent.destination = destination
        parent.left_on = left_on
        if left_on and not (work_place or destination):
            row.errors.append(
                _("%(column)s is given, but not where the parent works.")
                % {"column": self._label(f"{role}_left_on")}
            )
        return parent


def _id_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else cells.text(value)
    return cells.compact(value)


def _numbering(values: Sequence[Any]) -> bool:
    """The row of column numbers (1, 2, 3 …) some forms have under the header."""
    numbers = [v for v in values if v not in (None, "")]
    return len(numbers) >= 3 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v == i + 1
        for i, v in enumerate(numbers)
    )
