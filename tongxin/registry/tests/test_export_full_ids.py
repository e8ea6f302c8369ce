"""The list with full ID numbers (issue 12): never by a GET link; a POST form with a reason from
a fixed list and the person's password (or authenticator code) once more, within a daily cap
of numbers per person counted from the audit trail, inline and in the worker alike."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent, Result
from tongxin.core.xlsx import XLSX_CONTENT_TYPE
from tongxin.exports.models import ExportRun, ExportStatus
from tongxin.lib import idcard
from tongxin.registry import exports
from tongxin.registry.tests.conftest import make_family
from tongxin.registry.tests.test_export import body, column
from tongxin.registry.tests.test_list_view import EAST, TODAY, World, build_world
from tongxin.testing import PASSWORD, Actors, web_client

Capture = Callable[..., Any]
LIST = reverse("registry:child_list")
EXPORT = reverse("registry:child_export")
FULL = reverse("registry:child_export_full")
ID_HEADER = "公民身份证号码"


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


@pytest.fixture
def world(actors: Actors) -> World:
    return build_world(actors)


@pytest.fixture
def second_id(actors: Actors, world: World) -> str:
    """A second child with an ID number, in 东村 beside 张三: the village director's list then
    holds two numbers."""
    number = idcard.generate(
        random.Random(8), region="620724", birth_date=date(2015, 3, 3), gender="male"
    )
    make_family(actors, name="赵六", village=EAST, birth_date=date(2015, 3, 3), id_number=number)
    return number


def code_of(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def rows_of(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True)[exports.SHEET_TITLE]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def ask(user: User, query: str = "", *, reason: str = "supervision", secret: str = PASSWORD) -> Any:
    return web_client(user).post(f"{FULL}{query}", {"reason": reason, "secret": secret})


def reveals(result: str = Result.OK) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action="child.id_reveal_export", result=result).order_by("id")
    )


@pytest.mark.usefixtures("world")
class TestNoMoreGetLink:
    def test_it_masks_numbers_on_a_get_even_with_full_ids(
        self, actors: Actors, world: World
    ) -> None:
        rows = rows_of(web_client(actors.county_admin).get(EXPORT, {"full_ids": "1"}))
        assert world.zhang_id not in str(rows)
        assert idcard.mask(world.zhang_id) in column(rows, ID_HEADER)
        assert not reveals()

    def test_the_list_links_to_the_form_with_its_filters(self, actors: Actors) -> None:
        page = web_client(actors.county_admin).get(LIST, {"category": "left_behind"})
        assert page.context["export_full_url"] == f"{FULL}?category=left_behind"
        assert f'href="{FULL}?category=left_behind"' in page.text

    def test_the_form_asks_a_reason_and_the_password_again(self, actors: Actors) -> None:
        response = web_client(actors.village_director).get(FULL)
        assert response.status_code == 200
        assert 'method="post"' in response.text
        assert 'name="reason"' in response.text
        assert 'type="password"' in response.text
        assert str(exports.FullIdReason.SUPERVISION.label) in response.text
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
        assert not reveals()

    def test_a_queued_masked_export_cannot_be_turned_into_a_full_one(
        self,
        actors: Actors,
        settings: Any,
        tmp_path: Path,
        django_capture_on_commit_callbacks: Capture,
    ) -> None:
        settings.TONGXIN_EXPORT_INLINE_ROWS = 1
        settings.TONGXIN_EXPORTS_DIR = str(tmp_path)
        with django_capture_on_commit_callbacks(execute=False):
            web_client(actors.county_admin).post(f"{EXPORT}?full_ids=1&reason=supervision")
        run = ExportRun.objects.get()
        assert "full_ids" not in run.params
        assert "reason" not in run.params


@pytest.mark.usefixtures("world")
class TestFullExport:
    def test_it_writes_full_numbers_with_the_reason_and_count_audited(
        self, actors: Actors, world: World, second_id: str
    ) -> None:
        rows = rows_of(ask(actors.village_director, reason="transfer_check"))
        assert {world.zhang_id, second_id} <= set(column(rows, ID_HEADER))
        [reveal] = reveals()
        assert reveal.actor == actors.village_director
        assert reveal.detail == {"rows": 2, "ids": 2, "reason": "transfer_check"}

    def test_a_person_with_an_authenticator_gives_its_code(
        self, actors: Actors, world: World, today: time_machine.Traveller
    ) -> None:
        refused = ask(actors.county_admin, secret=PASSWORD)
        assert refused.status_code == 400
        assert "secret" in refused.context["form"].errors
        assert 'autocomplete="one-time-code"' in refused.text
        today.shift(timedelta(seconds=5))  # django-otp waits a second after a wrong code
        rows = rows_of(ask(actors.county_admin, secret=code_of(actors.county_admin)))
        assert world.zhang_id in column(rows, ID_HEADER)
        assert len(reveals()) == 1

    def test_a_wrong_password_shows_the_form_again_and_is_audited(
        self, actors: Actors, world: World
    ) -> None:
        response = ask(actors.village_director, reason="police_court", secret="not-it")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert response.context["form"].errors["secret"] == [_("That is not your password.")]
        assert "not-it" not in response.text
        assert not reveals()
        [failed] = reveals(Result.FAILED)
        assert failed.actor == actors.village_director
        assert failed.detail == {"reason": "police_court", "why": "credentials"}

    def test_wrong_answers_lock_the_form_as_sign_in_would(
        self, actors: Actors, world: World, settings: Any, today: time_machine.Traveller
    ) -> None:
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            assert ask(actors.village_director, secret="guess").status_code == 400
        locked = ask(actors.village_director)  # even the right password, for now
        assert locked.status_code == 429
        [message] = locked.context["form"].non_field_errors()
        retry = timezone.now() + settings.AXES_COOLOFF_TIME
        assert message == str(exports.TooManyWrongAnswers(retry))
        assert not reveals()
        today.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        rows_of(ask(actors.village_director))

    def test_it_needs_a_reason_from_the_list(self, actors: Actors, world: World) -> None:
        for reason in ("", "curiosity"):
            response = ask(actors.village_director, reason=reason)
            assert response.status_code == 400
            assert "reason" in response.context["form"].errors
        assert not reveals()
        assert not reveals(Result.FAILED)

    @pytest.mark.parametrize("who", ["auditor", "department_officer", "reporter"])
    def test_roles_that_reveal_no_numbers_get_404(self, actors: Actors, who: str) -> None:
        assert web_client(getattr(actors, who)).get(FULL).status_code == 404
        assert ask(getattr(actors, who)).status_code == 404


@pytest.mark.usefixtures("world")
class TestDailyCap:
    def test_it_refuses_an_export_past_the_cap_naming_it_and_what_is_left(
        self, actors: Actors, second_id: str, settings: Any
    ) -> None:
        settings.TONGXIN_FULL_ID_EXPORT_DAILY_CAP = 3
        rows_of(ask(actors.village_director))  # two numbers: one left
        response = ask(actors.village_director)
        assert response.status_code == 400
        [message] = response.context["form"].non_field_errors()
        assert message == str(exports.FullIdCapReached(cap=3, left=1, asked=2))
        assert "%(" not in message
        assert "3" in message
        assert len(reveals()) == 1
        [denied] = reveals(Result.DENIED)
        assert denied.detail == {"reason": "supervision", "why": "cap", "asked": 2, "left": 1}

    def test_the_cap_counts_the_day_only(
        self,
        actors: Actors,
        second_id: str,
        settings: Any,
        today: time_machine.Traveller,
    ) -> None:
        settings.TONGXIN_FULL_ID_EXPORT_DAILY_CAP = 2
        rows_of(ask(actors.village_director))
        assert ask(actors.village_director).status_code == 400
        today.shift(timedelta(days=1))
        rows_of(ask(actors.village_director))

    def test_a_narrower_list_fits_what_is_left(
        self, actors: Actors, second_id: str, settings: Any
    ) -> None:
        settings.TONGXIN_FULL_ID_EXPORT_DAILY_CAP = 3
        rows_of(ask(actors.village_director))
        rows = rows_of(ask(actors.county_admin, "?q=zhangsan", secret=code_of(actors.county_admin)))
        assert len(rows) == 2  # another person's cap is their own
        assert exports.full_ids_left_today(actors.village_director) == 1


@pytest.mark.usefixtures("world")
class TestWorker:
    @pytest.fixture(autouse=True)
    def _small_limit(self, settings: Any, tmp_path: Path) -> None:
        settings.TONGXIN_EXPORT_INLINE_ROWS = 1
        settings.TONGXIN_EXPORTS_DIR = str(tmp_path / "exports")

    def test_the_worker_writes_full_numbers_with_the_reason(
        self, actors: Actors, world: World, django_capture_on_commit_callbacks: Capture
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = ask(actors.town_supervisor, reason="department_match")
        run = ExportRun.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("exports:export_detail", args=[run.public_id])
        run.refresh_from_db()
        assert run.status == ExportStatus.DONE
        assert run.params == {}
        client = web_client(actors.town_supervisor)
        rows = rows_of(client.get(reverse("exports:export_file", args=[run.public_id])))
        assert world.zhang_id in column(rows, ID_HEADER)
        [reveal] = reveals()
        assert reveal.detail == {"rows": 2, "ids": 1, "reason": "department_match"}

    def test_the_worker_does_not_pass_the_cap(
        self,
        actors: Actors,
        world: World,
        settings: Any,
        django_capture_on_commit_callbacks: Capture,
    ) -> None:
        settings.TONGXIN_FULL_ID_EXPORT_DAILY_CAP = 1
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            ask(actors.town_supervisor)
        # Meanwhile the day's one number is exported inline (a narrower list).
        settings.TONGXIN_EXPORT_INLINE_ROWS = 5
        rows_of(ask(actors.town_supervisor, "?q=zhangsan"))
        for callback in callbacks:
            callback()
        run = ExportRun.objects.get()
        assert run.status == ExportStatus.FAILED
        assert run.message == str(exports.FullIdCapReached(cap=1, left=0, asked=1))
        assert not run.path.exists()
        assert len(reveals()) == 1
        assert len(reveals(Result.DENIED)) == 1

    def test_a_list_past_the_cap_is_not_even_queued(
        self, actors: Actors, world: World, settings: Any
    ) -> None:
        settings.TONGXIN_FULL_ID_EXPORT_DAILY_CAP = 0
        response = ask(actors.town_supervisor)
        assert response.status_code == 400
        assert not ExportRun.objects.exists()
        assert len(reveals(Result.DENIED)) == 1
