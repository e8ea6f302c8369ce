"""``POST /api/v1/classify``: the policy calculator, per the contract of issue 3."""

from __future__ import annotations

import copy
import json
from typing import Any
from unittest.mock import ANY

import pytest
from django.test import Client
from django.urls import reverse

from tongxin.registry.api import EXAMPLE_REQUEST, EXAMPLE_RESPONSE
from tongxin.testing import Actors, api_client

URL = "/api/v1/classify"


def body(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE_REQUEST)
    data.update(changes)
    return data


def post(actors: Actors, data: Any) -> Any:
    return api_client(actors.village_director).post(URL, data, format="json")


class TestClassify:
    def test_it_is_at_the_contract_url(self) -> None:
        assert reverse("api:classify") == URL

    def test_it_answers_per_the_contract(self, actors: Actors) -> None:
        response = post(actors, EXAMPLE_REQUEST)
        assert response.status_code == 200
        assert response.json() == EXAMPLE_RESPONSE

    def test_it_answers_a_child_in_difficulty_only(self, actors: Actors) -> None:
        data = body(
            as_of="2024-06-30",
            birth_date="2008-07-01",
            lives_in="community",
            father={"status": "deceased", "capacity": "full", "migrations": []},
            mother={"status": "lost_contact", "capacity": "full", "migrations": []},
            dibao=False,
            disability_grade=3,
        )
        assert post(actors, data).json() == {
            "as_of": "2024-06-30",
            "categories": [
                {
                    "code": "de_facto_unsupported",
                    "reason": "父亲已故，母亲失联；儿童未满18周岁（2008年7月1日出生）",
                },
                {
                    "code": "disabled",
                    "reason": "儿童残疾，残疾等级为三级；儿童未满18周岁（2008年7月1日出生）",
                },
            ],
            "in_difficulty": True,
        }

    @pytest.mark.parametrize(
        ("as_of", "codes"),
        [("2024-04-09", []), ("2024-04-10", ["left_behind"])],
    )
    def test_it_counts_three_months_on_the_date(
        self, actors: Actors, as_of: str, codes: list[str]
    ) -> None:
        father = {
            "status": "alive",
            "capacity": "full",
            "migrations": [
                {"left_on": "2024-01-10", "returned_on": None, "destination": "out_of_county"}
            ],
        }
        mother = {"status": "alive", "capacity": "serious_illness", "migrations": []}
        answer = post(actors, body(as_of=as_of, father=father, mother=mother, dibao=False)).json()
        assert [c["code"] for c in answer["categories"]] == codes
        assert answer["in_difficulty"] is False

    def test_it_takes_an_open_spell_without_returned_on(self, actors: Actors) -> None:
        data = body()
        del data["father"]["migrations"][0]["returned_on"]
        assert post(actors, data).json() == EXAMPLE_RESPONSE

    def test_it_takes_the_thresholds_from_the_settings(self, actors: Actors, settings: Any) -> None:
        settings.TONGXIN_POLICY = {"absence_months": 7}
        answer = post(actors, EXAMPLE_REQUEST).json()
        assert [c["code"] for c in answer["categories"]] == ["dibao_family"]

    def test_it_stores_nothing(self, actors: Actors, django_assert_max_num_queries: Any) -> None:
        client = api_client(actors.village_director)
        # the token lookup (and knox's expiry refresh) only; no write of the facts
        with django_assert_max_num_queries(3) as queries:
            assert client.post(URL, EXAMPLE_REQUEST, format="json").status_code == 200
        assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]


class TestInvalid:
    def test_it_names_a_nested_invalid_enum(self, actors: Actors) -> None:
        data = body()
        data["father"]["status"] = "away"
        response = post(actors, data)
        assert response.status_code == 400
        assert set(response.json()) == {"father"}
        assert set(response.json()["father"]) == {"status"}

    def test_it_names_a_missing_as_of(self, actors: Actors) -> None:
        data = body()
        del data["as_of"]
        response = post(actors, data)
        assert response.status_code == 400
        assert set(response.json()) == {"as_of"}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"birth_date": "2012-13-01"}, "birth_date"),
            ({"lives_in": "city"}, "lives_in"),
            ({"disability_grade": 5}, "disability_grade"),
            ({"disability_grade": 0}, "disability_grade"),
            ({"dibao": "perhaps"}, "dibao"),
            ({"mother": None}, "mother"),
        ],
    )
    def test_it_names_each_invalid_field(
        self, actors: Actors, change: dict[str, Any], field: str
    ) -> None:
        response = post(actors, body(**change))
        assert response.status_code == 400
        assert set(response.json()) == {field}

    @pytest.mark.parametrize(
        "field",
        [
            "birth_date",
            "lives_in",
            "father",
            "mother",
            "parents_divorced",
            "dibao",
            "tekun",
            "disability_grade",
            "serious_illness",
        ],
    )
    def test_it_names_each_missing_field(self, actors: Actors, field: str) -> None:
        data = body()
        del data[field]
        response = post(actors, data)
        assert response.status_code == 400
        assert set(response.json()) == {field}

    def test_it_names_the_path_into_a_migration(self, actors: Actors) -> None:
        data = body()
        data["mother"]["migrations"][0]["destination"] = "abroad"
        response = post(actors, data)
        assert response.status_code == 400
        # DRF keys list errors by index: mother.migrations.0.destination
        assert response.json() == {"mother": {"migrations": {"0": {"destination": [ANY]}}}}

    def test_it_refuses_what_is_not_json(self, actors: Actors) -> None:
        client = api_client(actors.village_director)
        response = client.post(URL, "as_of=2024-06-30", content_type="text/plain")
        assert response.status_code == 415


class TestAccess:
    def test_it_answers_401_without_a_token(self) -> None:
        response = api_client(None).post(URL, EXAMPLE_REQUEST, format="json")
        assert response.status_code == 401

    @pytest.mark.parametrize("actor", ["county_admin", "reporter", "department_officer"])
    def test_it_answers_any_signed_in_user(self, actors: Actors, actor: str) -> None:
        response = api_client(getattr(actors, actor)).post(URL, EXAMPLE_REQUEST, format="json")
        assert response.status_code == 200

    def test_it_answers_only_post(self, actors: Actors) -> None:
        assert api_client(actors.village_director).get(URL).status_code == 405


def test_it_is_documented_in_the_schema(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "classify"
    request = operation["requestBody"]["content"]["application/json"]
    assert request["examples"]
    components = schema["components"]["schemas"]
    request_schema = components[request["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(request_schema["required"]) == {
        "as_of",
        "birth_date",
        "lives_in",
        "father",
        "mother",
        "parents_divorced",
        "dibao",
        "tekun",
        "disability_grade",
        "serious_illness",
    }
    assert components["ParentStatus"]["enum"] == [
        "alive",
        "deceased",
        "declared_dead",
        "declared_missing",
        "lost_contact",
        "unknown",
    ]
    assert components["GuardianshipCapacity"]["enum"] == [
        "full",
        "serious_illness",
        "serious_disability",
        "imprisoned",
        "compulsory_detox",
        "restricted_freedom",
    ]
    assert components["MigrationDestination"]["enum"] == [
        "in_county",
        "out_of_county",
        "out_of_province",
    ]
    assert components["CategoryCode"]["enum"] == [
        "left_behind",
        "orphan",
        "de_facto_unsupported",
        "dibao_family",
        "tekun",
        "disabled",
        "seriously_ill",
        "single_parent",
    ]
    response = operation["responses"]["200"]["content"]["application/json"]
    assert response["examples"]
    assert "400" in operation["responses"]
    assert operation["security"] == [{"knoxApiToken": []}]
