"""Pages go out compressed, except answers to requests another site started (BREACH), and
files that are compressed already (spreadsheets) are left alone."""

from __future__ import annotations

import gzip

import pytest

from tongxin.testing import Actors, web_client


@pytest.mark.parametrize("fetch_site", ["same-origin", "none", None])
def test_it_compresses_the_pages_the_user_opens(actors: Actors, fetch_site: str | None) -> None:
    headers = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
    if fetch_site:
        headers["HTTP_SEC_FETCH_SITE"] = fetch_site
    response = web_client(actors.county_admin).get("/", **headers)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    page = gzip.decompress(response.content).decode()
    assert "<h1>我的工作</h1>" in page
    assert len(response.content) < len(page.encode()) / 2
    assert {"Accept-Encoding", "Sec-Fetch-Site"} <= {v.strip() for v in response["Vary"].split(",")}


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site"])
def test_it_sends_answers_to_other_sites_requests_uncompressed(
    actors: Actors, fetch_site: str
) -> None:
    response = web_client(actors.county_admin).get(
        "/", HTTP_ACCEPT_ENCODING="gzip", HTTP_SEC_FETCH_SITE=fetch_site
    )
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert "<h1>我的工作</h1>" in response.content.decode()


def test_it_leaves_a_spreadsheet_alone(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(
        "/children/export.xlsx", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200
    assert "spreadsheet" in response["Content-Type"]
    assert not response.has_header("Content-Encoding")
