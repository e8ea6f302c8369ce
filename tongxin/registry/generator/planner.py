"""The draws: households planned from one seeded ``random.Random`` (``plan_population``), every
draw in a fixed order so that a seed fixes the population, with near-duplicates planted among
them for the review queue."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from tongxin.lib import crypto, idcard
from tongxin.registry import rules
from tongxin.registry.generator.plans import (
    AgreementPlan,
    ChildPlan,
    HouseholdPlan,
    ParentPlan,
    Place,
    SpellPlan,
)
from tongxin.registry.generator.words import (
    BOY_CHARS,
    DISABILITY_TYPES,
    ETHNICITIES,
    GIRL_CHARS,
    GRADES,
    HOMOPHONES_OF,
    ILLNESSES,
    IN_COUNTY_PLACES,
    OUT_OF_COUNTY,
    OUT_OF_PROVINCE,
    PARENT_CONDITIONS,
    PHONE_PREFIXES,
    SURNAME_WEIGHTS,
    SURNAMES,
    pinyin_keys,
)

# Region codes of the time a parent's first ID card was issued (GB/T 2260 changes): Gaotai was
# 622225 while Zhangye was a prefecture (until 2002).
OLD_REGIONS = {"620724": "622225"}

# Household kinds and their shares. Left-behind children come from the first two (and from
# single parents away), once the child is under 16, lives in a village and the spells have
# lasted three months: about 55% of all children.
KINDS = (
    ("both_away", 0.63),
    ("one_away_other_unable", 0.05),
    ("one_away", 0.10),
    ("home", 0.11),
    ("single_parent", 0.08),
    ("de_facto", 0.02),
    ("orphan", 0.01),
)
_CAN_COPY_KINDS = ("both_away", "one_away", "home")
_GONE = (rules.ParentStatus.DECEASED, rules.ParentStatus.DECLARED_DEAD)
_UNABLE = (
    rules.Capacity.SERIOUS_ILLNESS,
    rules.Capacity.SERIOUS_DISABILITY,
    rules.Capacity.IMPRISONED,
    rules.Capacity.COMPULSORY_DETOX,
    rules.Capacity.RESTRICTED_FREEDOM,
)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class _Planner:
    """Draws households. One instance per population; every draw comes from ``rng`` in a
    fixed order, so a seed fixes the population."""

    def __init__(
        self,
        rng: random.Random,
        places: Sequence[Place],
        today: date,
        region: str,
        taken_hashes: frozenset[str] = frozenset(),
    ) -> None:
        if not places:
            raise ValueError("no villages or communities to place children in")
        self.rng = rng
        self.places = list(places)
        self.today = today
        self.region = region
        self.old_region = OLD_REGIONS.get(region, region)
        self.taken_hashes = taken_hashes
        self.used_numbers: set[str] = set()
        # Communities are larger but the registry is mostly rural.
        self._place_cum = _cumulative([1.0 if p.rural else 1.5 for p in self.places])
        self._by_town: dict[str, list[Place]] = {}
        for p in self.places:
            self._by_town.setdefault(p.town_code, []).append(p)
        self._kind_names = [k for k, _ in KINDS]
        self._kind_cum = _cumulative([w for _, w in KINDS])
        self._surname_cum = _cumulative(SURNAME_WEIGHTS)
        self._ethnic_names = [e for e, _ in ETHNICITIES]
        self._ethnic_cum = _cumulative([w for _, w in ETHNICITIES])
        self._province_names = [p for p, _ in OUT_OF_PROVINCE]
        self._province_cum = _cumulative([w for _, w in OUT_OF_PROVINCE])
        self._county_names = [p for p, _ in OUT_OF_COUNTY]
        self._county_cum = _cumulative([w for _, w in OUT_OF_COUNTY])

    # small draws

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def surname(self) -> str:
        return self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]

    def given_name(self, gender: str) -> str:
        pool = BOY_CHARS if gender == "male" else GIRL_CHARS
        if self.chance(0.25):
            return self.rng.choice(pool)
        return self.rng.choice(pool) + self.rng.choice(pool)

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self, region: str, birth: date, gender: str) -> str:
        """A valid number not used before (here or, by its hash, in the database); "" when
        the 500 sequence numbers of that day and gender run out."""
        for _ in range(200):
            number = idcard.generate(self.rng, region=region, birth_date=birth, gender=gender)
            if number in self.used_numbers:
                continue
            if self.taken_hashes and crypto.lookup_hash(number) in self.taken_hashes:
                continue
            self.used_numbers.add(number)
            return number
        return ""

    def place(self) -> Place:
        return self.rng.choices(self.places, cum_weights=self._place_cum)[0]

    def work_place(self, destination: rules.Destination, place: Place) -> str:
        if destination == rules.Destination.OUT_OF_PROVINCE:
            return self.rng.choices(self._province_names, cum_weights=self._province_cum)[0]
        if destination == rules.Destination.OUT_OF_COUNTY:
            return self.rng.choices(self._county_names, cum_weights=self._county_cum)[0]
        return place.county_name + self.rng.choice(IN_COUNTY_PLACES)

    # households

    def household(self, size: int) -> HouseholdPlan:
        rng = self.rng
        place = self.place()
        kind = rng.choices(self._kind_names, cum_weights=self._kind_cum)[0]
        registered = self.days_ago(0, 3 * 365)
        births = self._birth_dates(size)
        surname = self.surname()
        mother_surname = self.surname()
        eldest = births[0]

        father = self._parent("father", surname, eldest)
        mother = self._parent("mother", mother_surname, eldest)
        plan = HouseholdPlan(
            place=place,
            kind=kind,
            registered_on=registered,
            address=self._address(place),
            phone="",
            parents=[father, mother],
            children=[],
        )
        getattr(self, f"_kind_{kind}")(plan, father, mother)
        for parent in (father, mother):
            if parent.status != rules.ParentStatus.ALIVE:
                parent.phone = ""
        if not plan.caregiver_name:
            self._caregiver_parent(plan)
        plan.phone = plan.caregiver_phone
        self._benefits(plan)
        if father.status == rules.ParentStatus.UNKNOWN:
            surname = mother_surname
        for birth in births:
            plan.children.append(self._child(plan, surname, birth))
        grandfather = surname + self.given_name("male")
        grandmother = self.surname() + self.given_name("female")
        plan.grandparents = f"祖父{grandfather}，祖母{grandmother}"
        return plan

    def _birth_dates(self, size: int) -> list[date]:
        """Siblings 1.2 to 6 years apart, every child between 2 months and 18 years old."""
        rng = self.rng
        first = rng.randint(60, 18 * 365 - 10)
        ages = [first]
        for _ in range(size - 1):
            gap = rng.randint(440, 6 * 365)
            if ages[-1] - gap >= 60:
                ages.append(ages[-1] - gap)
            elif ages[0] + gap <= 18 * 365 - 10:
                ages.insert(0, ages[0] + gap)
        return [self.today - timedelta(days=a) for a in sorted(ages, reverse=True)]

    def _address(self, place: Place) -> str:
        if place.rural:
            return f"{place.name}{self.rng.randint(1, 12)}组{self.rng.randint(1, 90)}号"
        street = place.name.removesuffix("社区")
        return f"{street}小区{self.rng.randint(1, 30)}号楼{self.rng.randint(1, 4)}单元"

    def _parent(self, role: str, surname: str, eldest: date) -> ParentPlan:
        gender = "male" if role == "father" else "female"
        years = self.rng.randint(21, 36) if role == "father" else self.rng.randint(19, 33)
        birth = eldest - timedelta(days=years * 365 + self.rng.randint(0, 364))
        region = self.old_region if birth.year < 1986 and self.chance(0.7) else self.region
        number = self.id_number(region, birth, gender) if self.chance(0.9) else ""
        return ParentPlan(
            role=role,
            name=surname + self.given_name(gender),
            birth_date=birth,
            id_number=number,
            phone=self.phone(),
            status=rules.ParentStatus.ALIVE,
            capacity=rules.Capacity.FULL,
        )

    def _away(self, parent: ParentPlan, place: Place, *, recent: float = 0.05) -> SpellPlan:
        """An open spell out of the county, most of them long past three months."""
        destination = (
            rules.Destination.OUT_OF_PROVINCE
            if self.chance(0.65)
            else rules.Destination.OUT_OF_COUNTY
        )
        left = self.days_ago(0, 85) if self.chance(recent) else self.days_ago(100, 8 * 365)
        adult = self._adult(parent)
        left = max(left, adult)
        if self.chance(0.3):  # an earlier spell, back home since
            back = left - timedelta(days=self.rng.randint(30, 400))
            before = back - timedelta(days=self.rng.randint(90, 900))
            where = self._destination()
            if before >= adult:
                parent.spells.append(SpellPlan(before, back, where, self.work_place(where, place)))
        spell = SpellPlan(left, None, destination, self.work_place(destination, place))
        parent.spells.append(spell)
        return spell

    def _destination(self) -> rules.Destination:
        r = self.rng.random()
        if r < 0.5:
            return rules.Destination.OUT_OF_PROVINCE
        if r < 0.85:
            return rules.Destination.OUT_OF_COUNTY
        return rules.Destination.IN_COUNTY

    def _home(self, parent: ParentPlan, place: Place) -> None:
        """A parent living at home: some came back from work away, some work in the county."""
        adult = self._adult(parent)
        if self.chance(0.4):
            back = self.days_ago(1, 3 * 365)
            left = back - timedelta(days=self.rng.randint(100, 1500))
            where = self._destination()
            if left >= adult:
                parent.spells.append(SpellPlan(left, back, where, self.work_place(where, place)))
        if self.chance(0.2):
            where = rules.Destination.IN_COUNTY
            left = max(adult, self.days_ago(30, 1500))
            parent.spells.append(SpellPlan(left, None, where, self.work_place(where, place)))

    def _adult(self, parent: ParentPlan) -> date:
        """The earliest a parent goes out to work: at 18."""
        if parent.birth_date is None:
            return self.today - timedelta(days=20 * 365)
        return parent.birth_date + timedelta(days=18 * 365 + 5)

    def _unable(self, parent: ParentPlan, choices: Sequence[rules.Capacity] = _UNABLE) -> None:
        parent.capacity = self.rng.choice(choices)
        parent.capacity_note = self.rng.choice(PARENT_CONDITIONS[parent.capacity])

    def _kind_both_away(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        spell = self._away(father, plan.place)
        if self.chance(0.7):  # the mother joined the father
            left = min(self.today, spell.left_on + timedelta(days=self.rng.randint(0, 200)))
            mother.spells.append(SpellPlan(left, None, spell.destination, spell.work_place))
        else:
            self._away(mother, plan.place)
        self._entrusted(plan, "both", father.name[0])

    def _kind_one_away_other_unable(
        self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan
    ) -> None:
        away, other = (father, mother) if self.chance(0.8) else (mother, father)
        self._away(away, plan.place)
        self._unable(other, (rules.Capacity.SERIOUS_ILLNESS, rules.Capacity.SERIOUS_DISABILITY))
        self._entrusted(plan, away.role, father.name[0])

    def _kind_one_away(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        away, home = (father, mother) if self.chance(0.85) else (mother, father)
        self._away(away, plan.place)
        self._home(home, plan.place)

    def _kind_home(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        self._home(father, plan.place)
        self._home(mother, plan.place)

    def _kind_single_parent(
        self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan
    ) -> None:
        r = self.rng.random()
        if r < 0.5:
            plan.parents_divorced = True
            stays, other = (mother, father) if self.chance(0.5) else (father, mother)
            self._home(other, plan.place)
        else:
            stays, other = (mother, father) if self.chance(0.7) else (father, mother)
            if r < 0.8:
                other.status = self.rng.choice(_GONE)
            elif r < 0.9:
                other.status = rules.ParentStatus.LOST_CONTACT
            else:  # father unknown: nothing is known of him
                stays = mother
                father.status = rules.ParentStatus.UNKNOWN
                father.name, father.birth_date, father.id_number, father.phone = "", None, "", ""
        if self.chance(0.45):
            self._away(stays, plan.place)
            self._entrusted(plan, stays.role, father.name[:1] or stays.name[0])
        else:
            self._home(stays, plan.place)

    def _kind_de_facto(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        r = self.rng.random()
        if r < 0.4:
            father.status = self.rng.choice(_GONE)
            self._unable(mother)
        elif r < 0.7:
            self._unable(father)
            self._unable(
                mother, (rules.Capacity.SERIOUS_ILLNESS, rules.Capacity.SERIOUS_DISABILITY)
            )
        else:
            self._unable(father, (rules.Capacity.IMPRISONED, rules.Capacity.COMPULSORY_DETOX))
            mother.status = rules.ParentStatus.LOST_CONTACT
        self._grandparent_caregiver(plan, father.name[0] if father.name else self.surname())

    def _kind_orphan(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        father.status = self.rng.choice(_GONE)
        mother.status = (
            rules.ParentStatus.DECLARED_MISSING if self.chance(0.15) else self.rng.choice(_GONE)
        )
        self._grandparent_caregiver(plan, father.name[0])

    # caregivers, agreements, benefits

    def _grandparent_caregiver(self, plan: HouseholdPlan, surname: str) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            relation, name = "祖父", surname + self.given_name("male")
        elif r < 0.7:
            relation, name = "祖母", self.surname() + self.given_name("female")
        elif r < 0.8:
            relation, name = "外祖母", self.surname() + self.given_name("female")
        elif r < 0.9:
            relation, name = "叔叔", surname + self.given_name("male")
        else:
            relation, name = "姑姑", surname + self.given_name("female")
        grand = relation in ("祖父", "祖母", "外祖母")
        plan.caregiver_name, plan.caregiver_relation = name, relation
        plan.caregiver_birth_year = self.today.year - (
            rng.randint(55, 78) if grand else rng.randint(30, 50)
        )
        plan.caregiver_health = rng.choice(("良好", "良好", "一般", "患慢性病"))
        r = rng.random()
        plan.caregiver_capacity = (
            "capable" if r < 0.88 else ("limited" if r < 0.97 else "incapable")
        )
        plan.caregiver_phone = self.phone()
        return name, relation

    def _caregiver_parent(self, plan: HouseholdPlan) -> None:
        at_home = [
            p
            for p in plan.parents
            if p.status == rules.ParentStatus.ALIVE
            and p.capacity == rules.Capacity.FULL
            and not any(s.returned_on is None and s.destination != "in_county" for s in p.spells)
        ]
        if not at_home:
            self._grandparent_caregiver(plan, plan.parents[0].name[:1] or self.surname())
            return
        parent = at_home[-1] if len(at_home) > 1 and self.chance(0.6) else at_home[0]
        plan.caregiver_name = parent.name
        plan.caregiver_relation = "母亲" if parent.role == "mother" else "父亲"
        plan.caregiver_birth_year = parent.birth_date.year if parent.birth_date else None
        plan.caregiver_health = "良好"
        plan.caregiver_capacity = "capable"
        plan.caregiver_phone = parent.phone

    def _entrusted(self, plan: HouseholdPlan, by: str, surname: str) -> None:
        """Parents away entrust the children to a relative, most with a written agreement
        (some expiring within 30 days, some expired, a few terminated)."""
        name, relation = self._grandparent_caregiver(plan, surname)
        if not self.chance(0.85):
            return
        rng, today = self.rng, self.today
        r = rng.random()
        terminated = None
        if r < 0.10:
            valid_until = today + timedelta(days=rng.randint(0, 30))
        elif r < 0.25:
            valid_until = today - timedelta(days=rng.randint(1, 400))
        else:
            valid_until = today + timedelta(days=rng.randint(31, 700))
        signed = valid_until - timedelta(days=365 * rng.randint(1, 3))
        if signed > today:
            signed = today - timedelta(days=rng.randint(0, 60))
        if r > 0.96:
            terminated = min(today, signed + timedelta(days=rng.randint(30, 300)))
        lacks = plan.caregiver_capacity == "incapable"
        plan.agreements.append(
            AgreementPlan(
                entrusted_by=by,
                caregiver_name=name,
                caregiver_relation=relation,
                caregiver_phone=plan.caregiver_phone,
                caregiver_address=plan.address,
                signed_on=signed,
                valid_until=valid_until,
                terminated_on=terminated,
                caregiver_lacks_capacity=lacks,
                parents_told_on=min(today, signed + timedelta(days=rng.randint(1, 60)))
                if lacks
                else None,
            )
        )

    def _benefits(self, plan: HouseholdPlan) -> None:
        hard = plan.kind in ("orphan", "de_facto", "one_away_other_unable") or (
            plan.kind == "single_parent" and not plan.parents_divorced
        )
        plan.dibao = self.chance(0.35 if hard else 0.08)
        plan.tekun = plan.kind in ("orphan", "de_facto") and self.chance(0.4)
        if plan.dibao:
            plan.assistance.append("低保")
        if self.chance(0.05):
            plan.assistance.append("临时救助")
        away = any(s.returned_on is None for p in plan.parents for s in p.spells)
        plan.income_source = (
            "救助供养金"
            if plan.tekun
            else "务工收入"
            if away
            else self.rng.choice(("务农", "务农", "个体经营", "打零工"))
        )

    def _child(self, plan: HouseholdPlan, surname: str, birth: date) -> ChildPlan:
        rng = self.rng
        gender = "male" if rng.random() < 0.52 else "female"
        registered = max(plan.registered_on, birth + timedelta(days=rng.randint(20, 60)))
        registered = min(registered, self.today)
        child = ChildPlan(
            name=surname + self.given_name(gender),
            gender=gender,
            birth_date=birth,
            registered_on=registered,
            ethnicity=rng.choices(self._ethnic_names, cum_weights=self._ethnic_cum)[0],
            hukou_place=plan.place.hukou_prefix + plan.place.town_name + plan.place.name,
        )
        if rng.random() < 0.05:
            r = rng.random()
            reason = "not_registered" if r < 0.6 else ("not_issued" if r < 0.85 else "unknown")
            child.id_missing_reason = reason
            if reason == "not_registered":
                child.hukou_place = ""
        else:
            child.id_number = self.id_number(self.region, birth, gender)
            if not child.id_number:
                child.id_missing_reason = "unknown"
        self._school(child, plan.place)
        if rng.random() < 0.03:
            child.health = "disabled"
            child.disability_type = rng.choice(DISABILITY_TYPES)
            child.disability_grade = rng.randint(1, 4)
            child.disability_certificate = f"{self.region}{rng.randrange(10**8):08d}"
            child.disability_certificate_expiry = self.today + timedelta(
                days=rng.randint(-60, 5 * 365)
            )
        if rng.random() < 0.02:
            child.serious_illness = True
            child.illness = rng.choice(ILLNESSES)
            if child.health == "healthy":
                child.health = "ill"
        r = rng.random()
        unsure = plan.kind in ("de_facto", "orphan", "one_away_other_unable")
        child.guardianship_assessment = (
            "good" if r < (0.4 if unsure else 0.6) else ("fair" if r < 0.9 else "poor")
        )
        return child

    def _school(self, child: ChildPlan, place: Place) -> None:
        rng = self.rng
        age = (self.today - child.birth_date).days // 365
        town = place.town_name
        if age < 3:
            child.school_stage, child.enrolment = "not_in_kindergarten", "not_enrolled"
        elif age < 6:
            if rng.random() < 0.85:
                child.school_stage, child.school = "kindergarten", f"{town}中心幼儿园"
                child.grade = GRADES["kindergarten"][age - 3]
            else:
                child.school_stage, child.enrolment = "not_in_kindergarten", "not_enrolled"
        elif age < 12:
            child.school_stage = "primary"
            village_school = place.rural and rng.random() >= 0.6
            child.school = f"{place.name}小学" if village_school else f"{town}中心小学"
            child.grade = GRADES["primary"][age - 6]
            child.boarding = rng.random() < 0.05
        elif rng.random() < 0.02:
            child.school_stage, child.enrolment = "dropped_out", "dropped_out"
        elif age < 15:
            child.school_stage, child.school = "junior", f"{town}中学"
            child.grade = GRADES["junior"][age - 12]
            child.boarding = rng.random() < 0.4
        else:
            r = rng.random()
            stage = "senior" if r < 0.6 else ("vocational" if r < 0.85 else "not_in_school")
            child.school_stage = stage
            if stage == "not_in_school":
                child.enrolment = "graduated"
                return
            child.school = (
                f"{place.county_name}第一中学"
                if stage == "senior"
                else f"{place.county_name}职业中专"
            )
            child.grade = GRADES[stage][min(age - 15, 2)]
            child.boarding = rng.random() < 0.5

    # planted near-duplicates

    def duplicate(self, original: HouseholdPlan, kind: str) -> HouseholdPlan | None:
        """The first child of ``original`` registered again elsewhere, without an ID
        number: ``same_name`` in another village of the same town, or ``same_pinyin`` (other
        characters, same pinyin) anywhere else in the county. None when that cannot be done."""
        source = original.children[0]
        if kind == "same_name":
            others = [p for p in self._by_town[original.place.town_code] if p != original.place]
            name = source.name
        else:
            others = [p for p in self.places if p != original.place]
            name = self._homophone(source.name)
        if not others or not name:
            return None
        place = self.rng.choice(others)
        child = ChildPlan(
            name=name,
            gender=source.gender,
            birth_date=source.birth_date,
            registered_on=self.days_ago(0, 365),
            ethnicity=source.ethnicity,
            school_stage=source.school_stage,
            enrolment=source.enrolment,
            school=source.school,
            grade=source.grade,
            disability_type=source.disability_type,
            disability_grade=source.disability_grade,
            health=source.health,
            serious_illness=source.serious_illness,
            illness=source.illness,
            hukou_place=source.hukou_place,
            guardianship_assessment=source.guardianship_assessment,
        )
        child.registered_on = max(child.registered_on, source.birth_date + timedelta(days=30))
        child.registered_on = min(child.registered_on, self.today)
        # Registered again without the number: two different numbers would be two children,
        # and the review queue rightly leaves such pairs out.
        child.id_missing_reason = self.rng.choice(("unknown", "not_issued"))
        parents = [
            ParentPlan(
                role=p.role,
                name=p.name,
                birth_date=p.birth_date,
                id_number="",
                phone=p.phone,
                status=p.status,
                capacity=p.capacity,
                capacity_note=p.capacity_note,
                spells=[
                    SpellPlan(s.left_on, s.returned_on, s.destination, s.work_place)
                    for s in p.spells
                ],
            )
            for p in original.parents
        ]
        return HouseholdPlan(
            place=place,
            kind=original.kind,
            registered_on=child.registered_on,
            address=self._address(place),
            phone=original.phone,
            parents=parents,
            children=[child],
            parents_divorced=original.parents_divorced,
            dibao=original.dibao,
            tekun=original.tekun,
            income_source=original.income_source,
            assistance=list(original.assistance),
            caregiver_name=original.caregiver_name,
            caregiver_relation=original.caregiver_relation,
            caregiver_birth_year=original.caregiver_birth_year,
            caregiver_health=original.caregiver_health,
            caregiver_capacity=original.caregiver_capacity,
            caregiver_phone=original.caregiver_phone,
            grandparents=original.grandparents,
            duplicate=kind,
        )

    def _homophone(self, name: str) -> str:
        """``name`` with one character swapped for a homophone: other characters, same key."""
        key = pinyin_keys(name)[0]
        positions = [i for i, c in enumerate(name) if c in HOMOPHONES_OF]
        self.rng.shuffle(positions)
        for i in positions:
            for alt in HOMOPHONES_OF[name[i]]:
                candidate = name[:i] + alt + name[i + 1 :]
                if pinyin_keys(candidate)[0] == key:
                    return candidate
        return ""


def plan_population(
    *,
    children: int,
    seed: int,
    places: Sequence[Place],
    today: date,
    region: str,
    duplicates: int | None = None,
    taken_hashes: frozenset[str] = frozenset(),
) -> Iterator[HouseholdPlan]:
    """Households holding exactly ``children`` children, ``duplicates`` of them planted copies
    (by default one in 150, about ten in the demo's 1,500)."""
    rng = random.Random(seed)  # noqa: S311  # synthetic data, reproducible by design
    planner = _Planner(rng, places, today, region, taken_hashes)
    wanted_copies = round(children / 150) if duplicates is None else duplicates
    every = children // (wanted_copies + 1) if wanted_copies else 0
    next_copy = every
    copies = produced = 0
    last: HouseholdPlan | None = None
    while produced < children:
        if (
            copies < wanted_copies
            and produced >= next_copy
            and last is not None
            and last.kind in _CAN_COPY_KINDS
        ):
            copy = planner.duplicate(last, "same_name" if copies % 2 == 0 else "same_pinyin")
            last = None
            if copy is not None:
                copies += 1
                next_copy += every
                produced += 1
                yield copy
                continue
        size = rng.choices((1, 2, 3), cum_weights=(0.45, 0.85, 1.0))[0]
        plan = planner.household(min(size, children - produced))
        produced += len(plan.children)
        last = plan
        yield plan
