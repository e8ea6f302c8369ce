"""Standards and enrolments: the database's constraints, the standard in force for a month at
its edges, overlap and stale-edit refusals, the receipt facts the rules read, and the audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.benefits import selectors, services
from tongxin.benefits.models import BenefitEnrolment, Standard
from tongxin.benefits.rules import Programme
from tongxin.benefits.services import EndInput, EnrolmentInput
from tongxin.core.versions import StaleEdit
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors

pytestmark = pytest.mark.django_db

ORPHAN = Programme.ORPHAN_ALLOWANCE.value


def add_standard(
    actors: Actors,
    day: date,
    amount: str,
    programme: str = ORPHAN,
    rate: str = "scattered",
) -> Standard:
    return services.standard_add(
        actor=actors.county_admin,
        programme=programme,
        rate=rate,
        monthly_amount=Decimal(amount),
        effective_from=day,
        note="示例金额，非本县标准",
    )


def enrol(
    actors: Actors,
    child: Child,
    start: date = date(2024, 1, 1),
    programme: str = ORPHAN,
    rate: str = "scattered",
    amount: str = "1500",
    end: EndInput | None = None,
) -> BenefitEnrolment:
    return services.enrolment_create(
        actor=actors.county_admin,
        child=child,
        data=EnrolmentInput(
            programme=programme,
            rate=rate,
            monthly_amount=Decimal(amount),
            start_month=start,
            document_number="高民发〔2024〕1号",
        ),
        end=end,
    )


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


class TestStandardFor:
    def test_it_is_none_before_any_version(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        assert selectors.standard_for(ORPHAN, "scattered", date(2023, 12, 31)) is None

    def test_it_takes_the_version_in_force_on_the_months_first_day(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        add_standard(actors, date(2024, 7, 1), "1400")
        add_standard(actors, date(2024, 9, 15), "1500")

        def find(programme: str, rate: str, day: date) -> Standard:
            found = selectors.standard_for(programme, rate, day)
            assert found is not None
            return found

        assert find(ORPHAN, "scattered", date(2024, 1, 1)).monthly_amount == Decimal("1300")
        assert find(ORPHAN, "scattered", date(2024, 6, 30)).monthly_amount == Decimal("1300")
        # The day a new standard takes effect: its month is judged by it.
        assert find(ORPHAN, "scattered", date(2024, 7, 1)).monthly_amount == Decimal("1400")
        # Mid-month: September is judged by the standard of 1 September, the new one from October.
        assert find(ORPHAN, "scattered", date(2024, 9, 30)).monthly_amount == Decimal("1400")
        assert find(ORPHAN, "scattered", date(2024, 10, 1)).monthly_amount == Decimal("1500")

    def test_the_table_read_at_once_answers_as_the_lookup(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        add_standard(actors, date(2024, 7, 1), "1400")
        add_standard(actors, date(2024, 9, 15), "1500")
        table = selectors.StandardTable()
        for day in (
            date(2023, 12, 31),
            date(2024, 1, 1),
            date(2024, 6, 30),
            date(2024, 7, 1),
            date(2024, 9, 15),
            date(2024, 9, 30),
            date(2024, 10, 1),
        ):
            found = selectors.standard_for(ORPHAN, "scattered", day)
            expected = found.monthly_amount if found is not None else None
            assert table.on(ORPHAN, "scattered", day) == expected, day
        assert table.on(ORPHAN, "institutional", date(2024, 10, 1)) is None

    def test_it_keeps_rates_and_programmes_apart(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        add_standard(actors, date(2024, 1, 1), "1800", rate="institutional")
        add_standard(actors, date(2024, 1, 1), "700", programme="dibao", rate="")
        on = date(2024, 3, 1)
        institutional = selectors.standard_for(ORPHAN, "institutional", on)
        dibao = selectors.standard_for("dibao", "", on)
        assert institutional is not None
        assert dibao is not None
        assert (institutional.monthly_amount, dibao.monthly_amount) == (1800, 700)
        assert selectors.standard_for("de_facto_allowance", "scattered", on) is None

    def test_the_lines_show_current_and_scheduled(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        add_standard(actors, date(2024, 7, 1), "1400")
        lines = {
            (ln.programme.value, ln.rate): ln for ln in selectors.standard_lines(date(2024, 3, 5))
        }
        line = lines[ORPHAN, "scattered"]
        assert line.current is not None
        assert line.current.monthly_amount == 1300
        assert line.scheduled is not None
        assert line.scheduled.monthly_amount == 1400
        assert len(line.versions) == 2
        assert lines["dibao", ""].current is None
        assert len(lines) == 11  # 9 programmes, the two allowances at two rates


class TestStandardAdd:
    def test_it_is_audited(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        event = AuditEvent.objects.get(action="benefit.standard_add")
        assert event.object_code == "orphan_allowance/scattered/2024-01-01"

    @pytest.mark.parametrize(
        ("programme", "rate", "amount", "field"),
        [
            (ORPHAN, "", "1300", "rate"),
            ("dibao", "scattered", "700", "rate"),
            (ORPHAN, "scattered", "0", "monthly_amount"),
            (ORPHAN, "scattered", "-5", "monthly_amount"),
            (ORPHAN, "scattered", "20000.01", "monthly_amount"),
            ("no_such", "", "10", "programme"),
        ],
    )
    def test_it_refuses_bad_input_naming_the_field(
        self, actors: Actors, programme: str, rate: str, amount: str, field: str
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            add_standard(actors, date(2024, 1, 1), amount, programme=programme, rate=rate)
        assert field in errors_of(exc)
        assert not Standard.objects.exists()

    def test_it_refuses_a_second_version_on_the_same_day(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        with pytest.raises(ValidationError) as exc:
            add_standard(actors, date(2024, 1, 1), "1400")
        assert "effective_from" in errors_of(exc)

    def test_it_refuses_an_absurd_date(self, actors: Actors) -> None:
        with pytest.raises(ValidationError) as exc:
            add_standard(actors, date(1900, 1, 1), "1300")
        assert "effective_from" in errors_of(exc)

    @pytest.mark.parametrize("who", ["auditor", "town_supervisor", "village_director"])
    def test_only_county_officers_add(self, actors: Actors, who: str) -> None:
        with pytest.raises(PermissionDenied):
            services.standard_add(
                actor=getattr(actors, who),
                programme=ORPHAN,
                rate="scattered",
                monthly_amount=Decimal(1),
                effective_from=date(2024, 1, 1),
            )


class TestConstraints:
    """The database refuses what the services never write."""

    def _raw(self, **fields: object) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            BenefitEnrolment.objects.create(
                **{
                    "programme": ORPHAN,
                    "rate": "scattered",
                    "monthly_amount": Decimal(100),
                    "start_month": date(2024, 1, 1),
                    **fields,
                }
            )

    def test_a_child_enrolment_needs_a_child_and_no_household(self, actors: Actors) -> None:
        child = make_family(actors)
        self._raw()
        self._raw(child=child, household=child.household)
        self._raw(household=child.household)

    def test_dibao_belongs_to_the_household(self, actors: Actors) -> None:
        child = make_family(actors)
        self._raw(programme="dibao", rate="", child=child)

    def test_amount_dates_end_reason_and_rate(self, actors: Actors) -> None:
        child = make_family(actors)
        self._raw(child=child, monthly_amount=Decimal(0))
        self._raw(child=child, end_month=date(2023, 12, 1), end_reason="died")
        self._raw(child=child, end_month=date(2024, 2, 1))
        self._raw(child=child, end_reason="died")
        self._raw(child=child, rate="")
        self._raw(child=child, programme="tekun")

    def test_standard_is_unique_per_programme_rate_and_day(self, actors: Actors) -> None:
        add_standard(actors, date(2024, 1, 1), "1300")
        with pytest.raises(IntegrityError), transaction.atomic():
            Standard.objects.create(
                programme=ORPHAN,
                rate="scattered",
                monthly_amount=Decimal(1),
                effective_from=date(2024, 1, 1),
            )


class TestEnrolment:
    def test_it_enrols_a_child_from_the_first_of_the_month(self, actors: Actors) -> None:
        child = make_family(actors)
        enrolment = enrol(actors, child, start=date(2024, 3, 17))
        assert enrolment.child == child
        assert enrolment.household is None
        assert enrolment.start_month == date(2024, 3, 1)
        assert enrolment.is_open
        event = AuditEvent.objects.get(action="benefit.enrolment_create")
        assert event.object_code == str(enrolment.public_id)
        assert event.division_code == child.village_id
        assert enrolment.history.count() == 1

    def test_dibao_goes_to_the_household_and_counts_for_every_child(self, actors: Actors) -> None:
        child = make_family(actors)
        sibling = make_family(actors, name="王小红")
        sibling.household = child.household
        Child.objects.filter(pk=sibling.pk).update(household=child.household)
        enrolment = enrol(actors, child, programme="dibao", rate="", amount="700")
        assert enrolment.child is None
        assert enrolment.household == child.household
        on = date(2024, 5, 1)
        assert selectors.enrolled_codes(sibling, on) == {Programme.DIBAO}
        assert selectors.enrolled_codes(child, on) == {Programme.DIBAO}

    def test_enrolled_codes_follow_the_months(self, actors: Actors) -> None:
        child = make_family(actors)
        enrol(
            actors,
            child,
            start=date(2024, 1, 1),
            end=EndInput(end_month=date(2024, 6, 1), end_reason="aged_out"),
        )
        enrol(
            actors,
            child,
            start=date(2024, 6, 1),
            programme="disability_care_subsidy",
            rate="",
            amount="100",
        )
        codes = selectors.enrolled_codes
        care = Programme.DISABILITY_CARE_SUBSIDY
        assert codes(child, date(2023, 12, 31)) == set()
        assert codes(child, date(2024, 1, 1)) == {Programme.ORPHAN_ALLOWANCE}
        assert codes(child, date(2024, 6, 30)) == {Programme.ORPHAN_ALLOWANCE, care}
        assert codes(child, date(2024, 7, 1)) == {care}
        assert [e.programme for e in selectors.child_enrolments(child)] == [care, ORPHAN]

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (date(2024, 6, 1), None),  # inside the open one
            (date(2023, 1, 1), date(2024, 1, 1)),  # ends on its first month
            (date(2023, 1, 1), None),  # open from before
        ],
    )
    def test_it_refuses_an_overlap_in_the_same_programme(
        self, actors: Actors, start: date, end: date | None
    ) -> None:
        child = make_family(actors)
        enrol(actors, child, start=date(2024, 1, 1))
        with pytest.raises(ValidationError) as exc:
            enrol(
                actors,
                child,
                start=start,
                end=EndInput(end_month=end, end_reason="other", end_note="补录") if end else None,
            )
        assert "start_month" in errors_of(exc)
        assert BenefitEnrolment.objects.count() == 1

    def test_it_allows_months_after_an_ended_one_and_other_programmes(self, actors: Actors) -> None:
        child = make_family(actors)
        enrol(
            actors,
            child,
            end=EndInput(end_month=date(2024, 6, 1), end_reason="not_eligible"),
        )
        enrol(actors, child, start=date(2024, 7, 1))
        enrol(actors, child, start=date(2024, 1, 1), programme="de_facto_allowance")
        other = make_family(actors, name="李四")
        enrol(actors, other, start=date(2024, 1, 1))
        assert BenefitEnrolment.objects.count() == 4

    def test_ending_an_earlier_one_cannot_reach_a_later_one(self, actors: Actors) -> None:
        child = make_family(actors)
        first = enrol(
            actors, child, end=EndInput(end_month=date(2024, 3, 1), end_reason="declined")
        )
        enrol(actors, child, start=date(2024, 4, 1))
        with pytest.raises(ValidationError):
            services.enrolment_end(
                actor=actors.county_admin,
                enrolment=first,
                version=first.version,
                end=EndInput(end_month=date(2024, 5, 1), end_reason="declined"),
            )

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"rate": ""}, "rate"),
            ({"programme": "tekun"}, "rate"),
            ({"monthly_amount": Decimal(0)}, "monthly_amount"),
            ({"monthly_amount": Decimal("99999")}, "monthly_amount"),
            ({"start_month": date(2013, 1, 1)}, "start_month"),  # before the birth
            ({"start_month": date(2090, 1, 1)}, "start_month"),
            ({"programme": "nothing"}, "programme"),
        ],
    )
    def test_it_refuses_bad_input_naming_the_field(
        self, actors: Actors, fields: dict[str, object], field: str
    ) -> None:
        child = make_family(actors)
        data = {
            "programme": ORPHAN,
            "rate": "scattered",
            "monthly_amount": Decimal(100),
            "start_month": date(2024, 1, 1),
            **fields,
        }
        with pytest.raises(ValidationError) as exc:
            services.enrolment_create(
                actor=actors.county_admin,
                child=child,
                data=EnrolmentInput(**data),  # type: ignore[arg-type]
            )
        assert field in errors_of(exc)

    def test_an_end_needs_a_reason_and_other_a_note(self, actors: Actors) -> None:
        child = make_family(actors)
        enrolment = enrol(actors, child)
        for end, field in (
            (EndInput(end_month=date(2024, 5, 1), end_reason=""), "end_reason"),
            (EndInput(end_month=date(2024, 5, 1), end_reason="other"), "end_note"),
            (EndInput(end_month=date(2023, 5, 1), end_reason="died"), "end_month"),
        ):
            with pytest.raises(ValidationError) as exc:
                services.enrolment_end(
                    actor=actors.county_admin,
                    enrolment=enrolment,
                    version=enrolment.version,
                    end=end,
                )
            assert field in errors_of(exc)

    @pytest.mark.parametrize("who", ["auditor", "town_supervisor", "village_director"])
    def test_only_county_officers_enrol(self, actors: Actors, who: str) -> None:
        child = make_family(actors)
        with pytest.raises(PermissionDenied):
            services.enrolment_create(
                actor=getattr(actors, who),
                child=child,
                data=EnrolmentInput(ORPHAN, "scattered", Decimal(1), date(2024, 1, 1)),
            )

    def test_another_countys_officer_may_not_enrol(self, actors: Actors) -> None:
        child = make_family(actors)
        with pytest.raises(PermissionDenied):
            services.enrolment_create(
                actor=actors.other_county_admin,
                child=child,
                data=EnrolmentInput(ORPHAN, "scattered", Decimal(1), date(2024, 1, 1)),
            )


class TestEdits:
    def test_an_edit_bumps_the_version_and_is_audited(self, actors: Actors) -> None:
        enrolment = enrol(actors, make_family(actors))
        updated = services.enrolment_update(
            actor=actors.county_admin,
            enrolment=enrolment,
            version=1,
            data=EnrolmentInput(ORPHAN, "institutional", Decimal(1800), date(2024, 2, 1), "X"),
        )
        assert updated.version == 2
        assert (updated.rate, updated.monthly_amount) == ("institutional", Decimal(1800))
        event = AuditEvent.objects.get(action="benefit.enrolment_update")
        assert set(event.detail["fields"]) == {
            "rate",
            "monthly_amount",
            "start_month",
            "document_number",
        }

    def test_a_stale_edit_is_refused_with_what_changed(self, actors: Actors) -> None:
        enrolment = enrol(actors, make_family(actors))
        services.enrolment_update(
            actor=actors.county_admin,
            enrolment=enrolment,
            version=1,
            data=EnrolmentInput(ORPHAN, "scattered", Decimal(1600), date(2024, 1, 1), "X"),
        )
        with pytest.raises(StaleEdit) as exc:
            services.enrolment_end(
                actor=actors.county_admin,
                enrolment=enrolment,
                version=1,
                end=EndInput(end_month=date(2024, 5, 1), end_reason="died"),
            )
        assert exc.value.current_version == 2
        assert {c.field for c in exc.value.changes} >= {"monthly_amount"}
        enrolment.refresh_from_db()
        assert enrolment.end_month is None
        assert enrolment.monthly_amount == 1600

    def test_an_edit_keeps_the_programme(self, actors: Actors) -> None:
        enrolment = enrol(actors, make_family(actors))
        with pytest.raises(ValidationError) as exc:
            services.enrolment_update(
                actor=actors.county_admin,
                enrolment=enrolment,
                version=1,
                data=EnrolmentInput(
                    "de_facto_allowance", "scattered", Decimal(1), date(2024, 1, 1)
                ),
            )
        assert "programme" in errors_of(exc)

    def test_an_end_is_recorded_with_its_reason(self, actors: Actors) -> None:
        enrolment = enrol(actors, make_family(actors))
        today = timezone.localdate()
        ended = services.enrolment_end(
            actor=actors.county_admin,
            enrolment=enrolment,
            version=1,
            end=EndInput(end_month=today, end_reason="adopted"),
        )
        assert ended.end_month == today.replace(day=1)
        assert ended.get_end_reason_display()
        assert AuditEvent.objects.filter(action="benefit.enrolment_end").count() == 1
        assert ended.history.count() == 2


class TestScope:
    def test_each_user_sees_enrolments_in_their_division(self, actors: Actors) -> None:
        here = enrol(actors, make_family(actors))
        there = enrol(actors, make_family(actors, village="620724100202", name="赵五"))
        dibao = enrol(actors, make_family(actors, name="钱六"), programme="dibao", rate="")

        def seen(who: str) -> set[int]:
            found = BenefitEnrolment.objects.visible_to(getattr(actors, who))
            return set(found.values_list("pk", flat=True))

        assert seen("county_admin") == {here.pk, there.pk, dibao.pk}
        assert seen("village_director") == {here.pk, dibao.pk}
        assert seen("other_village_director") == {there.pk}
        assert seen("other_county_admin") == set()
        assert seen("department_officer") == set()
