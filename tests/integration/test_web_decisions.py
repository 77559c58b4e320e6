"""The public decision pages: /decisions and /decisions/ID, over HTTP and in a real (headless) Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from bot.decisions.models import DecisionDraft, SourceRef
from bot.decisions.store import DecisionStore
from bot.store import build_engine
from bot.store import database_url as store_url
from bot.web.app import build_web_app
from bot.web.decisions import parse_id
from tests.browser import chromium
from tests.conftest import unreachable_like
from tests.fakes.http import serve_app

EVIL_TITLE = "<script>alert('x')</script> Replace the fax machines & pagers"
PERMALINK = "https://portalder.slack.com/archives/C111/p1595926230009600"
NEWEST_FIRST = ["DEC-0002", "DEC-0003", "DEC-0001", "DEC-0004"]
INTERNAL_CANARY = "canary-ceiling-7d3f"


def seed(store: DecisionStore) -> None:
    """Four public decisions, one superseding another (dates chosen so newest-first differs from id order),
    and one internal decision the public pages must never show."""
    store.add(
        DecisionDraft(
            visibility="public",
            title="Store body-camera video in the city's cloud tenant",
            decision="Use the evidence platform's US-region storage.",
            context="Body-camera footage grows by 40 TB a year.\n\nThe vendor offers hosted storage.",
            options=["Vendor-hosted storage", "City data centre", "Do nothing"],
            decided_by="Chief Information Officer",
            participants=["Dana Whitfield", "Luis Romero"],
            date="2024-03-05",
            tags=["body cameras", "storage"],
        ),
        actor="Dana Whitfield",
    )
    store.set_status("DEC-0001", "accepted", actor="Luis Romero")
    store.add(
        DecisionDraft(
            visibility="public",
            title="Keep body-camera video on city-owned storage",
            decision="Footage stays in the city's own data centre; the vendor gets read access only.",
            context="The records retention review found the hosted option cannot meet the 7-year hold.",
            status="accepted",
            decided_by="IT Steering Committee",
            participants=["Priya Natarajan", "Sam Ortiz"],
            date="2024-09-12",
            tags=["body cameras", "storage", "records retention"],
            permalink=PERMALINK,
            sources=[
                SourceRef(
                    doc_id="standards/data-retention",
                    title="Data retention standard",
                    url="https://standards.example.gov/data-retention",
                ),
                SourceRef(doc_id="evil", title="Evil link", url="javascript:alert(1)"),
            ],
        ),
        actor="Priya Natarajan",
    )
    store.supersede("DEC-0001", "DEC-0002", actor="Priya Natarajan")
    store.add(
        DecisionDraft(
            visibility="public",
            title="Adopt Open311 GeoReport v2 for the new 311 CRM",
            decision="The new 311 CRM must expose Open311 GeoReport v2.",
            date="2024-06-01",
            tags=["311", "open standards"],
        ),
        actor="Sam Ortiz",
    )
    store.add(
        DecisionDraft(title=EVIL_TITLE, decision="Keep <b>faxes</b> for now.", date="2023-01-10", visibility="public"),
        actor="Sam Ortiz",
    )
    store.set_status("DEC-0004", "rejected", actor="Sam Ortiz")
    store.add(
        DecisionDraft(
            title="Budget ceiling for the 311 CRM: internal",
            decision=f"Do not exceed the ceiling. {INTERNAL_CANARY}",
            date="2025-01-01",
            tags=["311"],
        ),
        actor="Sam Ortiz",
    )


@pytest.fixture
def store(database_url: str) -> DecisionStore:
    store = DecisionStore(build_engine(database_url))
    seed(store)
    return store


@pytest.fixture
def client(store: DecisionStore) -> TestClient:
    return TestClient(build_web_app(None, ready=lambda: True, decisions=store))


def soup(response: httpx.Response) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html")
    return BeautifulSoup(response.text, "html.parser")


def listed(page: BeautifulSoup) -> list[str]:
    return [node.get_text(strip=True) for node in page.select("ol.decisions .decision-id")]


def text(page: BeautifulSoup) -> str:
    return " ".join(page.get_text(" ").split())


# -- over HTTP (Starlette's TestClient), on SQLite and PostgreSQL --------------------------------------


def test_the_list_shows_every_decision_newest_first_with_status_date_tags_and_count(client: TestClient) -> None:
    page = soup(client.get("/decisions"))
    assert listed(page) == NEWEST_FIRST
    assert page.select_one("#count").get_text(strip=True) == "4 decisions."
    first = page.select_one("ol.decisions li")
    assert first.select_one("a")["href"] == "/decisions/DEC-0002"
    assert first.select_one(".badge").get_text(strip=True) == "Accepted"
    assert first.select_one("time")["datetime"] == "2024-09-12"
    assert [a.get_text() for a in first.select(".tags a")] == ["body cameras", "storage", "records retention"]
    assert [b.get_text(strip=True) for b in page.select("ol.decisions .badge")] == [
        "Accepted",
        "Proposed",
        "Superseded",
        "Rejected",
    ]
    assert client.get("/", follow_redirects=False).headers["location"] == "/decisions"


def test_search_and_status_filter_narrow_the_list(client: TestClient) -> None:
    assert listed(soup(client.get("/decisions", params={"q": "open311"}))) == ["DEC-0003"]
    assert listed(soup(client.get("/decisions", params={"q": "  BODY   camera "}))) == ["DEC-0002", "DEC-0001"]
    assert listed(soup(client.get("/decisions", params={"status": "accepted"}))) == ["DEC-0002"]
    assert listed(soup(client.get("/decisions", params={"status": "REJECTED"}))) == ["DEC-0004"]
    assert listed(soup(client.get("/decisions", params={"q": "body camera", "status": "superseded"}))) == ["DEC-0001"]
    assert listed(soup(client.get("/decisions", params={"status": "nonsense"}))) == NEWEST_FIRST  # ignored

    filtered = soup(client.get("/decisions", params={"q": "storage", "status": "accepted"}))
    assert filtered.select_one("#count").get_text(strip=True) == "Showing 1 of 4 decisions."
    assert filtered.select_one("input#q")["value"] == "storage"
    assert filtered.select_one("select#status option[selected]")["value"] == "accepted"

    empty = soup(client.get("/decisions", params={"q": "zebra crossing"}))
    assert listed(empty) == []
    assert empty.select_one(".empty").get_text(strip=True) == "No decisions match “zebra crossing”."
    assert empty.select_one("#count").get_text(strip=True) == "Showing 0 of 4 decisions."


def test_a_decision_page_has_every_field_and_accepts_each_way_of_writing_the_id(client: TestClient) -> None:
    pages = [client.get(f"/decisions/{ident}") for ident in ("DEC-0002", "dec-0002", "2", "DEC2")]
    assert {r.status_code for r in pages} == {200}
    assert len({r.text for r in pages}) == 1
    page = soup(pages[0])
    assert page.h1.get_text(" ", strip=True) == "DEC-0002 Keep body-camera video on city-owned storage"
    assert page.select_one(".facts .badge").get_text(strip=True) == "Accepted"
    assert page.select_one(".facts time")["datetime"] == "2024-09-12"
    assert page.select_one("#decided-by").get_text(strip=True) == "IT Steering Committee"
    assert page.select_one("#participants").get_text(strip=True) == "Priya Natarajan, Sam Ortiz"
    assert "vendor gets read access only" in page.select_one("#decision-text").get_text()
    assert "7-year hold" in page.select_one("#context-text").get_text()
    supersedes = page.select_one("#supersedes a")
    assert supersedes["href"] == "/decisions/DEC-0001"
    assert supersedes.get_text() == "DEC-0001: Store body-camera video in the city's cloud tenant"
    assert page.find("a", string="The Slack thread where this was decided")["href"] == PERMALINK
    source = page.select_one("#sources a")
    assert (source.get_text(), source["href"]) == (
        "Data retention standard",
        "https://standards.example.gov/data-retention",
    )
    history = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in page.select("#history tbody tr")]
    assert [row[1:] for row in history] == [
        ["Priya Natarajan", "Recorded as accepted."],
        ["Priya Natarajan", "Now supersedes DEC-0001"],
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[0]) for row in history)
    assert "UTC" in page.select_one("#history caption").get_text()


def test_a_superseded_decision_says_so_and_links_forward_with_its_full_history(client: TestClient) -> None:
    page = soup(client.get("/decisions/1"))
    assert page.select_one(".facts .badge").get_text(strip=True) == "Superseded"
    assert "superseded by DEC-0002" in page.select_one("#superseded-notice").get_text(" ", strip=True)
    assert page.select_one("#superseded-by a")["href"] == "/decisions/DEC-0002"
    assert [li.get_text() for li in page.select("#options li")] == [
        "Vendor-hosted storage",
        "City data centre",
        "Do nothing",
    ]
    assert len(page.select("#context-text p")) == 2  # blank lines separate paragraphs
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")][1:] for tr in page.select("#history tbody tr")]
    assert rows == [
        ["Dana Whitfield", "Recorded as proposed."],
        ["Luis Romero", "Status changed from proposed to accepted."],
        ["Priya Natarajan", "Superseded by DEC-0002"],
    ]
    assert page.select("#history tbody tr")[2].select_one("a")["href"] == "/decisions/DEC-0002"


def test_html_in_stored_text_is_shown_as_text_and_unsafe_links_are_not_links(client: TestClient) -> None:
    for path in ("/decisions", "/decisions/DEC-0004", "/decisions?q=fax"):
        response = client.get(path)
        assert "<script>alert" not in response.text and "<b>faxes" not in response.text
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in response.text
        assert soup(response).find("script") is None
    page = soup(client.get("/decisions/DEC-0004"))
    assert page.h1.get_text(" ", strip=True) == f"DEC-0004 {EVIL_TITLE}"
    assert "Keep <b>faxes</b> for now." in page.select_one("#decision-text").get_text()
    evil = soup(client.get("/decisions/DEC-0002"))
    assert [li.get_text(strip=True) for li in evil.select("#sources li")] == ["Data retention standard", "Evil link"]
    assert not any("javascript" in a["href"] for a in evil.find_all("a"))
    empty = soup(client.get("/decisions", params={"q": '"><img src=x onerror=alert(1)>'}))
    assert empty.find("img") is None and empty.select_one("input#q")["value"] == '"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/decisions/DEC-0999", "Decision not found"),
        ("/decisions/0", "Decision not found"),
        ("/decisions/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "Page not found"),
        ("/decisions/DEC-00x1", "Page not found"),
        ("/decisions/" + "9" * 5000, "Page not found"),
        ("/decisions/%E0%A5%A7", "Page not found"),  # a Devanagari digit one: not an id, and no crash
        ("/decisions/DEC-0001/edit", "Page not found"),
        ("/decisions/assets/nothing.css", "Page not found"),
    ],
)
def test_unknown_and_malformed_ids_are_plain_404_pages(client: TestClient, path: str, heading: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    page = soup(response)
    assert page.h1.get_text(strip=True) == heading
    assert page.find("a", string="See all decisions")["href"] == "/decisions"
    assert "<script>alert" not in response.text


def test_json_for_open_data_portals(client: TestClient) -> None:
    everything = client.get("/decisions.json")
    assert everything.headers["content-type"] == "application/json"
    assert [d["id"] for d in everything.json()] == NEWEST_FIRST
    assert [d["id"] for d in client.get("/decisions.json", params={"q": "open311"}).json()] == ["DEC-0003"]
    one = client.get("/decisions/dec-0001.json").json()
    assert (one["id"], one["status"], one["superseded_by"]) == ("DEC-0001", "superseded", "DEC-0002")
    assert [e["kind"] for e in one["history"]] == ["created", "status", "superseded"]
    missing = client.get("/decisions/DEC-0999.json")
    assert missing.status_code == 404 and "error" in missing.json()


def test_an_unreachable_database_is_a_plain_503_page(database_url: str, tmp_path: Path) -> None:
    # retry_seconds=0: one attempt per read, so the test does not wait out the store's short read retries
    down = DecisionStore(sqlalchemy.create_engine(store_url(unreachable_like(database_url, tmp_path))), retry_seconds=0)
    client = TestClient(build_web_app(None, ready=lambda: True, decisions=down))
    for path in ("/decisions", "/decisions?q=storage", "/decisions/DEC-0001"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "60"
        page = soup(response)
        assert page.h1.get_text(strip=True) == "The decision record is unavailable"
        assert "cannot be reached right now" in text(page)
        leaks = ("traceback", "sqlite", "psycopg", "operationalerror", "127.0.0.1", str(tmp_path).lower())
        assert not any(leak in response.text.lower() for leak in leaks)
    as_json = client.get("/decisions.json")
    assert as_json.status_code == 503 and "cannot be reached" in as_json.json()["error"]


# -- no database needed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("DEC-0001", "DEC-0001"), ("dec-0042", "DEC-0042"), (" 7 ", "DEC-0007"), ("DEC12345", "DEC-12345")],
)
def test_ids_are_read_the_ways_people_write_them(raw: str, expected: str) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "DEC-", "DEC-1a", "1.0", "١", "x" * 50, "9" * 10, "../1"])
def test_anything_else_is_not_an_id(raw: str) -> None:
    assert parse_id(raw) is None


def test_the_pages_are_read_only_and_slack_and_health_routes_are_unchanged() -> None:
    client = TestClient(build_web_app(None, ready=lambda: True))
    for path in ("/decisions", "/decisions/DEC-0001", "/decisions.json", "/decisions/DEC-0001.json"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
        assert client.head(path).status_code == 503  # HEAD is allowed (the record is not configured here)
    assert soup(client.post("/decisions")).h1.get_text(strip=True) == "Not allowed"
    assert client.get("/healthz").json() == {"status": "ok", "slack": False}
    assert client.post("/slack/events").status_code == 503
    assert client.get("/slack/events").status_code == 405
    unknown = client.get("/nothing-here")
    assert (unknown.status_code, unknown.text) == (404, "Not Found")  # outside /decisions: Starlette's plain reply


def test_without_a_decision_store_the_pages_say_so() -> None:
    client = TestClient(build_web_app(None, ready=lambda: True))
    response = client.get("/decisions")
    assert response.status_code == 503
    assert "not set up on this server" in text(soup(response))


def test_pages_are_accessible_plain_html_with_no_scripts(client: TestClient, tmp_path: Path) -> None:
    paths = ["/decisions", "/decisions?q=zebra", "/decisions/DEC-0002", "/decisions/DEC-0999"]
    for path in paths:
        response = client.get(path)
        page = soup(response)
        assert page.html["lang"] == "en"
        assert len(page.find_all("h1")) == 1, path
        assert page.find("meta", attrs={"name": "viewport"})
        skip = page.find("a", class_="skip-link")
        assert skip["href"] == "#main" and page.find(id="main").name == "main"
        assert page.find("script") is None
        assert not [name for tag in page.find_all(True) for name in tag.attrs if name.startswith("on")]
        for control in page.select("input:not([type=hidden]), select"):
            assert page.find("label", attrs={"for": control["id"]}), control
        assert "script-src" not in response.headers["content-security-policy"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
        stylesheet = page.find("link", rel="stylesheet")["href"]
        assert client.get(stylesheet).headers["content-type"].startswith("text/css")
    css = client.get("/decisions/assets/decisions.css").text
    assert "@media print" in css
    form = soup(client.get("/decisions")).find("form")
    assert (form["method"], form["action"], form["role"]) == ("get", "/decisions", "search")


# -- in a real browser ---------------------------------------------------------------------------------


def test_residents_browse_search_and_follow_links_in_chromium(store: DecisionStore, tmp_path: Path) -> None:
    problems: list[str] = []
    with chromium() as browser, serve_app(build_web_app(None, ready=lambda: True, decisions=store)) as url:
        from playwright.sync_api import expect

        # JavaScript off: everything must work as plain HTML links and GET forms.
        context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        page.goto(f"{url}/decisions")
        expect(page).to_have_title("All decisions · Decision record")
        expect(page.get_by_role("heading", level=1)).to_have_text("Decision record")
        cards = page.locator("ol.decisions > li")
        expect(cards.locator(".decision-id")).to_have_text(NEWEST_FIRST)
        expect(page.locator("#count")).to_have_text("4 decisions.")
        expect(page.get_by_text(EVIL_TITLE)).to_be_visible()  # markup in a title is shown as text
        # the stylesheet loaded and applies (a pale green pill for accepted)
        expect(cards.first.locator(".badge")).to_have_css("background-color", "rgb(227, 241, 230)")
        page.screenshot(path=tmp_path / "list.png", full_page=True)

        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

        page.get_by_label("Search decisions").fill("open311")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"/decisions\?q=open311"))
        expect(cards.locator(".decision-id")).to_have_text(["DEC-0003"])
        expect(page.locator("#count")).to_have_text("Showing 1 of 4 decisions.")
        expect(page.get_by_label("Search decisions")).to_have_value("open311")

        page.get_by_label("Search decisions").fill("zebra crossing")
        page.get_by_label("Search decisions").press("Enter")
        expect(page.get_by_text("No decisions match “zebra crossing”.")).to_be_visible()

        page.get_by_label("Search decisions").fill("")
        page.get_by_label("Status").select_option("accepted")
        page.get_by_role("button", name="Search").click()
        expect(cards.locator(".decision-id")).to_have_text(["DEC-0002"])

        page.get_by_label("Status").select_option("")
        page.get_by_label("Search decisions").fill("body camera")
        page.get_by_role("button", name="Search").click()
        expect(cards.locator(".decision-id")).to_have_text(["DEC-0002", "DEC-0001"])
        page.get_by_role("link", name=re.compile("DEC-0001")).click()

        expect(page).to_have_url(f"{url}/decisions/DEC-0001")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"DEC-0001\s+Store body-camera video in the city's cloud tenant")
        )
        expect(page.locator(".facts .badge")).to_have_text("Superseded")
        expect(page.locator("#decided-by")).to_have_text("Chief Information Officer")
        expect(page.locator("#participants")).to_have_text("Dana Whitfield, Luis Romero")
        expect(page.locator("#options li")).to_have_text(["Vendor-hosted storage", "City data centre", "Do nothing"])
        expect(page.locator("#history tbody tr td:nth-child(3)")).to_have_text(
            ["Recorded as proposed.", "Status changed from proposed to accepted.", "Superseded by DEC-0002"]
        )
        expect(page.locator("#history tbody tr td:nth-child(2)")).to_have_text(
            ["Dana Whitfield", "Luis Romero", "Priya Natarajan"]
        )
        expect(page.locator("#history thead")).to_contain_text("When (UTC)")
        shot = tmp_path / "decision.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0

        page.locator("#superseded-by a").click()
        expect(page).to_have_url(f"{url}/decisions/DEC-0002")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Keep body-camera video on city-owned storage")
        expect(page.locator("#supersedes a")).to_have_attribute("href", "/decisions/DEC-0001")
        expect(page.get_by_role("link", name="Data retention standard")).to_have_attribute(
            "href", "https://standards.example.gov/data-retention"
        )
        expect(page.get_by_role("link", name="Evil link")).to_have_count(0)
        expect(page.get_by_role("link", name="The Slack thread where this was decided")).to_have_attribute(
            "href", PERMALINK
        )
        page.screenshot(path=tmp_path / "superseding.png", full_page=True)
        assert problems == []  # no failed requests (CSS, icon), no CSP or console errors so far

        missing = page.goto(f"{url}/decisions/DEC-0999")
        assert missing is not None and missing.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Decision not found")
        page.get_by_role("link", name="See all decisions").click()
        expect(page).to_have_url(f"{url}/decisions")
        expect(cards).to_have_count(4)


@pytest.mark.parametrize(
    "path",
    [
        "/decisions",
        "/decisions?q=311",
        "/decisions?q=ceiling",
        "/decisions.json",
        "/decisions/DEC-0005",
        "/decisions/DEC-0005.json",
        "/decisions/5",
    ],
)
def test_an_internal_decision_never_reaches_the_public_pages(client: TestClient, path: str) -> None:
    """Residents read these pages: an internal decision is not listed, found, counted or shown, and its page
    is the same 404 as a decision that does not exist."""
    response = client.get(path)
    assert INTERNAL_CANARY not in response.text and "Budget ceiling" not in response.text
    if path.startswith("/decisions/"):  # exactly what a decision that does not exist gets
        missing = client.get(path.replace("0005", "9999").replace("/5", "/9999"))
        assert response.status_code == missing.status_code == 404
        assert response.text.replace("0005", "N").replace("/5", "/N") == missing.text.replace("9999", "N")
    elif path == "/decisions":
        assert listed(soup(response)) == NEWEST_FIRST
