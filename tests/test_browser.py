"""In a real browser: the provenance viewer and the API docs, served by a real server.

A uvicorn server on a free 127.0.0.1 port, on a freshly loaded SQLite database, driven by
Debian's Chromium through Playwright (never a browser Playwright downloads). Every request
a page makes is recorded, and a test fails if any of them leaves 127.0.0.1. Screenshots are
kept in test-artifacts/. Without /usr/bin/chromium the module is skipped, unless CI is set:
then it fails (scripts/install-browser.sh installs it).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit

import pytest

from app.db import make_engine
from app.seed.load import load
from app.settings import ROOT
from tests.conftest import SEED_DIR

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_SECONDS = 30.0
WAIT_MS = 15_000
SOURCE_ID = "mfa-cn-2025-03-22"

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(
        f"{CHROMIUM} is missing: run scripts/install-browser.sh (in CI this test fails instead)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, Request, expect, sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, accept: str = "application/json", timeout: float = 5.0) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return bytes(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1, on its own freshly loaded SQLite database."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'facts.sqlite3'}"
    engine = make_engine(url)
    load(engine, SEED_DIR)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "uvicorn.log").open("wb")
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}: see {log.name}")
            try:
                get(f"{base}/health", timeout=1.0)
                break
            except (URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"uvicorn did not answer within {START_SECONDS:.0f}s")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"CI is set and {CHROMIUM} is missing: run scripts/install-browser.sh")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, timeout=WAIT_MS * 2
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A fresh page, and every URL it requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    context.on("request", record)
    try:
        yield context.new_page(), requested
    finally:
        context.close()


def assert_all_local(requested: list[str]) -> None:
    assert requested, "no request was recorded"
    away = [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert not away, f"requests left 127.0.0.1: {away}"


def screenshot(page: Page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page, timeout=WAIT_MS)


def test_the_viewer_marks_every_span_and_leads_to_its_fact(
    server: str, page: tuple[Page, list[str]]
) -> None:
    tab, requested = page
    source = json.loads(get(f"{server}/sources/{SOURCE_ID}"))
    spans = source["evidence"]
    assert len(spans) > 100

    response = tab.goto(f"{server}/sources/{SOURCE_ID}", wait_until="load")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    expect(tab.locator("h1")).to_have_text(source["title"], timeout=WAIT_MS)

    # Every span: its mark exists, holds exactly the quote, and is visibly highlighted.
    marks = tab.evaluate(
        """() => {
            const out = {};
            for (const el of document.querySelectorAll('#text .evidence[data-span]')) {
                const key = el.dataset.span;
                const seen = out[key] || {text: '', facts: el.dataset.facts, background: ''};
                seen.text += el.textContent;
                if (el.id === 'span-' + key) {
                    seen.background = getComputedStyle(el).backgroundColor;
                    seen.visible = el.getClientRects().length > 0;
                }
                out[key] = seen;
            }
            return out;
        }"""
    )
    for span in spans:
        key = f"{span['start']}-{span['end']}"
        assert key in marks, f"span {key} is not marked"
        mark = marks[key]
        assert mark["text"] == span["quote"], span
        assert f"{span['fact_type']}:{span['fact_id']}" in mark["facts"].split()
        assert mark["visible"], span
        assert mark["background"] not in ("", "transparent", "rgba(0, 0, 0, 0)"), span
    screenshot(tab, "browser-viewer.png")

    # An evidence link (RFC 5147 `#char=start,end`) lands on its span.
    span = spans[len(spans) // 2]
    tab.goto(f"{server}{span['link']}", wait_until="load")
    target = tab.evaluate("() => document.querySelector(':target')?.nextElementSibling?.id")
    assert target == f"span-{span['start']}-{span['end']}"

    # Click a span: the page goes to the fact's JSON, which carries the span.
    facts_at: dict[tuple[int, int], set[str]] = {}
    for s in spans:
        facts_at.setdefault((s["start"], s["end"]), set()).add(s["fact"])
    span = next(
        s
        for s in spans
        if s["fact_type"] == "commitment"
        and (s["role"], s["field"]) == ("content", None)
        and facts_at[(s["start"], s["end"])] == {s["fact"]}
    )
    key = f"{span['start']}-{span['end']}"
    link = tab.locator(f'[id="span-{key}"] > a[href="{span["fact"]}"]').first
    expect(link).to_be_visible(timeout=WAIT_MS)
    with tab.expect_navigation(url=re.compile(re.escape(span["fact"]) + "$")) as navigation:
        link.click()
    fact_response = navigation.value
    assert fact_response is not None and fact_response.status == 200
    assert fact_response.headers["content-type"] == "application/json"
    fact = fact_response.json()
    assert str(fact["id"]) == span["fact_id"]
    assert span["quote"] in [ev["quote"] for ev in fact["evidence"]]
    expect(tab.locator("body")).to_contain_text(span["quote"], timeout=WAIT_MS)
    screenshot(tab, "browser-viewer-fact.png")
    assert_all_local(requested)


def test_the_docs_try_a_dialogue(server: str, page: tuple[Page, list[str]]) -> None:
    tab, requested = page
    tab.goto(f"{server}/docs", wait_until="load")
    operation = tab.locator(".opblock.opblock-get").filter(
        has=tab.locator('.opblock-summary-path[data-path="/dialogues/{dialogue}"]')
    )
    expect(operation).to_have_count(1, timeout=WAIT_MS)
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator('.parameters input[placeholder="dialogue"]').fill("6")
    operation.get_by_role("button", name="Execute").click()
    live = operation.locator(".live-responses-table tr.response")
    expect(live.locator(".response-col_status")).to_have_text("200", timeout=WAIT_MS)
    expect(live.locator(".response-col_description pre").first).to_contain_text(
        "2025-03-22", timeout=WAIT_MS
    )
    live.first.scroll_into_view_if_needed(timeout=WAIT_MS)
    screenshot(tab, "browser-docs.png", full_page=False)
    assert_all_local(requested)
