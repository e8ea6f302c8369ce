"""The OpenAPI document held to the API (issue 12): schemathesis generates requests from
/api/schema/ and sends them to the demo county served as production serves it (gunicorn,
deploy/gunicorn.conf.py), once with each role's token and once with none. Every answer must
be no 500, a status the document lists for the operation, and a body its schema describes.

Bounded for CI: three examples per operation (valid and invalid input), about a thousand
requests in all, two minutes on 2 cores besides the server's start. The run writes (contacts,
reports, referrals) into its own copy of the demo's database. A failure prints schemathesis's
report, with the request that reproduces it (`st run … --seed 12`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tongxin.accounts.roles import Role
from tongxin.e2e import DemoServer, demo_server

# One demo account of each role (tongxin/demo.py).
ACCOUNTS = {
    Role.COUNTY_ADMIN: "demo_county",
    Role.TOWN_SUPERVISOR: "demo_town",
    Role.VILLAGE_DIRECTOR: "demo_village",
    Role.DEPARTMENT_OFFICER: "demo_police",
    Role.REPORTER: "demo_school",
    Role.AUDITOR: "demo_auditor",
    Role.SYSTEM_ADMIN: "demo_sysadmin",
    Role.SECURITY_ADMIN: "demo_security",
}
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Examples per operation: about 110 requests a run, nine runs (a dozen seconds each on 2 cores).
MAX_EXAMPLES = 3
# A run that takes longer than this has hung.
TIMEOUT_SECONDS = 180
ST = str(Path(sys.executable).with_name("st"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("fuzz-var"), gunicorn=True) as s:
        yield s


def _token(server: DemoServer, username: str) -> str:
    body = json.dumps({"username": username, "password": server.passwords[username]}).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{server.url}/api/v1/auth/token",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        token: str = json.load(response)["token"]
    return token


def _fuzz(server: DemoServer, report: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *[ST, "run", f"{server.url}/api/schema/?format=json", "--url", server.url],
            *["--checks", CHECKS, "--phases", "examples,fuzzing"],
            *["--max-examples", str(MAX_EXAMPLES)],
            *["--workers", "2", "--seed", "12", "--no-color", "--suppress-health-check", "all"],
            *["--generation-database", "none"],
            *["--report", "ndjson", "--report-ndjson-path", str(report)],
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=report.parent,
    )


def _requests(report: Path) -> int:
    """How many requests the run sent, from its ndjson report."""
    count = 0
    for line in report.read_text().splitlines():
        count += line.count('"request":')
    return count


@pytest.mark.parametrize("role", [None, *ACCOUNTS], ids=lambda r: r or "anonymous")
def test_every_answer_is_one_the_document_describes(
    server: DemoServer, tmp_path: Path, role: Role | None
) -> None:
    options: list[str] = []
    if role is not None:
        token = _token(server, ACCOUNTS[role])
        # The token request is fuzzed anonymously; DELETE would revoke this run's token.
        options = ["--header", f"Authorization: Token {token}"]
        options += ["--exclude-path", "/api/v1/auth/token"]
    started = time.monotonic()
    result = _fuzz(server, tmp_path / "report.ndjson", *options)
    elapsed = time.monotonic() - started
    sent = _requests(tmp_path / "report.ndjson")
    print(f"schemathesis {role or 'anonymous'}: {sent} requests in {elapsed:.0f} s")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
