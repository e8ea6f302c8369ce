"""Guardianship interventions (监护干预): each kind recorded with its dates, decision maker and
documents; the placement of a temporary guardianship; the documents checked like a care
agreement's scan; ending a temporary guardianship only after a recorded assessment; the state
of each kind on a day, in Python and in the database alike."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import translation

from tongxin.audit.models import AuditEvent
from tongxin.protection import interventions as iv
from tongxin.protection.interventions import AssessmentInput, State
from tongxin.protection.models import (
    Intervention,
    InterventionAssessment,
    InterventionDocument,
    InterventionKind,
    MandatoryReport,
    Placement,
)
from tongxin.protection.tests.conftest import file_report, make_family, pdf, png
from tongxin.registry.models import Child
from tongxin.testing import Actors

TODAY = date(2024, 6, 30)
NOTES = "孩子由外祖母临时照料，母亲同意配合家庭教育指导。"  # synthetic, sensitive
SUMMARY = "父亲已戒酒并完成家庭教育指导课程，具备监护条件。"  # synthetic, sensitive


def fields(kind: str = InterventionKind.TEMPORARY_GUARDIANSHIP, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": kind,
        "placement": Placement.KIN_CARE if kind == InterventionKind.TEMPORARY_GUARDIANSHIP else "",
        "placed_with": "外祖母 李秀兰" if kind == InterventionKind.TEMPORARY_GUARDIANSHIP else "",
        "decided_on": date(2024, 3, 1),
        "decision_maker": "高台县民政局",
        "document_number": "高民临监〔2024〕1号",
        "starts_on": date(2024, 3, 1),
        "ends_on": None,
        "notes": NOTES,
    }
    data.update(changes)
    return data


def child_with_report(actors: Actors) -> tuple[Child, MandatoryReport]:
    """A child of 东村 and a report of physical abuse about them, handled by the police (the
    stock department officer)."""
    child = make_family(actors, name="孙小红", father_left=None, mother_left=None)
    report = file_report(actors, actor="county_admin", child=child)
    assert report.handling_department == actors.department_officer.organisation
    return child, report


def make_intervention(
    actors: Actors,
    *,
    kind: str = InterventionKind.TEMPORARY_GUARDIANSHIP,
    documents: bool = True,
    linked: bool = True,
    **changes: Any,
) -> Intervention:
    child, report = child_with_report(actors)
    return iv.intervention_record(
        actor=actors.county_admin,
        child=child,
        report=report if linked else None,
        fields=fields(kind, **changes),
        documents=[pdf()] if documents else [],
        today=TODAY,
    )


def assessment(**changes: Any) -> AssessmentInput:
    data: dict[str, Any] = {
        "assessed_on": date(2024, 6, 1),
        "assessor": "高台县民政局 社工 周敏",
        "conclusion": "return_to_guardian",
        "summary": SUMMARY,
    }
    data.update(changes)
    return AssessmentInput(**data)


# --- recording -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", InterventionKind.values)
def test_it_records_each_kind_with_dates_decision_maker_and_documents(
    actors: Actors, kind: str
) -> None:
    lasting = kind in iv.LASTING
    intervention = make_intervention(
        actors, kind=kind, ends_on=date(2024, 9, 1) if lasting else None
    )
    intervention.refresh_from_db()
    assert intervention.kind == kind
    assert intervention.decided_on == date(2024, 3, 1)
    assert intervention.decision_maker == "高台县民政局"
    assert intervention.document_number == "高民临监〔2024〕1号"
    assert intervention.county_code == "620724"
    assert intervention.recorded_by == actors.county_admin
    assert intervention.report is not None
    (document,) = intervention.documents.all()
    assert document.kind == "pdf"
    name = document.file.name or ""
    assert name.startswith("interventions/2")
    assert "scan" not in name  # stored under a random name
    is_temporary = kind == InterventionKind.TEMPORARY_GUARDIANSHIP
    assert intervention.placement == (Placement.KIN_CARE if is_temporary else "")
    expected = State.IN_FORCE if lasting else State.RECORDED
    assert iv.state_of(intervention, TODAY) == expected
    event = AuditEvent.objects.get(action="intervention.record")
    assert event.detail["kind"] == kind
    assert event.detail["documents"] == 1
    assert NOTES not in str(event.detail)
    assert "外祖母" not in str(event.detail)


@pytest.mark.parametrize("placement", Placement.values)
def test_a_temporary_guardianship_records_each_placement(actors: Actors, placement: str) -> None:
    intervention = make_intervention(actors, placement=placement, documents=False)
    assert intervention.get_placement_display() == str(Placement(placement).label)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"placement": ""}, "placement"),
        ({"kind": "police_admonition", "placement": "foster_family"}, "placement"),
        ({"kind": "not_a_kind"}, "kind"),
        ({"decided_on": None}, "decided_on"),
        ({"decided_on": TODAY + timedelta(days=1)}, "decided_on"),
        ({"decision_maker": "  "}, "decision_maker"),
        ({"ends_on": date(2024, 2, 1)}, "ends_on"),
        ({"kind": "judicial_suggestion", "placement": "", "ends_on": date(2024, 9, 1)}, "ends_on"),
    ],
)
def test_it_names_the_field_that_is_wrong(
    actors: Actors, changes: dict[str, Any], field: str
) -> None:
    child, report = child_with_report(actors)
    with pytest.raises(ValidationError) as caught:
        iv.intervention_record(
            actor=actors.county_admin,
            child=child,
            report=report,
            fields=fields(**changes),
            today=TODAY,
        )
    assert field in caught.value.message_dict
    assert not Intervention.objects.exists()


def test_the_start_defaults_to_the_decision(actors: Actors) -> None:
    intervention = make_intervention(actors, starts_on=None, documents=False)
    assert intervention.starts_on == date(2024, 3, 1)


def test_the_database_refuses_a_placement_without_a_temporary_guardianship(
    actors: Actors,
) -> None:
    intervention = make_intervention(actors, kind="police_admonition", documents=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Intervention.objects.filter(pk=intervention.pk).update(placement="foster_family")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("x.txt", b"hello", content_type="text/plain"), "PDF"),
        (pdf(size=5 * 1024 * 1024 + 1), "5 MB"),
        (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "空"),
    ],
)
def test_documents_are_checked_like_a_care_agreements_scan(
    actors: Actors, upload: SimpleUploadedFile, message: str
) -> None:
    child, report = child_with_report(actors)
    with pytest.raises(ValidationError) as caught:
        iv.intervention_record(
            actor=actors.county_admin,
            child=child,
            report=report,
            fields=fields(),
            documents=[upload],
            today=TODAY,
        )
    assert message in " ".join(caught.value.message_dict["documents"])
    assert not Intervention.objects.exists()
    assert not InterventionDocument.objects.exists()


def test_at_most_five_documents(actors: Actors) -> None:
    child, report = child_with_report(actors)
    with pytest.raises(ValidationError) as caught:
        iv.intervention_record(
            actor=actors.county_admin,
            child=child,
            report=report,
            fields=fields(),
            documents=[png() for _ in range(6)],
            today=TODAY,
        )
    assert "documents" in caught.value.message_dict


def test_a_handling_department_links_its_own_report(actors: Actors) -> None:
    from django.core.exceptions import PermissionDenied

    child, report = child_with_report(actors)
    police = actors.department_officer
    with pytest.raises(PermissionDenied):  # not linked: not theirs to record
        iv.intervention_record(actor=police, child=child, fields=fields(), today=TODAY)
    with pytest.raises(PermissionDenied):  # another department
        iv.intervention_record(
            actor=actors.other_department_officer,
            child=child,
            report=report,
            fields=fields(),
            today=TODAY,
        )
    recorded = iv.intervention_record(
        actor=police,
        child=child,
        report=report,
        fields=fields("police_admonition", decision_maker="高台县公安局城关派出所"),
        today=TODAY,
    )
    assert recorded.report == report


def test_a_report_about_another_child_is_not_linked(actors: Actors) -> None:
    _child, report = child_with_report(actors)
    other = make_family(actors, name="周小兵", father_left=None, mother_left=None)
    with pytest.raises(ValidationError) as caught:
        iv.intervention_record(
            actor=actors.county_admin, child=other, report=report, fields=fields(), today=TODAY
        )
    assert "report" in caught.value.message_dict


# --- ending, and the assessment it needs -----------------------------------------------------


def test_a_temporary_guardianship_without_an_assessment_does_not_end(actors: Actors) -> None:
    intervention = make_intervention(actors)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=TODAY,
            reason="监护人恢复监护能力",
            today=TODAY,
        )
    (message,) = caught.value.message_dict["assessment"]
    assert "评估" in message  # in Chinese, saying what to do
    assert "临时监护" in message
    intervention.refresh_from_db()
    assert intervention.ended_on is None
    assert not AuditEvent.objects.filter(action="intervention.end").exists()


def test_it_ends_with_the_assessment_given_at_the_end(actors: Actors) -> None:
    intervention = make_intervention(actors)
    ended = iv.intervention_end(
        actor=actors.county_admin,
        intervention=intervention,
        ended_on=TODAY,
        reason="监护人恢复监护能力",
        assessment=assessment(),
        today=TODAY,
    )
    assert ended.ended_on == TODAY
    assert ended.ended_by == actors.county_admin
    (recorded,) = InterventionAssessment.objects.filter(intervention=intervention)
    assert recorded.summary == SUMMARY
    assert iv.state_of(ended, TODAY) == State.ENDED
    event = AuditEvent.objects.get(action="intervention.end")
    assert event.detail["assessment"] == str(recorded.public_id)
    assert SUMMARY not in str(event.detail)
    assert "监护人恢复" not in str(event.detail)


def test_it_ends_after_an_assessment_recorded_before(actors: Actors) -> None:
    intervention = make_intervention(actors)
    iv.intervention_assess(
        actor=actors.county_admin, intervention=intervention, assessment=assessment(), today=TODAY
    )
    ended = iv.intervention_end(
        actor=actors.county_admin,
        intervention=intervention,
        ended_on=TODAY,
        reason="送回监护人",
        today=TODAY,
    )
    assert ended.ended_on == TODAY


def test_an_assessment_after_the_end_day_does_not_count(actors: Actors) -> None:
    intervention = make_intervention(actors)
    iv.intervention_assess(
        actor=actors.county_admin,
        intervention=intervention,
        assessment=assessment(assessed_on=date(2024, 6, 20)),
        today=TODAY,
    )
    with pytest.raises(ValidationError) as caught:
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=date(2024, 6, 10),
            reason="送回监护人",
            today=TODAY,
        )
    assert "assessment" in caught.value.message_dict


def test_an_assessment_that_says_continue_does_not_end_it(actors: Actors) -> None:
    intervention = make_intervention(actors)
    iv.intervention_assess(
        actor=actors.county_admin,
        intervention=intervention,
        assessment=assessment(conclusion="continue"),
        today=TODAY,
    )
    with pytest.raises(ValidationError) as caught:
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=TODAY,
            reason="x",
            today=TODAY,
        )
    assert "assessment" in caught.value.message_dict
    # A later assessment that the guardian can take the child back: now it ends.
    iv.intervention_assess(
        actor=actors.county_admin,
        intervention=intervention,
        assessment=assessment(assessed_on=date(2024, 6, 25)),
        today=TODAY,
    )
    assert iv.intervention_end(
        actor=actors.county_admin,
        intervention=intervention,
        ended_on=TODAY,
        reason="x",
        today=TODAY,
    ).ended_on


def test_an_incomplete_assessment_names_its_fields(actors: Actors) -> None:
    intervention = make_intervention(actors)
    with pytest.raises(ValidationError) as caught:
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=TODAY,
            reason="x",
            assessment=assessment(assessor="", summary=""),
            today=TODAY,
        )
    assert {"assessor", "summary"} <= set(caught.value.message_dict)


def test_an_order_ends_without_an_assessment(actors: Actors) -> None:
    intervention = make_intervention(
        actors, kind="protection_order", placement="", ends_on=date(2024, 9, 1)
    )
    ended = iv.intervention_end(
        actor=actors.county_admin,
        intervention=intervention,
        ended_on=TODAY,
        reason="法院撤销",
        today=TODAY,
    )
    assert ended.ended_on == TODAY


@pytest.mark.parametrize(
    ("kind", "ended_before"),
    [("police_admonition", False), ("temporary_guardianship", True)],
)
def test_a_single_act_or_an_ended_one_does_not_end(
    actors: Actors, kind: str, ended_before: bool
) -> None:
    intervention = make_intervention(actors, kind=kind, documents=False)
    if ended_before:
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=TODAY,
            reason="x",
            assessment=assessment(),
            today=TODAY,
        )
    with pytest.raises(iv.InterventionConflict):
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=TODAY,
            reason="x",
            assessment=assessment(),
            today=TODAY,
        )


@pytest.mark.parametrize(
    ("ended_on", "field"),
    [(None, "ended_on"), (TODAY + timedelta(days=1), "ended_on"), (date(2024, 2, 1), "ended_on")],
)
def test_the_end_day_is_checked(actors: Actors, ended_on: date | None, field: str) -> None:
    intervention = make_intervention(actors, documents=False)
    with pytest.raises(ValidationError) as caught:
        iv.intervention_end(
            actor=actors.county_admin,
            intervention=intervention,
            ended_on=ended_on,
            reason="x",
            assessment=assessment(),
            today=TODAY,
        )
    assert field in caught.value.message_dict


def test_the_auditor_and_the_village_director_do_not_write(actors: Actors) -> None:
    from django.core.exceptions import PermissionDenied

    intervention = make_intervention(actors, documents=False)
    for actor in (actors.auditor, actors.village_director, actors.other_department_officer):
        with pytest.raises(PermissionDenied):
            iv.intervention_end(
                actor=actor,
                intervention=intervention,
                ended_on=TODAY,
                reason="x",
                assessment=assessment(),
                today=TODAY,
            )
        with pytest.raises(PermissionDenied):
            iv.intervention_assess(
                actor=actor, intervention=intervention, assessment=assessment(), today=TODAY
            )


# --- the state on a day ----------------------------------------------------------------------

D = date(2024, 6, 30)


@pytest.mark.parametrize(
    ("kind", "ends_on", "ended_on", "state"),
    [
        ("temporary_guardianship", None, None, State.IN_FORCE),
        # Past its planned review, a temporary guardianship still holds until ended.
        ("temporary_guardianship", D - timedelta(days=1), None, State.IN_FORCE),
        ("temporary_guardianship", None, D, State.ENDED),
        ("protection_order", D, None, State.IN_FORCE),  # its last day
        ("protection_order", D - timedelta(days=1), None, State.EXPIRED),
        ("family_education_order", None, None, State.IN_FORCE),
        ("family_education_order", D + timedelta(days=9), D - timedelta(days=2), State.ENDED),
        ("police_admonition", None, None, State.RECORDED),
        ("guardianship_revocation", None, None, State.RECORDED),
        ("procuratorial_suggestion", None, None, State.RECORDED),
    ],
)
def test_the_state_on_a_day(
    kind: str, ends_on: date | None, ended_on: date | None, state: State
) -> None:
    assert iv.intervention_state(kind, ends_on=ends_on, ended_on=ended_on, today=D) == state


def test_the_database_counts_in_force_as_the_rule_does(actors: Actors) -> None:
    child, report = child_with_report(actors)
    cases = [
        ("temporary_guardianship", None, None),
        ("temporary_guardianship", D - timedelta(days=1), None),
        ("temporary_guardianship", None, D),
        ("protection_order", D, None),
        ("protection_order", D - timedelta(days=1), None),
        ("family_education_order", None, D - timedelta(days=2)),
        ("police_admonition", None, None),
    ]
    for kind, ends_on, ended_on in cases:
        intervention = iv.intervention_record(
            actor=actors.county_admin,
            child=child,
            report=report,
            fields=fields(kind, ends_on=ends_on),
            today=TODAY,
        )
        if ended_on:
            Intervention.objects.filter(pk=intervention.pk).update(ended_on=ended_on)
    expected = {i.pk for i in Intervention.objects.all() if iv.state_of(i, D) == State.IN_FORCE}
    assert len(expected) == 3
    assert set(Intervention.objects.filter(iv.in_force_q(D)).values_list("pk", flat=True)) == (
        expected
    )
