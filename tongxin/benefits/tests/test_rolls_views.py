"""The payment roll pages: upload, the preview, apply, the children to register; a hostile file
is a clear message in Chinese, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.benefits.roll_models import PaymentLine, PaymentRoll, RollStatus
from tongxin.benefits.tests.test_rolls import june_rows, number, workbook
from tongxin.interop.tests.conftest import rezip, sheet_xml
from tongxin.lib import idcard
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

pytestmark = pytest.mark.django_db


def post_roll(actors: Actors, data: bytes, **extra: Any) -> Any:
    return web_client(actors.county_admin).post(
        reverse("rolls:upload"), {"file": SimpleUploadedFile("花名册.xlsx", data)}, **extra
    )


def test_it_uploads_previews_and_applies_a_roll(actors: Actors) -> None:
    make_family(actors, id_number=number(1), name="王小明")

    response = post_roll(actors, workbook(june_rows()))

    assert response.status_code == 302
    roll = PaymentRoll.objects.get()
    page = web_client(actors.county_admin).get(reverse("rolls:detail", args=[roll.public_id]))
    assert page.status_code == 200
    html = page.text
    assert "赵未建" in html
    assert idcard.mask(number(3)) in html
    assert number(3) not in html  # masked only
    assert "Apply the roll" in html or "rolls/" in html
    assert AuditEvent.objects.filter(action="payment_roll.preview").count() == 1

    applied = web_client(actors.county_admin).post(reverse("rolls:apply", args=[roll.public_id]))

    assert applied.status_code == 302
    roll.refresh_from_db()
    assert roll.status == RollStatus.APPLIED
    assert PaymentLine.objects.count() == 4


def test_the_same_file_again_says_it_was_applied(actors: Actors) -> None:
    data = workbook(june_rows())
    post_roll(actors, data)
    first = PaymentRoll.objects.get()
    web_client(actors.county_admin).post(reverse("rolls:apply", args=[first.public_id]))
    post_roll(actors, data)
    again = PaymentRoll.objects.exclude(pk=first.pk).get()

    page = web_client(actors.county_admin).get(reverse("rolls:detail", args=[again.public_id]))

    assert 'id="same-file"' in page.text
    web_client(actors.county_admin).post(reverse("rolls:apply", args=[again.public_id]))
    assert PaymentLine.objects.count() == 4


def test_a_bad_roll_lists_every_bad_row(actors: Actors) -> None:
    rows = june_rows()
    rows[1][2] = "不知道"
    rows[2][4] = "-1"

    post_roll(actors, workbook(rows))

    roll = PaymentRoll.objects.get()
    assert roll.status == RollStatus.REFUSED
    page = web_client(actors.county_admin).get(
        reverse("rolls:detail", args=[roll.public_id]) + "?kind=error"
    )
    assert page.status_code == 200
    assert "项目" in page.text
    assert "金额" in page.text
    assert "Apply the roll" not in page.text
    assert re.search(r'href="\?kind=error"[^>]*>[^<]*\(2\)', page.text)  # the count
    assert page.text.count('class="outcome-error"') == 2
    refused = web_client(actors.county_admin).post(reverse("rolls:apply", args=[roll.public_id]))
    assert refused.status_code == 302
    assert not PaymentLine.objects.exists()


def test_a_hostile_file_is_refused_in_chinese_and_keeps_nothing(actors: Actors) -> None:
    data = workbook(june_rows())
    bomb = rezip(
        data, sheet_xml(data).replace(b"</sheetData>", b" " * (20 << 20) + b"</sheetData>")
    )

    response = post_roll(actors, bomb, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 400
    assert "压缩炸弹" in response.text
    assert not PaymentRoll.objects.exists()


def test_the_children_to_register_page_shows_the_directors_own_village(actors: Actors) -> None:
    post_roll(actors, workbook(june_rows()))
    roll = PaymentRoll.objects.get()
    web_client(actors.county_admin).post(reverse("rolls:apply", args=[roll.public_id]))

    mine = web_client(actors.village_director).get(reverse("rolls:unmatched"))
    theirs = web_client(actors.other_village_director).get(reverse("rolls:unmatched"))

    assert mine.status_code == 200
    assert "赵未建" in mine.text
    assert "王小红" not in mine.text
    assert "王小红" in theirs.text
    assert "赵未建" not in theirs.text
    assert number(3) not in mine.text
    assert AuditEvent.objects.filter(action="payment_roll.unmatched").count() == 2


def test_the_children_to_register_page_costs_the_same_for_more_lines(
    actors: Actors, django_assert_max_num_queries: Any
) -> None:
    rows = [
        [f"赵{'一二三四五六七八'[i]}", number(40 + i), "低保", "2024-06", 300, "城关镇", "东村"]
        for i in range(8)
    ]
    post_roll(actors, workbook(rows))
    roll = PaymentRoll.objects.get()
    web_client(actors.county_admin).post(reverse("rolls:apply", args=[roll.public_id]))
    client = web_client(actors.village_director)
    client.get(reverse("rolls:unmatched"))  # the session, warmed

    with django_assert_max_num_queries(12):
        response = client.get(reverse("rolls:unmatched"))

    assert response.text.count("620724") >= 8


@pytest.mark.parametrize("who", ["village_director", "town_supervisor"])
def test_the_menu_leads_the_town_and_village_to_the_children_to_register(
    actors: Actors, who: str
) -> None:
    html = web_client(getattr(actors, who)).get(reverse("home")).text

    assert f'href="{reverse("rolls:unmatched")}"' in html
    assert f'href="{reverse("rolls:index")}"' not in html


@pytest.mark.parametrize("who", ["county_admin", "auditor"])
def test_the_county_reaches_the_rolls_from_the_benefits_page(actors: Actors, who: str) -> None:
    client = web_client(getattr(actors, who))
    home = client.get(reverse("home")).text
    assert f'href="{reverse("benefits:enrolment_list")}"' in home
    assert f'href="{reverse("rolls:index")}"' not in home  # one menu entry for benefits

    page = client.get(reverse("benefits:enrolment_list")).text
    assert f'href="{reverse("rolls:index")}"' in page
    assert f'href="{reverse("rolls:unmatched")}"' in page


def test_the_menu_shows_no_roll_to_other_roles(actors: Actors) -> None:
    for who in ("department_officer", "reporter", "system_admin"):
        html = web_client(getattr(actors, who)).get(reverse("home")).text
        assert reverse("rolls:index") not in html
        assert reverse("rolls:unmatched") not in html
