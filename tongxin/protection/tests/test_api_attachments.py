"""Attachments of mandatory reports through the API: photos and documents sent with the intake
or, once the report is submitted, with an addendum (multipart/form-data), checked as the pages
check them (type by first bytes, size, count), and the file served to exactly those whose view
of the report shows attachments — each cell of the access matrix, every look and refusal
audited, no narrative in a log or an audit entry."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.protection import services
from tongxin.protection.models import MandatoryReport, ReportAddendum, ReportAttachment
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report, pdf, png
from tongxin.testing import Actors, api_client

INTAKE = {
    "urgency": "urgent",
    "harms": ["neglect", "abandonment"],
    "facts": FACTS,
    "child_name": CHILD_NAME,
    "child_village": "620724100201",
    "reporter_phone": "13900000002",
}
ADDENDUM = "补充：孩子背上也有伤痕，照片见附件。"  # synthetic
# An uploaded name may carry a child's name: it is never kept, logged or sent back.
TELLING_NAME = f"{CHILD_NAME}伤情.jpg"
MAX_BYTES = 5 * 1024 * 1024


def jpeg(name: str = TELLING_NAME) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0" + b"0" * 40, content_type="image/jpeg")


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _download(user: Any, report: MandatoryReport, attachment: ReportAttachment) -> Any:
    url = reverse("api:report_attachment", args=[report.public_id, attachment.public_id])
    return api_client(user).get(url)


def _status(response: Any) -> int:
    """The status of an answer, its file read to the end (which closes it, as a server does;
    calling ``close()`` here would also close the test's database connection)."""
    response.getvalue()
    return int(response.status_code)


# --- upload with the intake ------------------------------------------------------------------


def test_a_reporter_files_a_report_with_photos_as_multipart(actors: Actors, settings: Any) -> None:
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"),
        {**INTAKE, "attachments": [pdf(), jpeg()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    report = MandatoryReport.objects.get()
    assert response.json()["receipt_no"] == report.receipt_no
    assert report.harm_values == ["neglect", "abandonment"]
    attachments = list(report.attachments.order_by("pk"))
    assert [(a.kind, a.addendum_id) for a in attachments] == [("pdf", None), ("jpg", None)]
    assert all(a.uploaded_by == actors.reporter for a in attachments)
    # Stored under a random name: the uploaded one (with the child's name) is not kept.
    assert all(CHILD_NAME not in str(a.file.name) for a in attachments)
    assert all("scan" not in str(a.file.name) for a in attachments)
    assert len(_files(Path(settings.MEDIA_ROOT))) == 2
    submitted = AuditEvent.objects.get(action="report.submit", object_code=str(report.public_id))
    assert submitted.detail["attachments"] == 2


def test_the_type_is_told_by_the_first_bytes_not_the_name(actors: Actors) -> None:
    disguised = SimpleUploadedFile(
        "notes.txt", b"%PDF-1.7\n" + b"0" * 20, content_type="text/plain"
    )
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"), {**INTAKE, "attachments": [disguised]}, format="multipart"
    )
    assert response.status_code == 201
    assert MandatoryReport.objects.get().attachments.get().kind == "pdf"


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        (
            [SimpleUploadedFile("photo.jpg", b"<html>not a photo</html>", "image/jpeg")],
            "只能上传 PDF、JPEG 或 PNG 文件。",
        ),
        ([pdf(size=MAX_BYTES + 1)], "文件超过 5 MB，请降低扫描分辨率。"),
        ([pdf(f"{n}.pdf") for n in range(6)], "最多只能附 5 个文件。"),
        ([SimpleUploadedFile("empty.pdf", b"", "application/pdf")], "文件为空。"),
    ],
    ids=["bad_type", "too_large", "too_many", "empty"],
)
def test_a_bad_file_is_refused_in_chinese_naming_the_field_and_nothing_is_saved(
    actors: Actors, settings: Any, uploads: list[SimpleUploadedFile], message: str
) -> None:
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"), {**INTAKE, "attachments": uploads}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"attachments": [message]}
    assert not MandatoryReport.objects.exists()
    assert not ReportAttachment.objects.exists()
    assert _files(Path(settings.MEDIA_ROOT)) == []


def test_a_file_just_at_the_limit_is_taken(actors: Actors) -> None:
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"),
        {**INTAKE, "attachments": [pdf(size=MAX_BYTES)]},
        format="multipart",
    )
    assert response.status_code == 201
    assert MandatoryReport.objects.get().attachments.get().size == MAX_BYTES


