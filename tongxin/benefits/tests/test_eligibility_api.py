"""``POST /api/v1/eligibility``: the benefits calculator, per the contract of issue 13."""

from __future__ import annotations

import copy
import json
from typing import Any
from unittest.mock import ANY

import pytest
from django.test import Client
from django.urls import reverse

from tongxin.benefits.api import EXAMPLE_REQUEST, EXAMPLE_RESPONSE
from tongxin.testing import Actors, api_client

URL = "/api/v1/eligibility"
NO_HOUSEHOLD = {"dibao": False, "low_income": False, "tekun": False}


def body(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE_REQUEST)
    data.update(changes)
    return data


def post(actors: Actors, data: Any) -> Any:
    return api_client(actors.village_director).post(URL, data, format="json")


class TestEligibility:
    def test_it_is_at_the_contract_url(self) -> None:
        assert reverse("api:eligibility") == URL

    def test_it_answers_the_example_exactly(self, actors: Actors) -> None:
        response = post(actors, EXAMPLE_REQUEST)
        assert response.status_code == 200
        assert response.json() == EXAMPLE_RESPONSE

    def test_it_answers_an_orphan_at_college_in_an_institution_with_tekun(
        self, actors: Actors
    ) -> None:
        data = body(
            as_of="2024-09-01",
            birth_date="2005-09-01",
            in_institution=True,
            schooling="college",
            disability=None,
            household=NO_HOUSEHOLD,
            enrolled=["tekun", "orphan_allowance"],
            father={"state": "declared_dead", "since": "2010-05-01", "until": None},
            mother={"state": "unknown"},
        )
        parents = "父亲被宣告死亡（2010年5月1日），母亲查找不到"
        adult = "儿童已满18周岁（2005年9月1日出生）"
        assert post(actors, data).json() == {
            "programmes": {
                "orphan_allowance": {
                    "eligible": True,
                    "reason": f"{parents}；儿童在福利机构集中养育；"
                    f"{adult}，仍在全日制高等教育（专科、本科）就读",
                    "rate": "institutional",
                    "top_up": False,
                },
                "de_facto_allowance": {
                    "eligible": False,
                    "reason": f"{parents}：父母均已死亡或失踪，属于孤儿",
                    "rate": None,
                    "top_up": False,
                },
                "disability_living_subsidy": {
                    "eligible": False,
                    "reason": "儿童无残疾人证；家庭未享受最低生活保障；儿童符合孤儿基本生活费条件；"
                    f"儿童享受特困人员救助供养；儿童在福利机构生活；{adult}",
                },
                "disability_care_subsidy": {
                    "eligible": False,
                    "reason": f"儿童无残疾人证；儿童享受特困人员救助供养；{adult}",
                },
                "rehab_assistance": {
                    "eligible": False,
                    "reason": "儿童已满7周岁（2005年9月1日出生）；儿童无残疾人证",
                },
            },
            "conflicts": [["orphan_allowance", "tekun"]],
            "eligible_not_enrolled": [],
            "enrolled_not_eligible": [],
        }

    def test_it_answers_a_young_autistic_child_whose_mother_lost_contact(
        self, actors: Actors
    ) -> None:
        data = body(
            as_of="2024-06-30",
            birth_date="2019-03-15",
            in_institution=False,
            schooling="preschool",
            disability={"category": "autism", "grade": 2},
            household={"dibao": False, "low_income": True, "tekun": False},
            enrolled=[],
            father={"state": "deceased", "since": "2021-01-01", "until": None, "disability": None},
            # 31 December + 6 months is 30 June: the report has just reached 6 months
            mother={"state": "lost_contact", "since": "2023-12-31", "until": None},
        )
        parents = "父亲已故（2021年1月1日），母亲失联（2023年12月31日公安机关受理报案），已满6个月"
        minor = "儿童未满18周岁（2019年3月15日出生）"
        assert post(actors, data).json() == {
            "programmes": {
                "orphan_allowance": {
                    "eligible": False,
                    "reason": f"{parents}：父母并非均已死亡、被宣告死亡、被宣告失踪或查找不到",
                    "rate": None,
                    "top_up": False,
                },
                "de_facto_allowance": {
                    "eligible": True,
                    "reason": f"{parents}；儿童社会散居；{minor}",
                    "rate": "scattered",
                    "top_up": False,
                },
                "disability_living_subsidy": {
                    "eligible": False,
                    "reason": "家庭未享受最低生活保障",
                },
                "disability_care_subsidy": {
                    "eligible": True,
                    "reason": f"儿童持残疾人证（孤独症二级）；未享受特困人员救助供养；{minor}",
                },
                "rehab_assistance": {
                    "eligible": True,
                    "reason": "儿童未满7周岁（2019年3月15日出生）；儿童持残疾人证（孤独症二级）；"
                    "家庭为低收入家庭、儿童符合事实无人抚养儿童基本生活补贴条件",
                },
            },
            "conflicts": [],
            "eligible_not_enrolled": [
                "de_facto_allowance",
                "disability_care_subsidy",
                "rehab_assistance",
            ],
            "enrolled_not_eligible": [],
        }
        data["as_of"] = "2024-06-29"  # a day short of 6 months: the mother is not in S
        answer = post(actors, data).json()
        assert answer["programmes"]["de_facto_allowance"]["eligible"] is False
        assert answer["eligible_not_enrolled"] == ["disability_care_subsidy", "rehab_assistance"]

    def test_it_stops_the_orphan_allowance_on_the_18th_birthday_of_a_child_born_on_29_february(
        self, actors: Actors
    ) -> None:
        data = body(
            as_of="2026-03-01",
            birth_date="2008-02-29",
            in_institution=False,
            schooling="none",
            disability=None,
            household={"dibao": True, "low_income": False, "tekun": False},
            enrolled=["orphan_allowance"],
            father={"state": "deceased", "since": "2015-03-01"},
            mother={"state": "deceased"},
        )
        adult = "儿童已满18周岁（2008年2月29日出生）"
        assert post(actors, data).json() == {
            "programmes": {
                "orphan_allowance": {
                    "eligible": False,
                    "reason": f"{adult}，未在全日制学校就读",
                    "rate": None,
                    "top_up": False,
                },
                "de_facto_allowance": {
                    "eligible": False,
                    "reason": "父亲已故（2015年3月1日），母亲已故：父母均已死亡或失踪，属于孤儿；"
                    f"{adult}，未在全日制学校就读",
                    "rate": None,
                    "top_up": False,
                },
                "disability_living_subsidy": {
                    "eligible": False,
                    "reason": f"儿童无残疾人证；{adult}",
                },
                "disability_care_subsidy": {
                    "eligible": False,
                    "reason": f"儿童无残疾人证；{adult}",
                },
                "rehab_assistance": {
                    "eligible": False,
                    "reason": "儿童已满7周岁（2008年2月29日出生）；儿童无残疾人证",
                },
            },
            "conflicts": [],
            "eligible_not_enrolled": [],
            "enrolled_not_eligible": ["orphan_allowance"],
        }
        data["as_of"] = "2026-02-28"
        orphan = post(actors, data).json()["programmes"]["orphan_allowance"]
        assert orphan["eligible"] is True
        assert orphan["rate"] == "scattered"
        data.update(as_of="2026-03-01", schooling="senior")
        assert post(actors, data).json()["programmes"]["orphan_allowance"]["eligible"] is True

    def test_it_answers_nothing_for_an_adopted_child(self, actors: Actors) -> None:
        answer = post(actors, body(adopted=True)).json()
        assert [p["eligible"] for p in answer["programmes"].values()] == [False] * 5
        assert all("儿童已被依法收养" in p["reason"] for p in answer["programmes"].values())
        assert answer["enrolled_not_eligible"] == ["orphan_allowance"]

    def test_it_answers_nothing_before_the_birth_date(self, actors: Actors) -> None:
        answer = post(actors, body(as_of="2012-04-30")).json()
        assert [p["eligible"] for p in answer["programmes"].values()] == [False] * 5

    def test_a_parent_needs_only_its_state(self, actors: Actors) -> None:
        data = body(father={"state": "able"}, mother={"state": "able"})
        answer = post(actors, data).json()
        assert answer["programmes"]["de_facto_allowance"] == {
            "eligible": False,
            "reason": "父亲有抚养能力，母亲有抚养能力：不符合父母双方均不能履行抚养义务的情形",
            "rate": None,
            "top_up": False,
        }

    def test_it_takes_the_thresholds_from_the_settings(self, actors: Actors, settings: Any) -> None:
        settings.TONGXIN_BENEFITS = {"restriction_months": 25}  # a 2-year sentence is too short
        answer = post(actors, EXAMPLE_REQUEST).json()
        assert answer["programmes"]["de_facto_allowance"]["eligible"] is False
        assert "不足25个月" in answer["programmes"]["de_facto_allowance"]["reason"]

    def test_it_stores_nothing(self, actors: Actors, django_assert_max_num_queries: Any) -> None:
        client = api_client(actors.village_director)
        # the token lookup (and knox's expiry refresh) only; nothing about the facts is written
        with django_assert_max_num_queries(3) as queries:
            assert client.post(URL, EXAMPLE_REQUEST, format="json").status_code == 200
        assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]


