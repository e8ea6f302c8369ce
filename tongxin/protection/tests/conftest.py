"""Protection fixtures: a registered child of 东村, a report filed by the stock reporter (a
school of 城关镇) about a child described in 东村, and scans kept in a temporary folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tongxin.geo.models import Division
from tongxin.protection import services
from tongxin.protection.models import MandatoryReport
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import VILLAGE, make_family
from tongxin.testing import Actors
from tongxin.workdays.tests.conftest import without_2027

FACTS = "孩子手臂有多处淤青，说是被继父打的。"  # synthetic
CHILD_NAME = "赵小花"  # synthetic

__all__ = [
    "CHILD_NAME",
    "FACTS",
    "VILLAGE",
    "file_report",
    "make_family",
    "pdf",
    "png",
    "without_2027",
]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf(name: str = "scan.pdf", size: int = 0) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n" + b"0" * max(size - 9, 10)
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"0" * 20, content_type="image/png")


def file_report(
    actors: Actors,
    *,
    actor: str = "reporter",
    harms: tuple[str, ...] = ("physical_abuse",),
    urgency: str = "urgent",
    child: Child | None = None,
    village: str | None = VILLAGE,
    name: str = CHILD_NAME,
    now: datetime | None = None,
    **kwargs: Any,
) -> MandatoryReport:
    user = getattr(actors, actor)
    if not user.phone:
        user.phone = "13900000000"
        user.save(update_fields=["phone"])
    described = services.ChildDescription(
        name=name,
        age=9,
        gender="female",
        village=Division.objects.get(code=village) if village else None,
        address="三组",
    )
    return services.report_submit(
        actor=user,
        harms=harms,
        facts=FACTS,
        urgency=urgency,
        child=child,
        described=None if child else described,
        now=now,
        **kwargs,
    )


@pytest.fixture
def report(actors: Actors) -> MandatoryReport:
    """An urgent report of physical abuse from the school, routed to the police, with a scan."""
    return file_report(actors, attachments=[pdf()])


@pytest.fixture
def child(actors: Actors) -> Child:
    """A child of 东村 living with both parents: low risk before any report."""
    return make_family(actors, name="钱小军", father_left=None, mother_left=None)
