"""A behaviour snapshot: what every role sees, for comparing the code before and after a
refactoring that must change nothing (issue 11).

    .venv/bin/python scripts/snapshot.py OUT.json        # then diff two OUT files

It builds the demo county in a scratch SQLite database with the clock stopped, signs in as each
demo account, walks the pages its menu and links lead to (GET only, breadth first, in sorted
order, at most ``--pages`` per role), asks the JSON API the same, sends a few bad inputs, and
writes every answer (status, content type, Vary, the body with random codes and form tokens
replaced by stable placeholders, a spreadsheet's cell values), the audit entries the walk
wrote, and the OpenAPI document. Two runs of the same code give the same file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
FROZEN = datetime(2026, 11, 16, 2, 30, tzinfo=UTC)  # a Monday, 10:30 in Gaotai
DEMO_ACCOUNTS = (
    "demo_county",
    "demo_town",
    "demo_village",
    "demo_police",
    "demo_school",
    "demo_auditor",
    "demo_sysadmin",
)
SKIP = re.compile(r"^/(static/|logout|i18n/|api/docs|api/schema|media/)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|(csrftoken=)[^;\s]+')
HREF = re.compile(r'href="([^"#]+)')
NONCE = re.compile(r'nonce="[^"]+"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=40, help="pages walked per role")
    args = parser.parse_args()
    if os.environ.get("_SNAPSHOT_CHILD") != "1":
        # A scratch var directory and SQLite database, and this script again inside it.
        with tempfile.TemporaryDirectory(prefix="tongxin-snapshot-") as var:
            env = {**os.environ, "TONGXIN_VAR_DIR": var, "_SNAPSHOT_CHILD": "1"}
            env.pop("DATABASE_URL", None)
            env.update(TONGXIN_DEMO="1", DEBUG="0", DJANGO_SETTINGS_MODULE="tongxin.settings")
            argv = [sys.executable, __file__, str(args.out.resolve()), "--pages", str(args.pages)]
            subprocess.run(argv, env=env, cwd=ROOT, check=True)  # noqa: S603 (this script)
        return
    sys.path.insert(0, str(ROOT))
    import random
    import uuid

    import time_machine

    # Codes drawn in a fixed order: lists ordered by code list the same rows in every run.
    # Patched before Django loads the models, whose fields hold ``uuid.uuid4`` as default.
    rng = random.Random(20261116)  # noqa: S311 (placeholders, not secrets)
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)

    with time_machine.travel(FROZEN, tick=False):
        _run(args.out, args.pages)


class Normaliser:
    """Random codes become ``<code:N>`` in order of first sight, across the whole snapshot, so
    the same object carries the same placeholder in every answer."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def text(self, text: str) -> str:
        text = UUID.sub(self._code, text)
        text = CSRF.sub(lambda m: (m.group(1) or m.group(2)) + "<csrf>", text)
        return NONCE.sub('nonce="<nonce>"', text)

    def _code(self, match: re.Match[str]) -> str:
        return self.codes.setdefault(match.group(0), f"<code:{len(self.codes) + 1}>")

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value


def _run(out: Path, pages_per_role: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client, override_settings
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from tongxin.accounts.models import User
    from tongxin.audit.models import AuditEvent

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    norm = Normaliser()
    answers: dict[str, Any] = {}
    first_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def record(key: str, response: Any) -> str:
        content_type = response.get("Content-Type", "")
        entry: dict[str, Any] = {
            "status": response.status_code,
            "content_type": content_type,
            "vary": response.get("Vary", ""),
            "location": norm.text(response.get("Location", "")),
        }
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if "spreadsheetml" in content_type:
            entry["cells"] = _cells(body, norm)
        elif "json" in content_type:
            entry["json"] = norm.value(json.loads(body or b"null"))
        elif content_type.startswith("text/"):
            entry["body"] = norm.text(body.decode())
        else:
            entry["bytes"] = len(body)
        answers[norm.text(key)] = entry
        return body.decode(errors="replace") if content_type.startswith("text/html") else ""

    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        ALLOWED_HOSTS=["testserver"],
    ):
        for username in DEMO_ACCOUNTS:
            user = User.objects.get(username=username)
            client = Client()
            client.force_login(user)
            _walk(client, username, pages_per_role, record)
            api = APIClient()
            _, token = AuthToken.objects.create(user)
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            _api(api, username, record)
            _bad_inputs(client, api, username, record)

    events = [
        norm.value(
            {
                "action": e.action,
                "object_type": e.object_type,
                "object_code": e.object_code,
                "result": e.result,
                "actor": e.actor_username,
                "detail": e.detail,
            }
        )
        for e in AuditEvent.objects.filter(pk__gt=first_event).order_by("pk")
    ]
    schema = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=schema)
    out.write_text(
        json.dumps(
            {"answers": answers, "audit": events, "openapi": json.loads(schema.getvalue())},
            ensure_ascii=False,
            indent=1,
            sort_keys=True,
        )
    )
    print(f"{len(answers)} answers, {len(events)} audit entries → {out}")


