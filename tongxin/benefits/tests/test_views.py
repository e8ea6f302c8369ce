"""The benefits pages: the standards, the enrolments' section of the child's file, the forms
that enrol, change and end (bad input → a Chinese message on the field), and the list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from tongxin.audit.models import AuditEvent
from tongxin.benefits.models import BenefitEnrolment, Standard
from tongxin.benefits.tests.test_services import enrol
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

pytestmark = pytest.mark.django_db

STANDARDS = reverse("benefits:standards")
LIST = reverse("benefits:enrolment_list")


def _zh(client: Any) -> Any:
    client.cookies["django_language"] = "zh-hans"
    return client


def _file(child: Child) -> str:
    return reverse("registry:child_detail", args=[child.public_id])


class TestStandardsPage:
    def test_a_county_officer_adds_a_version(self, actors: Actors) -> None:
        client = web_client(actors.county_admin)
        response = client.post(
            STANDARDS,
            {
                "programme": "orphan_allowance",
                "rate": "scattered",
                "monthly_amount": "1300",
                "effective_from": "2024-01-01",
                "note": "示例金额，非本县标准",
            },
        )
        assert response.status_code == 302
        standard = Standard.objects.get()
        assert standard.monthly_amount == Decimal(1300)
        page = client.get(STANDARDS)
        assert page.status_code == 200
        assert "示例金额，非本县标准" in page.content.decode()

    def test_bad_input_is_refused_naming_the_field_in_chinese(self, actors: Actors) -> None:
        client = _zh(web_client(actors.county_admin))
        response = client.post(
            STANDARDS,
            {
                "programme": "orphan_allowance",
                "rate": "",
                "monthly_amount": "0",
                "effective_from": "2024-01-01",
            },
        )
        assert response.status_code == 400
        form = response.context["form"]
        assert set(form.errors) == {"monthly_amount"}
        assert not Standard.objects.exists()
        response = client.post(
            STANDARDS,
            {
                "programme": "orphan_allowance",
                "rate": "",
                "monthly_amount": "10",
                "effective_from": "2024-01-01",
            },
        )
        assert response.status_code == 400
        assert set(response.context["form"].errors) == {"rate"}

    def test_the_auditor_reads_and_may_not_add(self, actors: Actors) -> None:
        client = web_client(actors.auditor)
        response = client.get(STANDARDS)
        assert response.status_code == 200
        assert response.context["form"] is None
        assert client.post(STANDARDS, {}).status_code == 403

    def test_roles_that_read_no_files_get_404(self, actors: Actors) -> None:
        assert web_client(actors.department_officer).get(STANDARDS).status_code == 404


class TestFileSection:
    def test_the_file_lists_the_childs_and_households_enrolments(self, actors: Actors) -> None:
        child = make_family(actors)
        enrol(actors, child)
        enrol(actors, child, programme="dibao", rate="", amount="700")
        for who in ("county_admin", "village_director", "town_supervisor", "auditor"):
            response = web_client(getattr(actors, who)).get(_file(child))
            assert response.status_code == 200
            html = response.content.decode()
            assert 'id="benefits"' in html
            assert "高民发〔2024〕1号" in html
            writes = who == "county_admin"
            assert (reverse("benefits:enrolment_create", args=[child.public_id]) in html) == writes


class TestEnrolmentForms:
    def _form(self, **over: str) -> dict[str, str]:
        return {
            "programme": "orphan_allowance",
            "rate": "scattered",
            "monthly_amount": "1300",
            "start_month": "2024-03",
            "document_number": "高民发〔2024〕9号",
            **over,
        }

    def test_a_county_officer_enrols_a_child(self, actors: Actors) -> None:
        child = make_family(actors)
        url = reverse("benefits:enrolment_create", args=[child.public_id])
        client = web_client(actors.county_admin)
        assert client.get(url).status_code == 200
        response = client.post(url, self._form())
        assert response.status_code == 302
        enrolment = BenefitEnrolment.objects.get()
        assert enrolment.start_month == date(2024, 3, 1)
        assert enrolment.child == child

    @pytest.mark.parametrize(
        ("over", "field", "catalogued"),
        [
            ({"monthly_amount": "abc"}, "monthly_amount", True),
            ({"monthly_amount": "0"}, "monthly_amount", True),
            ({"start_month": "2024-13"}, "start_month", True),
            ({"programme": "x"}, "programme", True),
            # The service's own messages: Chinese once the catalogue has them.
            ({"rate": ""}, "rate", False),
            ({"start_month": "2001-01"}, "start_month", False),
        ],
    )
    def test_bad_input_gets_a_message_on_the_field(
        self, actors: Actors, over: dict[str, str], field: str, catalogued: bool
    ) -> None:
        child = make_family(actors)
        url = reverse("benefits:enrolment_create", args=[child.public_id])
        response = _zh(web_client(actors.county_admin)).post(url, self._form(**over))
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert field in errors
        assert not BenefitEnrolment.objects.exists()
        if catalogued:
            with translation.override("zh-hans"):
                text = " ".join(str(e) for e in errors[field])
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text

    def test_an_overlap_is_refused_on_the_page(self, actors: Actors) -> None:
        child = make_family(actors)
        enrol(actors, child)
        url = reverse("benefits:enrolment_create", args=[child.public_id])
        response = web_client(actors.county_admin).post(url, self._form())
        assert response.status_code == 400
        assert "start_month" in response.context["form"].errors

    def test_edit_and_end(self, actors: Actors) -> None:
        child = make_family(actors)
        enrolment = enrol(actors, child)
        client = web_client(actors.county_admin)
        edit = reverse("benefits:enrolment_edit", args=[enrolment.public_id])
        assert client.get(edit).status_code == 200
        response = client.post(edit, {**self._form(monthly_amount="1400"), "version": "1"})
        assert response.status_code == 302
        end = reverse("benefits:enrolment_end", args=[enrolment.public_id])
        assert client.get(end).status_code == 200
        # Based on version 1, replaced meanwhile: refused, the input kept on version 2.
        stale = client.post(end, {"version": "1", "end_month": "2024-06", "end_reason": "died"})
        assert stale.status_code == 409
        assert stale.context["form"].data["version"] == "2"
        response = client.post(end, {"version": "2", "end_month": "2024-06", "end_reason": "died"})
        assert response.status_code == 302
        enrolment.refresh_from_db()
        assert (enrolment.monthly_amount, enrolment.end_month) == (1400, date(2024, 6, 1))
        assert enrolment.end_reason == "died"

    def test_a_village_director_may_not_enrol(self, actors: Actors) -> None:
        child = make_family(actors)
        url = reverse("benefits:enrolment_create", args=[child.public_id])
        assert web_client(actors.village_director).post(url, self._form()).status_code == 404
        assert web_client(actors.auditor).post(url, self._form()).status_code == 403


class TestList:
    def test_it_filters_and_is_scoped_and_audited(self, actors: Actors) -> None:
        here = make_family(actors)
        there = make_family(actors, village="620724100202", name="赵五")
        enrol(actors, here)
        enrol(actors, there, programme="dibao", rate="", amount="700")
        client = web_client(actors.county_admin)
        assert len(client.get(LIST).context["rows"]) == 2
        dibao = client.get(LIST + "?programme=dibao").context["rows"]
        assert [r.enrolment.programme for r in dibao] == ["dibao"]
        assert [c.name for c in dibao[0].children] == ["赵五"]
        assert len(client.get(LIST + "?division=620724100201").context["rows"]) == 1
        assert len(client.get(LIST + "?state=ended").context["rows"]) == 0
        assert client.get(LIST + "?state=nonsense").status_code == 400
        assert client.get(LIST + "?division=999999999999").status_code == 404
        assert AuditEvent.objects.filter(action="benefit.enrolment_list").exists()
        mine = web_client(actors.village_director).get(LIST).context["rows"]
        assert [r.enrolment.child for r in mine] == [here]

    def test_its_queries_do_not_grow_with_rows(
        self, actors: Actors, django_assert_max_num_queries: Any
    ) -> None:
        for n in range(6):
            child = make_family(actors, name=f"孩子{n}")
            enrol(actors, child)
            enrol(actors, child, programme="dibao", rate="", amount="700")
        client = web_client(actors.county_admin)
        client.get(LIST)
        with django_assert_max_num_queries(16):
            assert client.get(LIST).status_code == 200
