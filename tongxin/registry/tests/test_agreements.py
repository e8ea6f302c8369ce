"""Care agreements (task 5): archived with a checked scan (PDF, JPEG or PNG by their first
bytes, at most 5 MB), served only through a scoped and audited address; terminated, or the
caregiver found lacking capacity with the day the parents were told; and those expiring within
30 days on the village director's home page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.registry import agreements
from tongxin.registry.models import AgreementStatus, CareAgreement, Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _fields(**extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "entrusted_by": "both",
        "caregiver_name": "王奶奶",
        "caregiver_relation": "祖母",
        "caregiver_phone": "13700000000",
        "signed_on": today - timedelta(days=300),
        "valid_until": today + timedelta(days=65),
        **extra,
    }


def _post_data(**extra: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in _fields(**extra).items()}


def _create(actors: Actors, child: Child, **extra: Any) -> CareAgreement:
    return agreements.agreement_create(
        actor=actors.county_admin, household=child.household, fields=_fields(**extra)
    )


def _url(name: str, child: Child, agreement: CareAgreement | None = None) -> str:
    args = [child.public_id] + ([agreement.public_id] if agreement else [])
    return reverse(f"registry:{name}", args=args)


# --- archiving, with the scan ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind", "content_type"),
    [(PDF, "pdf", "application/pdf"), (PNG, "png", "image/png"), (JPEG, "jpg", "image/jpeg")],
)
def test_it_archives_an_agreement_with_its_scan(
    actors: Actors, child: Child, content: bytes, kind: str, content_type: str
) -> None:
    client = web_client(actors.village_director)
    upload = SimpleUploadedFile("王奶奶的协议.bin", content, content_type="text/plain")
    response = client.post(_url("agreement_create", child), {**_post_data(), "document": upload})
    assert response.status_code == 302, response.content.decode()
    agreement = CareAgreement.objects.get(household=child.household)
    stored = agreement.document.name or ""
    assert stored.endswith(f".{kind}")
    assert "王奶奶" not in stored  # never the uploaded name
    event = AuditEvent.objects.get(action="agreement.create")
    assert event.division_code == child.village_id
    assert "王奶奶" not in str(event.detail)
    served = client.get(_url("agreement_document", child, agreement))
    assert served.status_code == 200
    assert served["Content-Type"] == content_type
    assert served.content == content
    assert "no-store" in served["Cache-Control"]
    assert AuditEvent.objects.filter(
        action="agreement.document_view", object_code=str(agreement.public_id)
    ).exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("协议.pdf", b"MZ\x90\x00 an executable pretending to be a PDF"),
        ("协议.png", b"<html><script>alert(1)</script></html>"),
        ("协议.docx", b"PK\x03\x04 a word document"),
        ("协议.pdf", b""),
    ],
)
def test_it_refuses_a_file_that_is_not_a_pdf_or_a_picture(
    actors: Actors, child: Child, name: str, content: bytes
) -> None:
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = web_client(actors.village_director).post(
        _url("agreement_create", child), {**_post_data(), "document": upload}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["document"]
    assert errors
    assert not CareAgreement.objects.exists()


def test_it_refuses_a_scan_over_5_mb(actors: Actors, child: Child) -> None:
    content = PDF + b"0" * (5 * 1024 * 1024)
    upload = SimpleUploadedFile("协议.pdf", content, content_type="application/pdf")
    response = web_client(actors.village_director).post(
        _url("agreement_create", child), {**_post_data(), "document": upload}
    )
    assert response.status_code == 200
    assert "5 MB" in str(response.context["form"].errors["document"])
    assert not CareAgreement.objects.exists()


def test_it_accepts_a_scan_of_exactly_5_mb(actors: Actors, child: Child) -> None:
    content = PDF + b"0" * (5 * 1024 * 1024 - len(PDF))
    upload = SimpleUploadedFile("协议.pdf", content, content_type="application/pdf")
    agreement = agreements.agreement_create(
        actor=actors.village_director,
        household=child.household,
        fields=_fields(),
        document=upload,
    )
    assert agreement.document.size == 5 * 1024 * 1024


def test_it_checks_the_scan_in_the_service_too(actors: Actors, child: Child) -> None:
    with pytest.raises(ValidationError) as refused:
        agreements.agreement_create(
            actor=actors.village_director,
            household=child.household,
            fields=_fields(),
            document=SimpleUploadedFile("a.pdf", b"GIF89a"),
        )
    assert "document" in refused.value.message_dict


def test_it_refuses_an_end_before_the_signature(actors: Actors, child: Child) -> None:
    today = timezone.localdate()
    response = web_client(actors.village_director).post(
        _url("agreement_create", child),
        _post_data(signed_on=today, valid_until=today - timedelta(days=1)),
    )
    assert response.context["form"].errors["valid_until"]


def test_it_lets_only_keepers_in_scope_archive(actors: Actors, child: Child) -> None:
    for key in ("auditor", "other_village_director", "department_officer"):
        with pytest.raises(PermissionDenied):
            agreements.agreement_create(
                actor=getattr(actors, key), household=child.household, fields=_fields()
            )


def test_it_never_serves_the_scan_from_a_public_address(actors: Actors, child: Child) -> None:
    agreement = agreements.agreement_create(
        actor=actors.village_director,
        household=child.household,
        fields=_fields(),
        document=SimpleUploadedFile("a.pdf", PDF),
    )
    # No address serves the media folder: the scan's path resolves to no view.
    for path in (f"/media/{agreement.document.name}", f"/{agreement.document.name}"):
        with pytest.raises(Resolver404):
            resolve(path)
    url = _url("agreement_document", child, agreement)
    assert Client().get(url).status_code == 302  # to sign in
    for key in ("other_village_director", "other_county_admin", "department_officer", "reporter"):
        assert web_client(getattr(actors, key)).get(url).status_code == 404, key
    assert web_client(actors.auditor).get(url).status_code == 200  # reading is allowed


def test_it_answers_404_for_an_agreement_of_another_family(actors: Actors, child: Child) -> None:
    other = make_family(actors, name="李小花")
    agreement = agreements.agreement_create(
        actor=actors.village_director,
        household=other.household,
        fields=_fields(),
        document=SimpleUploadedFile("a.pdf", PDF),
    )
    url = _url("agreement_document", child, agreement)  # the agreement, under the wrong file
    assert web_client(actors.village_director).get(url).status_code == 404


# --- status, termination, capacity -----------------------------------------------------------


def test_it_computes_the_status_on_the_day_asked(actors: Actors, child: Child) -> None:
    agreement = _create(actors, child)
    until = agreement.valid_until
    assert until is not None
    assert agreements.agreement_status(agreement, until) == AgreementStatus.IN_FORCE
    assert agreements.agreement_status(agreement, until + timedelta(days=1)) == "expired"
    assert not agreements.agreement_expiring(agreement, until - timedelta(days=31))
    assert agreements.agreement_expiring(agreement, until - timedelta(days=30))
    assert agreements.agreement_expiring(agreement, until)
    agreement.terminated_on = until - timedelta(days=10)
    assert agreements.agreement_status(agreement, until - timedelta(days=11)) == "in_force"
    assert agreements.agreement_status(agreement, until - timedelta(days=10)) == "terminated"


def test_it_terminates_an_agreement(actors: Actors, child: Child) -> None:
    agreement = _create(actors, child)
    today = timezone.localdate()
    client = web_client(actors.village_director)
    response = client.post(
        _url("agreement_terminate", child, agreement), {"terminated_on": today.isoformat()}
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.terminated_on == today
    assert AuditEvent.objects.filter(action="agreement.terminate").exists()
    html = client.get(_url("child_detail", child)).content.decode()
    assert str(AgreementStatus.TERMINATED.label) in html
    again = client.post(
        _url("agreement_terminate", child, agreement), {"terminated_on": today.isoformat()}
    )
    assert again.status_code == 200  # already terminated: said, not repeated
    assert again.context["form"].errors


def test_it_records_that_the_caregiver_lacks_capacity(actors: Actors, child: Child) -> None:
    agreement = _create(actors, child)
    told = timezone.localdate() - timedelta(days=2)
    response = web_client(actors.village_director).post(
        _url("agreement_incapable", child, agreement), {"parents_told_on": told.isoformat()}
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.caregiver_lacks_capacity
    assert agreement.parents_told_on == told
    assert AuditEvent.objects.filter(action="agreement.caregiver_incapable").exists()


def test_it_refuses_a_future_date_for_telling_the_parents(actors: Actors, child: Child) -> None:
    agreement = _create(actors, child)
    later = timezone.localdate() + timedelta(days=1)
    response = web_client(actors.village_director).post(
        _url("agreement_incapable", child, agreement), {"parents_told_on": later.isoformat()}
    )
    assert response.status_code == 200
    agreement.refresh_from_db()
    assert not agreement.caregiver_lacks_capacity


def test_it_flags_an_agreement_expiring_within_30_days_on_the_file(
    actors: Actors, child: Child
) -> None:
    _create(actors, child, valid_until=timezone.localdate() + timedelta(days=20))
    html = web_client(actors.village_director).get(_url("child_detail", child)).content.decode()
    section = html[html.index('id="agreement"') : html.index('id="contacts"')]
    assert "<mark>" in section


# --- the home page ---------------------------------------------------------------------------


def test_it_lists_agreements_expiring_within_30_days_on_the_home_page(actors: Actors) -> None:
    today = timezone.localdate()
    soon = make_family(actors, name="张近")
    _create(actors, soon, valid_until=today + timedelta(days=30))
    later = make_family(actors, name="张远")
    _create(actors, later, valid_until=today + timedelta(days=31))
    ended = make_family(actors, name="张终")
    _create(actors, ended, valid_until=today + timedelta(days=5))
    CareAgreement.objects.filter(household=ended.household).update(terminated_on=today)
    expired = make_family(actors, name="张过")
    _create(actors, expired, valid_until=today + timedelta(days=1))
    CareAgreement.objects.filter(household=expired.household).update(
        valid_until=today - timedelta(days=1)
    )
    elsewhere = make_family(actors, name="张外", village="620724100202")
    _create(actors, elsewhere, valid_until=today + timedelta(days=3))

    response = web_client(actors.village_director).get(reverse("home"))
    html = response.content.decode()
    panel = html[html.index('id="panel-agreements_expiring"') :]
    panel = panel[: panel.index("</article>")]
    assert "张近" in panel
    assert reverse("registry:child_detail", args=[soon.public_id]) in panel
    for name in ("张远", "张终", "张过", "张外"):
        assert name not in panel, name
    items = next(p for p in response.context["panels"] if p.key == "agreements_expiring").items
    assert len(items) == 1


def test_it_reads_the_panel_in_a_constant_number_of_queries(
    actors: Actors, django_assert_num_queries: Any
) -> None:
    today = timezone.localdate()
    for n in range(3):
        child = make_family(actors, name=f"张{n}")
        _create(actors, child, valid_until=today + timedelta(days=n + 1))
    user = actors.village_director
    assert user.scope_prefix  # the user's own lookup, once per request
    with django_assert_num_queries(2):
        found = agreements.agreements_expiring(user)
        names = [c.name for a in found for c in getattr(a.household, "listed_children")]  # noqa: B009
    assert names == ["张0", "张1", "张2"]