class TestInvalid:
    @pytest.mark.parametrize(
        "field",
        [
            "as_of",
            "birth_date",
            "in_institution",
            "schooling",
            "adopted",
            "deceased",
            "hukou_in_county",
            "disability",
            "household",
            "enrolled",
            "father",
            "mother",
        ],
    )
    def test_it_names_each_missing_field(self, actors: Actors, field: str) -> None:
        data = body()
        del data[field]
        response = post(actors, data)
        assert response.status_code == 400
        assert set(response.json()) == {field}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"as_of": "2024-13-01"}, "as_of"),
            ({"as_of": "0001-01-01"}, "as_of"),
            ({"as_of": "9999-12-31"}, "as_of"),
            ({"as_of": "2024-06-30T00:00:00"}, "as_of"),
            ({"birth_date": "1900-01-01"}, "birth_date"),
            ({"birth_date": "2099-01-01"}, "birth_date"),
            ({"schooling": "university"}, "schooling"),
            ({"in_institution": "perhaps"}, "in_institution"),
            ({"hukou_in_county": None}, "hukou_in_county"),
            ({"father": None}, "father"),
            ({"mother": "deceased"}, "mother"),
            ({"enrolled": "orphan_allowance"}, "enrolled"),
            ({"enrolled": [*EXAMPLE_REQUEST["enrolled"]] * 5}, "enrolled"),
            ({"household": None}, "household"),
            ({"lives_in": "village"}, "lives_in"),  # unknown keys are refused, not ignored
        ],
    )
    def test_it_names_each_invalid_field(
        self, actors: Actors, change: dict[str, Any], field: str
    ) -> None:
        response = post(actors, body(**change))
        assert response.status_code == 400
        assert set(response.json()) == {field}

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            ({"disability": {"category": "mind", "grade": 1}}, {"disability": {"category"}}),
            ({"disability": {"category": "visual", "grade": 5}}, {"disability": {"grade"}}),
            ({"disability": {"category": "visual", "grade": 0}}, {"disability": {"grade"}}),
            ({"disability": {"category": "visual"}}, {"disability": {"grade"}}),
            ({"household": {"dibao": True, "tekun": False}}, {"household": {"low_income"}}),
            ({"father": {"state": "away"}}, {"father": {"state"}}),
            ({"father": {"since": "2020-01-01"}}, {"father": {"state"}}),
            ({"father": {"state": "deceased", "since": "0001-01-01"}}, {"father": {"since"}}),
            (
                {"mother": {"state": "imprisoned", "since": "2024-01-01", "until": "9999-12-31"}},
                {"mother": {"until"}},
            ),
            ({"father": {"state": "imprisoned"}}, {"father": {"since"}}),
            ({"father": {"state": "imprisoned", "since": None}}, {"father": {"since"}}),
            (
                {"mother": {"state": "compulsory_detox", "until": "2025-01-01"}},
                {"mother": {"since"}},
            ),
            ({"mother": {"state": "restricted_freedom"}}, {"mother": {"since"}}),
            ({"mother": {"state": "guardianship_revoked"}}, {"mother": {"since"}}),
            ({"mother": {"state": "deported"}}, {"mother": {"since"}}),
            (
                {"father": {"state": "severe_disability", "since": "2020-01-01"}},
                {"father": {"disability"}},
            ),
            (
                {
                    "father": {
                        "state": "severe_disability",
                        "disability": {"category": "x", "grade": 2},
                    }
                },
                {"father": {"disability"}},
            ),
            (
                {"mother": {"state": "deceased", "since": "2024-02-01", "until": "2024-01-31"}},
                {"mother": {"until"}},
            ),
            ({"mother": {"state": "deceased", "sinse": "2024-02-01"}}, {"mother": {"sinse"}}),
        ],
    )
    def test_it_names_the_path_into_a_nested_field(
        self, actors: Actors, change: dict[str, Any], errors: dict[str, set[str]]
    ) -> None:
        response = post(actors, body(**change))
        assert response.status_code == 400
        answer = response.json()
        assert {key: set(value) for key, value in answer.items()} == errors

    def test_it_names_an_unknown_programme_by_its_place_in_the_list(self, actors: Actors) -> None:
        response = post(actors, body(enrolled=["dibao", "pension"]))
        assert response.status_code == 400
        assert response.json() == {"enrolled": {"1": [ANY]}}

    def test_it_says_why_a_date_is_refused_in_chinese(self, actors: Actors) -> None:
        data = body(father={"state": "imprisoned", "since": "2023-03-01", "until": "2024-03-01"})
        data["father"]["since"] = "2024-04-01"
        response = post(actors, data)
        assert response.json() == {"father": {"until": ["结束日期不能早于开始日期。"]}}
        response = post(actors, body(mother={"state": "imprisoned"}))
        assert response.json() == {"mother": {"since": ["该情形需要填写开始日期。"]}}
        response = post(actors, body(as_of="0001-01-01"))
        assert "1年1月1日" in response.json()["as_of"][0]

    def test_it_refuses_what_is_not_a_json_object(self, actors: Actors) -> None:
        client = api_client(actors.village_director)
        assert client.post(URL, "as_of=2024-06-30", content_type="text/plain").status_code == 415
        assert post(actors, [EXAMPLE_REQUEST]).status_code == 400