def _walk(client: Any, username: str, limit: int, record: Any) -> None:
    """Breadth first from the home page over same-site links, GET only."""
    seen: set[str] = set()
    queue: deque[str] = deque(["/"])
    # One child's file, one report … is enough: a list's 1,500 rows would flood the walk.
    kinds: set[str] = set()
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        html = record(f"{username} GET {url}", client.get(url))
        for href in sorted(set(HREF.findall(html))):
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc or SKIP.match(parts.path) or target in seen:
                continue
            kind = re.sub(r"\d{6,}", "<n>", UUID.sub("<code>", parts.path))
            if kind != parts.path and kind in kinds:
                continue
            kinds.add(kind)
            queue.append(target)


def _api(api: Any, username: str, record: Any) -> None:
    """The API's list and detail reads, each first detail of each list."""
    for path in (
        "/api/v1/children",
        "/api/v1/children?age_from=6&age_to=12",
        "/api/v1/worklist",
        "/api/v1/worklist?as_of=2026-06-30",
        "/api/v1/compliance?period=2026-Q3",
        "/api/v1/reports",
        "/api/v1/reports/stats",
        "/api/v1/referrals",
        "/api/v1/duplicates",
        "/api/v1/auth/me",
    ):
        answer = api.get(path)
        record(f"{username} API GET {path}", answer)
        if answer.status_code != 200 or "json" not in answer.get("Content-Type", ""):
            continue
        results = answer.json().get("results") if isinstance(answer.json(), dict) else None
        if results and isinstance(results[0], dict):
            code = results[0].get("code") or results[0].get("public_id")
            if code and path in ("/api/v1/children", "/api/v1/reports"):
                base = path.split("?")[0]
                record(f"{username} API GET {base}/<first>", api.get(f"{base}/{code}"))
                if base == "/api/v1/children":
                    for sub in ("contacts", "risk", "parents/father"):
                        record(
                            f"{username} API GET {base}/<first>/{sub}",
                            api.get(f"{base}/{code}/{sub}"),
                        )


def _bad_inputs(client: Any, api: Any, username: str, record: Any) -> None:
    """Refusals: their messages are behaviour too."""
    record(f"{username} GET /children/?age_from=x", client.get("/children/?age_from=x"))
    record(f"{username} API GET children?status=AAA", api.get("/api/v1/children?status=AAA"))
    record(f"{username} API POST contacts {{}}", api.post("/api/v1/contacts", {}, format="json"))
    record(f"{username} API POST reports {{}}", api.post("/api/v1/reports", {}, format="json"))
    record(f"{username} API POST classify {{}}", api.post("/api/v1/classify", {}, format="json"))
    record(
        f"{username} API POST eligibility {{}}", api.post("/api/v1/eligibility", {}, format="json")
    )
    record(f"{username} GET /no-such-page/", client.get("/no-such-page/"))


def _cells(body: bytes, norm: Normaliser) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body), read_only=True)
    rows: list[list[Any]] = []
    for sheet in book.worksheets:
        rows.append([f"== {sheet.title}"])
        rows.extend([norm.value(str(c)) for c in row] for row in sheet.iter_rows(values_only=True))
    return rows


if __name__ == "__main__":
    main()
