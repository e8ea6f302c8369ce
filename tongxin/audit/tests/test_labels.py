"""Every audit action and object type written anywhere in the code has a label in
tongxin/audit/labels.py, and the audit log shows the labels (in Chinese), not the codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.apps import apps as django_apps
from django.conf import settings

from tongxin.audit import labels
from tongxin.audit.models import AuditEvent
from tongxin.protection import rules
from tongxin.testing import Actors, web_client

CODE = Path(settings.BASE_DIR) / "tongxin"

# Actions built at run time from a step's value (f"report.{step.value}"): every value they can
# take. A new f-string action fails the scan until it is listed here.
DYNAMIC_ACTIONS = {
    "f'report.{step.value}'": [f"report.{t.value}" for t in rules.Transition],
    "f'referral.{step.value}'": [f"referral.{t.value}" for t in rules.ReferralTransition],
}


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and type(n.value) is str]


def scan() -> tuple[set[str], set[str], set[str]]:
    """(actions, object types, dynamic actions not listed) written by the code: the ``action``
    and ``object_type`` arguments of the audit helpers (``audit_record``, ``audit_denied``, the
    apps' ``_audit…`` wrappers and ``list_opened``), whose positional codes are told apart by
    their dot (``contact.record`` is an action, ``contact`` its object type), and the modules'
    ``OBJECT_TYPE``/``…_OBJECT`` constants."""
    actions: set[str] = set()
    objects: set[str] = set()
    unlisted: set[str] = set()
    for path in sorted(CODE.rglob("*.py")):
        if {"tests", "migrations"} & set(path.parts):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and re.fullmatch(
                        r"OBJECT_TYPE|\w+_OBJECT", target.id
                    ):
                        objects.add(str(statement.value.value))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "object_type":
                    objects.update(_strings(keyword.value))
            name = _called(node)
            if "audit" not in name and "list_opened" not in name:
                continue
            action_arguments = [k.value for k in node.keywords if k.arg == "action"]
            for arg in action_arguments:
                if not isinstance(arg, ast.JoinedStr):
                    actions.update(_strings(arg))
            for arg in [*node.args, *action_arguments]:
                if isinstance(arg, ast.JoinedStr):
                    source = ast.unparse(arg)
                    if source in DYNAMIC_ACTIONS:
                        actions.update(DYNAMIC_ACTIONS[source])
                    else:
                        unlisted.add(f"{path.relative_to(CODE)}:{node.lineno} {source}")
            for arg in node.args:
                if isinstance(arg, ast.Constant) and type(arg.value) is str and arg.value:
                    (actions if "." in arg.value else objects).add(arg.value)
    return actions, objects - {""}, unlisted


def test_the_scan_finds_the_actions_it_should() -> None:
    # A scan that found nothing would pass the tests below for nothing.
    actions, objects, _ = scan()
    assert {"auth.login", "auth.lockout", "divisions_load", "report.accept"} <= actions
    assert {"contact.record", "referral.decline", "intervention.list"} <= actions
    assert {"mandatoryreport", "concern", "import_batch", "user"} <= objects
    assert {"contact", "child", "referral"} <= by_model_name()


def test_every_action_in_the_code_has_a_label() -> None:
    actions, _, unlisted = scan()
    assert not unlisted, (
        f"actions built at run time: list their values in DYNAMIC_ACTIONS: {unlisted}"
    )
    missing = sorted(actions - set(labels.ACTION_LABELS))
    assert not missing, f"audit actions without a label in tongxin/audit/labels.py: {missing}"


# Models with a public code that ``audit_object`` is never given without an ``object_type``:
# audited under another name (``import_batch``, ``export``, ``duplicate_pair``, ``transfer``),
# as part of their parent record, or not at all (the history tables).
NAMED_OTHERWISE = {
    "duplicatecandidate",
    "exportrun",
    "importbatch",
    "interventionassessment",
    "interventiondocument",
    "migration",
    "paymentroll",  # audited as ``payment_roll``
    "reportaddendum",
    "reportattachment",
    "reporttask",
    "rolegrant",  # audited as a step of its account's file (``user``)
    "transferrequest",
    "worklogentry",
}


def by_model_name() -> set[str]:
    """The object types ``audit_object`` writes by itself (the model's name, when the call
    gives no ``object_type``): every model with a public code, but those named otherwise."""
    return {
        model._meta.model_name or ""
        for model in django_apps.get_models()
        if model.__module__.startswith("tongxin.")
        and not model._meta.model_name.startswith("historical")  # type: ignore[union-attr]
        and any(field.name == "public_id" for field in model._meta.get_fields())
    } - NAMED_OTHERWISE


def test_every_object_type_in_the_code_has_a_label() -> None:
    _, objects, _ = scan()
    missing = sorted((objects | by_model_name()) - set(labels.OBJECT_LABELS))
    assert not missing, f"audit object types without a label in tongxin/audit/labels.py: {missing}"


def test_every_action_belongs_to_an_area_of_the_filter() -> None:
    areas = {code.split(".")[0] for code in labels.ACTION_LABELS}
    assert areas <= set(labels.AREA_LABELS)


def test_every_label_has_its_chinese() -> None:
    po = {
        e.msgid: e.msgstr
        for e in polib.pofile(str(CODE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    }
    everything = [*labels.ACTION_LABELS.values(), *labels.OBJECT_LABELS.values()]
    untranslated = [str(label._args[0]) for label in everything if not po.get(label._args[0])]  # type: ignore[attr-defined]
    assert not untranslated


@pytest.fixture
def events(actors: Actors) -> None:
    for action, object_type in (("auth.login", "user"), ("report.accept", "mandatoryreport")):
        AuditEvent.objects.create(
            action=action,
            object_type=object_type,
            object_code="3fa85f64-5717-4562-b3fc-2c963f66afa6",
            division_code="620724000000",
            actor_username="county_admin",
        )


def _visible_text(html: str) -> str:
    """The page as read: no tags, no attributes (a code kept in a ``title`` is not shown)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_it_shows_chinese_labels_instead_of_codes(actors: Actors, events: None) -> None:
    html = web_client(actors.county_admin).get("/audit/").content.decode()
    results = _visible_text(html[html.index('<div id="results">') :])
    assert "登录" in results
    assert "受理" in results
    assert "强制报告" in results
    for code in ("auth.login", "report.accept", "mandatoryreport"):
        assert code not in results


def test_it_filters_by_a_labelled_choice(actors: Actors, events: None) -> None:
    html = web_client(actors.county_admin).get("/audit/", {"action": "report."}).content.decode()
    assert '<option value="report." selected>' in html
    results = _visible_text(html[html.index('<div id="results">') :])
    assert "受理报告" in results
    assert "登录系统" not in results