class TestAccess:
    def test_it_answers_401_without_a_token(self) -> None:
        response = api_client(None).post(URL, EXAMPLE_REQUEST, format="json")
        assert response.status_code == 401

    @pytest.mark.parametrize(
        "actor", ["county_admin", "town_supervisor", "reporter", "department_officer", "auditor"]
    )
    def test_it_answers_any_signed_in_user(self, actors: Actors, actor: str) -> None:
        response = api_client(getattr(actors, actor)).post(URL, EXAMPLE_REQUEST, format="json")
        assert response.status_code == 200

    def test_it_answers_only_post(self, actors: Actors) -> None:
        assert api_client(actors.village_director).get(URL).status_code == 405


def test_it_is_documented_in_the_schema(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "eligibility"
    request = operation["requestBody"]["content"]["application/json"]
    assert request["examples"]
    components = schema["components"]["schemas"]

    def component(ref: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = components[ref["$ref"].rsplit("/", 1)[1]]
        return found

    request_schema = component(request["schema"])
    assert set(request_schema["required"]) == {
        "as_of",
        "birth_date",
        "in_institution",
        "schooling",
        "adopted",
        "deceased",
        "hukou_in_county",
        "disability",
        "household",
        "enrolled",
        "father",
        "mother",
    }
    assert components["ParentLegalState"]["enum"] == [
        "able",
        "deceased",
        "declared_dead",
        "declared_missing",
        "unknown",
        "severe_disability",
        "serious_illness",
        "imprisoned",
        "compulsory_detox",
        "restricted_freedom",
        "lost_contact",
        "guardianship_revoked",
        "deported",
    ]
    assert components["Schooling"]["enum"] == [
        "none",
        "preschool",
        "primary",
        "junior",
        "senior",
        "vocational",
        "college",
        "postgraduate",
    ]
    assert components["DisabilityCategory"]["enum"] == [
        "visual",
        "hearing",
        "speech",
        "physical",
        "intellectual",
        "mental",
        "multiple",
        "autism",
    ]
    assert components["ComputedProgrammeCode"]["enum"] == [
        "orphan_allowance",
        "de_facto_allowance",
        "disability_living_subsidy",
        "disability_care_subsidy",
        "rehab_assistance",
    ]
    assert len(components["ProgrammeCode"]["enum"]) == 9
    assert components["AllowanceRate"]["enum"] == ["institutional", "scattered"]
    response = operation["responses"]["200"]["content"]["application/json"]
    assert response["examples"]
    out = component(response["schema"])
    assert set(out["required"]) == {
        "programmes",
        "conflicts",
        "eligible_not_enrolled",
        "enrolled_not_eligible",
    }
    programmes = component(out["properties"]["programmes"]["allOf"][0])
    assert set(programmes["required"]) == {
        "orphan_allowance",
        "de_facto_allowance",
        "disability_living_subsidy",
        "disability_care_subsidy",
        "rehab_assistance",
    }
    allowance = component(programmes["properties"]["orphan_allowance"]["allOf"][0])
    assert set(allowance["required"]) == {"eligible", "reason", "rate", "top_up"}
    assert "400" in operation["responses"]
    assert operation["security"] == [{"knoxApiToken": []}]
