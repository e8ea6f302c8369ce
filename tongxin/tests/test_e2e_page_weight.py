"""Page weight through the real server (the demo, served as production serves it): each demo
role signs in and loads each page of its menu, as a browser on a slow link would, asking for
gzip. Bytes are the compressed bodies on the wire (headers left out). For each page:

- first: opened with an empty cache: the page, its stylesheets and scripts;
- after home: opened next after the home page, with what the home page left in the cache;
- later: opened again, its files in the cache (hashed names, cached for a year): the page alone.

Targets (issue 10): any first load ≤ 300 KB, any page opened after the home page ≤ 60 KB (the
chart pages included: their charts are SVG drawn on the server, decision 013). The figures are
written to test-artifacts/page-weight.txt."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tongxin.e2e import ARTIFACTS, DemoServer, demo_server

pytestmark = pytest.mark.e2e

FIRST_LOAD = 300 * 1024
LATER = 60 * 1024
ROLES = (
    "demo_village",
    "demo_town",
    "demo_county",
    "demo_police",
    "demo_school",
    "demo_auditor",
    "demo_sysadmin",
)
# The pages that draw a chart: measured with their charts drawn.
CHART_PAGES = ("/visits/compliance/", "/reports/stats/")
# A browser keeps a file this long or longer without asking again.
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Fetched:
    body: bytes  # as sent: compressed when the server compressed it
    encoding: str
    cache_seconds: int
    content_type: str


class Browser:
    """Just enough of a browser: cookies, gzip accepted, requests the site itself started."""

    def __init__(self, server: DemoServer) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def fetch(self, path: str, data: dict[str, str] | None = None) -> Fetched:
        request = urllib.request.Request(  # noqa: S310  (the test's own server)
            urllib.parse.urljoin(self.server.url, path),
            data=urllib.parse.urlencode(data).encode() if data is not None else None,
            headers={
                "Accept-Encoding": "gzip",
                "Accept-Language": "zh-CN",
                "Sec-Fetch-Site": "same-origin",
                "Referer": self.server.url + "/",
            },
        )
        with self.opener.open(request, timeout=60) as response:
            control = response.headers.get("Cache-Control", "")
            found = re.search(r"max-age=(\d+)", control)
            return Fetched(
                body=response.read(),
                encoding=response.headers.get("Content-Encoding", ""),
                cache_seconds=int(found.group(1)) if found and "no-cache" not in control else 0,
                content_type=response.headers.get("Content-Type", ""),
            )

    def sign_in(self, username: str) -> str:
        login = _text(self.fetch("/accounts/login/"))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)
        assert token, "no form token on the sign-in page"
        home = _text(
            self.fetch(
                "/accounts/login/",
                {
                    "csrfmiddlewaretoken": token.group(1),
                    "username": username,
                    "password": self.server.passwords[username],
                },
            )
        )
        assert "site-menu" in home, f"{username} did not get in"
        return home


def _text(fetched: Fetched) -> str:
    import gzip

    raw = gzip.decompress(fetched.body) if fetched.encoding == "gzip" else fetched.body
    return raw.decode()


def _assets(html: str) -> list[str]:
    """The stylesheets and scripts a page loads."""
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
    return [*links, *scripts]


def _menu(html: str) -> list[str]:
    menu = html[html.index('class="nav-links"') : html.index("</details>")]
    return [href for href in re.findall(r'<a href="([^"]+)"', menu) if href.startswith("/")]


@dataclass
class Row:
    role: str
    page: str
    html: int
    first: int
    after_home: int
    later: int


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-weight")) as s:
        yield s


def _measure(server: DemoServer, username: str) -> list[Row]:
    browser = Browser(server)
    home = browser.sign_in(username)
    pages = ["/", *(p for p in _menu(home) if p != "/")]
    assets: dict[str, Fetched] = {}
    rows: list[Row] = []
    after_home: set[str] = set()  # what the browser keeps after the home page
    for path in pages:
        page = browser.fetch(path)
        assert page.encoding == "gzip", f"{path} went out uncompressed"
        html = _text(page)
        wanted = _assets(html)
        if path.startswith(CHART_PAGES):
            assert '<figure class="bar-chart"' in html, f"{path} draws no chart"
        for url in wanted:
            if url not in assets:
                assets[url] = asset = browser.fetch(url)
                assert asset.encoding == "gzip" or len(asset.body) < 1024, f"{url} uncompressed"
                assert asset.cache_seconds >= YEAR, f"{url} is not cached for long"
                assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), f"{url} has no hashed name"
        size = len(page.body)
        first = size + sum(len(assets[u].body) for u in wanted)
        if path == "/":
            after_home = set(wanted)
        next_to_home = size + sum(len(assets[u].body) for u in wanted if u not in after_home)
        rows.append(Row(username, path, size, first, next_to_home, later=size))
    return rows


def test_every_page_of_every_role_is_light(server: DemoServer) -> None:
    rows = [row for username in ROLES for row in _measure(server, username)]
    report = [f"{'role':<14} {'page':<28} {'first':>7} {'after home':>10} {'later':>7}  (KB gzip)"]
    report += [
        f"{r.role:<14} {r.page:<28} {r.first / 1024:7.1f} {r.after_home / 1024:10.1f}"
        f" {r.later / 1024:7.1f}"
        for r in rows
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weight.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    heavy = [f"{r.role} {r.page}: {r.first / 1024:.0f} KB" for r in rows if r.first > FIRST_LOAD]
    assert not heavy, f"first loads over 300 KB: {heavy}"
    slow = [
        f"{r.role} {r.page}: {r.after_home / 1024:.0f} KB" for r in rows if r.after_home > LATER
    ]
    assert not slow, f"pages opened after the home page over 60 KB: {slow}"
    # The chart pages were among those measured.
    assert {r.page for r in rows} >= set(CHART_PAGES)
