"""The guardian's copy of a file (PIPL's right of access): a county officer records who asks,
as what and why, and gets the whole file on a printable page with ID numbers masked; the copy
is audited as its own action. Who may ask is in tongxin/tests/test_scope.py."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.lib import idcard
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client


@pytest.mark.django_db
class TestGuardianCopy:
    def test_it_prints_the_file_and_audits_who_asked(self, actors: Actors) -> None:
        number = idcard.generate(
            random.Random(5), region="620724", birth_date=date(2014, 5, 1), gender="male"
        )
        child = make_family(actors, id_number=number, name="王小明")
        client = web_client(actors.county_admin)
        url = reverse("registry:child_copy", args=[child.public_id])
        page = client.get(reverse("registry:child_detail", args=[child.public_id]))
        assert url in page.content.decode()

        response = client.post(
            url, {"requester": "王大山", "relation": "父亲", "reason": "申请查阅档案"}
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert "王小明" in html
        assert "王大山" in html
        assert "一组" in html
        assert number not in html
        assert idcard.mask(number) in html
        assert "reveal-id" not in html
        assert "/edit/" not in html
        entry = AuditEvent.objects.get(action="child.copy")
        assert entry.object_code == str(child.public_id)
        assert entry.detail == {"requester": "王大山", "relation": "父亲", "reason": "申请查阅档案"}
        assert entry.actor == actors.county_admin

    def test_it_asks_who_and_why_first(self, actors: Actors) -> None:
        child = make_family(actors)
        client = web_client(actors.county_admin)
        url = reverse("registry:child_copy", args=[child.public_id])
        assert client.get(url).status_code == 200
        response = client.post(url, {"requester": "王大山"})
        assert response.status_code == 400
        assert not AuditEvent.objects.filter(action="child.copy").exists()

    def test_a_village_director_sees_no_link(self, actors: Actors) -> None:
        child = make_family(actors)
        page = web_client(actors.village_director).get(
            reverse("registry:child_detail", args=[child.public_id])
        )
        assert reverse("registry:child_copy", args=[child.public_id]) not in page.content.decode()