def test_files_come_as_multipart_not_inside_json(actors: Actors) -> None:
    client = api_client(actors.reporter)
    url = reverse("api:report_collection")
    in_json = client.post(url, {**INTAKE, "attachments": ["JVBERi0xLjQK"]}, format="json")
    assert in_json.status_code == 400
    assert list(in_json.json()) == ["attachments"]
    as_text = client.post(url, {**INTAKE, "attachments": "scan.pdf"}, format="multipart")
    assert as_text.status_code == 400
    assert list(as_text.json()) == ["attachments"]
    assert not MandatoryReport.objects.exists()


def test_a_multipart_intake_names_a_bad_field_as_json_does(actors: Actors) -> None:
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"),
        {**INTAKE, "harms": ["beating"], "attachments": [pdf()]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "harms" in response.json()
    assert not ReportAttachment.objects.exists()


# --- after submission: with an addendum ------------------------------------------------------


def _addendum(user: Any, report: MandatoryReport, **data: Any) -> Any:
    return api_client(user).post(
        reverse("api:report_addenda", args=[report.receipt_no]),
        {"text": ADDENDUM, **data},
        format="multipart",
    )


def test_a_photo_sent_later_comes_with_an_addendum(actors: Actors) -> None:
    report = file_report(actors, attachments=[pdf()])
    intake = report.attachments.get()
    response = _addendum(actors.reporter, report, attachments=[png()])
    assert response.status_code == 201, response.content
    body = response.json()
    addendum = ReportAddendum.objects.get(report=report)
    assert body["id"] == str(addendum.public_id)
    assert body["text"] == ADDENDUM
    added = ReportAttachment.objects.get(addendum=addendum)
    assert [(a["id"], a["kind"], a["addendum"]) for a in body["attachments"]] == [
        (str(added.public_id), "png", str(addendum.public_id))
    ]
    # The report stays as submitted: its own attachments are those of the intake.
    assert list(report.attachments.filter(addendum=None)) == [intake]
    report.refresh_from_db()
    assert report.facts == FACTS
    detail = (
        api_client(actors.county_admin)
        .get(reverse("api:report_detail", args=[report.public_id]))
        .json()
    )
    assert [(a["id"], a["addendum"]) for a in detail["attachments"]] == [
        (str(intake.public_id), None),
        (str(added.public_id), str(addendum.public_id)),
    ]
    entry = AuditEvent.objects.get(action="report.addendum", object_code=str(report.public_id))
    assert entry.detail["attachments"] == 1


def test_the_handling_department_adds_a_document_too(actors: Actors) -> None:
    report = file_report(actors)
    response = _addendum(actors.department_officer, report, attachments=[pdf()])
    assert response.status_code == 201
    assert ReportAttachment.objects.get(report=report).addendum is not None


def test_an_addendum_with_a_bad_file_is_refused_whole(actors: Actors) -> None:
    report = file_report(actors)
    response = _addendum(
        actors.reporter, report, attachments=[png(), SimpleUploadedFile("a.gif", b"GIF89a....")]
    )
    assert response.status_code == 400
    assert response.json() == {"attachments": ["只能上传 PDF、JPEG 或 PNG 文件。"]}
    assert not ReportAddendum.objects.exists()
    assert not ReportAttachment.objects.exists()


def test_an_addendum_still_needs_its_text(actors: Actors) -> None:
    report = file_report(actors)
    response = api_client(actors.reporter).post(
        reverse("api:report_addenda", args=[report.public_id]),
        {"attachments": [png()]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "text" in response.json()
    assert not ReportAttachment.objects.exists()


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        ("reporter", 404),  # someone else's report: the village director filed it
        ("other_department_officer", 404),
        ("other_village_director", 404),
        ("town_supervisor", 404),
        ("other_county_admin", 404),
        ("auditor", 403),  # read-only
    ],
)
def test_no_file_goes_onto_someone_elses_report(actors: Actors, actor: str, code: int) -> None:
    report = file_report(actors, actor="village_director")
    response = _addendum(getattr(actors, actor), report, attachments=[png()])
    assert response.status_code == code
    assert not ReportAddendum.objects.exists()
    assert not ReportAttachment.objects.exists()


def test_the_village_director_who_sees_that_a_report_exists_adds_no_file(
    actors: Actors,
) -> None:
    report = file_report(actors)
    response = _addendum(actors.village_director, report, attachments=[png()])
    assert response.status_code == 404
    assert not ReportAttachment.objects.exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_file_sent_as_an_edit_of_the_report_is_refused(actors: Actors, method: str) -> None:
    report = file_report(actors, attachments=[pdf()])
    response = getattr(api_client(actors.reporter), method)(
        reverse("api:report_detail", args=[report.public_id]),
        {"attachments": [png()]},
        format="multipart",
    )
    assert response.status_code == 409
    assert "addenda" in response.json()["detail"]
    assert report.attachments.count() == 1


def test_once_the_report_is_closed_a_file_still_comes_only_as_an_addendum(
    actors: Actors,
) -> None:
    report = file_report(actors, attachments=[pdf()])
    police = actors.department_officer
    steps: list[tuple[str, dict[str, Any]]] = [
        ("accept", {}),
        ("start_verification", {}),
        ("record_result", {"result": "已核实"}),
        ("inform_reporter", {"result_for_reporter": "已处理"}),
        ("close", {}),
    ]
    for step, extra in steps:
        services.report_transition(actor=police, report=report, transition=step, **extra)
    response = _addendum(actors.reporter, report, attachments=[png()])
    assert response.status_code == 201
    assert report.attachments.filter(addendum=None).count() == 1
    assert report.attachments.exclude(addendum=None).count() == 1


def test_the_database_refuses_to_move_or_drop_an_attachment(actors: Actors) -> None:
    report = file_report(actors, attachments=[pdf()])
    addendum = services.report_addendum_add(actor=actors.reporter, report=report, text=ADDENDUM)
    attachment = report.attachments.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        ReportAttachment.objects.filter(pk=attachment.pk).update(addendum=addendum)
    with pytest.raises(DatabaseError), transaction.atomic():
        ReportAttachment.objects.filter(pk=attachment.pk).delete()
    assert report.attachments.get().addendum is None


# --- download: the access matrix -------------------------------------------------------------

# actor → the file opens (else 404), and whether the report itself is visible to them.
MATRIX: dict[str, tuple[bool, bool]] = {
    "reporter": (False, True),  # its status and result only (protection.access)
    "village_director": (False, True),  # that it exists, and its tasks
    "other_village_director": (False, False),
    "department_officer": (True, True),  # the police: the handling department
    "other_department_officer": (False, False),  # education
    "county_admin": (True, True),
    "auditor": (True, True),
    "town_supervisor": (False, False),
    "other_county_admin": (False, False),
    "system_admin": (False, False),
}


@pytest.fixture
def report(actors: Actors) -> MandatoryReport:
    return file_report(actors, attachments=[pdf()])


@pytest.mark.parametrize("actor", list(MATRIX))
def test_the_download_cell(actors: Actors, report: MandatoryReport, actor: str) -> None:
    user = getattr(actors, actor)
    attachment = report.attachments.get()
    opens, sees_report = MATRIX[actor]
    response = _download(user, report, attachment)
    entries = AuditEvent.objects.filter(actor=user, object_code=str(report.public_id))
    if opens:
        assert response.status_code == 200
        with attachment.file.open("rb") as stored:
            assert response.getvalue() == stored.read()
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'inline; filename="attachment.pdf"'
        assert "no-store" in response["Cache-Control"]
        entry = entries.get(action="report.attachment_view")
        assert entry.result == "ok"
        assert entry.detail == {
            "receipt_no": report.receipt_no,
            "attachment": str(attachment.public_id),
        }
        return
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    if sees_report:
        # The report is theirs to see, not its attachments: the attempt is kept.
        refused = entries.get(action="report.attachment_view")
        assert refused.result == "denied"
        assert refused.detail["attachment"] == str(attachment.public_id)
    else:
        assert not entries.filter(action="report.attachment_view").exists()
        assert AuditEvent.objects.filter(
            actor=user, action="report.view", result="denied", object_code=str(report.public_id)
        ).exists()


def test_anonymous_gets_401(report: MandatoryReport) -> None:
    attachment = report.attachments.get()
    assert _download(None, report, attachment).status_code == 401


def test_the_receipt_number_serves_as_the_code(actors: Actors, report: MandatoryReport) -> None:
    attachment = report.attachments.get()
    url = reverse("api:report_attachment", args=[report.receipt_no.lower(), attachment.public_id])
    response = api_client(actors.county_admin).get(url)
    assert response.status_code == 200
    assert response.getvalue().startswith(b"%PDF-")


def test_an_addendums_photo_is_served_as_a_png(actors: Actors, report: MandatoryReport) -> None:
    addendum = services.report_addendum_add(
        actor=actors.reporter, report=report, text=ADDENDUM, attachments=[png()]
    )
    photo = ReportAttachment.objects.get(addendum=addendum)
    response = _download(actors.department_officer, report, photo)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="attachment.png"'
    assert response.getvalue().startswith(b"\x89PNG")
    # Its uploader, the reporter, does not open it either.
    assert _download(actors.reporter, report, photo).status_code == 404


def test_a_file_is_served_whatever_the_client_accepts(
    actors: Actors, report: MandatoryReport
) -> None:
    attachment = report.attachments.get()
    url = reverse("api:report_attachment", args=[report.public_id, attachment.public_id])
    client = api_client(actors.auditor)
    assert _status(client.get(url, HTTP_ACCEPT="application/pdf")) == 200
    assert _status(client.get(url, HTTP_ACCEPT="image/*")) == 200
    refused = api_client(actors.reporter).get(url, HTTP_ACCEPT="application/pdf")
    assert refused.status_code == 404
    assert "detail" in refused.json()


def test_an_attachment_of_another_report_is_not_there(
    actors: Actors, report: MandatoryReport
) -> None:
    other = file_report(actors, attachments=[png()])
    foreign = other.attachments.get()
    client = api_client(actors.county_admin)
    wrong_report = reverse("api:report_attachment", args=[report.public_id, foreign.public_id])
    assert client.get(wrong_report).status_code == 404
    missing = reverse(
        "api:report_attachment", args=[report.public_id, "00000000-0000-4000-8000-000000000000"]
    )
    assert client.get(missing).status_code == 404
    assert (
        AuditEvent.objects.filter(
            actor=actors.county_admin, action="report.attachment_view", result="denied"
        ).count()
        == 2
    )


def test_a_download_takes_a_constant_number_of_queries(
    actors: Actors, report: MandatoryReport, django_assert_max_num_queries: Any
) -> None:
    attachment = report.attachments.get()
    client = api_client(actors.county_admin)
    url = reverse("api:report_attachment", args=[report.public_id, attachment.public_id])
    assert _status(client.get(url)) == 200  # the token's first use
    # Two of them move the audit trail's chain head (decision 016).
    with django_assert_max_num_queries(9):
        assert _status(client.get(url)) == 200


# --- privacy: no narrative in logs or audit entries -------------------------------------------


def test_no_narrative_or_uploaded_name_in_a_log_or_an_audit_entry(
    actors: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reporter = api_client(actors.reporter)
    filed = reporter.post(
        reverse("api:report_collection"),
        {**INTAKE, "attachments": [jpeg()]},
        format="multipart",
    )
    assert filed.status_code == 201
    report = MandatoryReport.objects.get()
    refused = reporter.post(
        reverse("api:report_collection"),
        {**INTAKE, "attachments": [SimpleUploadedFile(TELLING_NAME, b"not a photo")]},
        format="multipart",
    )
    assert refused.status_code == 400
    assert _addendum(actors.reporter, report, attachments=[jpeg()]).status_code == 201
    for attachment in report.attachments.all():
        for user in (actors.county_admin, actors.reporter, actors.other_department_officer):
            response = _download(user, report, attachment)
            assert TELLING_NAME not in response.get("Content-Disposition", "")
            _status(response)
    secrets = (FACTS, ADDENDUM, TELLING_NAME, CHILD_NAME)
    for record in caplog.records:
        message = record.getMessage()
        assert not any(s in message for s in secrets), record.name
    for entry in AuditEvent.objects.all():
        detail = json.dumps(entry.detail, ensure_ascii=False)
        assert not any(s in detail for s in secrets), entry.action
    assert all(CHILD_NAME not in str(a.file.name) for a in ReportAttachment.objects.all())


# --- the OpenAPI document --------------------------------------------------------------------


def test_uploads_and_the_download_are_documented(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    paths = schema["paths"]
    for path in ("/api/v1/reports", "/api/v1/reports/{code}/addenda"):
        content = paths[path]["post"]["requestBody"]["content"]
        assert {"application/json", "multipart/form-data"} <= set(content)
    download = paths["/api/v1/reports/{code}/attachments/{attachment_id}"]["get"]
    assert set(download["responses"]["200"]["content"]) == {
        "application/pdf",
        "image/jpeg",
        "image/png",
    }
    assert "404" in download["responses"]
    upload = schema["components"]["schemas"]["ReportIntakeUploadRequest"]["properties"]
    assert upload["attachments"]["items"]["format"] == "binary"
