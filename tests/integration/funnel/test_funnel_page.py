"""The funnel page in Chromium, over the real servers, after known conversations over the REST channel.

A rep signs in with the form, accepts the qualified lead on its page, opens
the funnel from the rep page and reads the numbers the known conversations
must give; a CSV file is downloaded and read; the page is kept as
``tests/artifacts/funnel-*.png`` at laptop and phone width, in each language.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Iterator

import pytest

from testkit.servers import http, tracker_url
from tests.integration.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, browser_missing
from tests.integration.funnel.conftest import REP, TOKEN

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")

LOCALES = {"en": "en-GB", "fr": "fr-FR", "pl": "pl-PL"}
NO_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
#: What the three conversations become once the rep accepted the qualified one.
STAGES = {
    "Conversations": 3,  # the greeting alone counts: a visitor wrote
    "Engaged": 2,  # the dental practice and the French agency gave facts
    "Partly qualified": 1,  # the agency: a need and an interest, no role
    "Qualified": 1,
    "Handed off": 1,
    "Accepted by a rep": 1,
}


@pytest.fixture(scope="module")
def browser(played) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()
        driver.stop()


def _signed_in(browser, base: str, language: str = "en", width: int = 1280):
    """A new browser page, signed in with the sign-in form (the token typed, as a rep would)."""
    context = browser.new_context(locale=LOCALES[language], viewport={"width": width, "height": 900},
                                  accept_downloads=True)  # fmt: skip
    page = context.new_page()
    page.goto(f"{base}/reps/funnel")
    assert page.locator("#token").count() == 1  # not signed in: the sign-in form
    page.fill("#token", TOKEN)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#token").count() == 0, "the sign-in did not take"
    return page


def _bars(page, chart: str) -> dict:
    """The chart's bars as printed: label → number shown."""
    bars = page.locator(f"#chart-{chart} g.bar")
    found = {}
    for index in range(bars.count()):
        label, value = bars.nth(index).locator("text").all_text_contents()
        found[label] = value
    return found


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"funnel-{name}.png"), full_page=True)


def test_the_funnel_shows_the_known_conversations(played, browser):
    base = played.urls["leads"]
    dental, agency, greeting = (played.results[n] for n in ("dental-qualified", "agence-besoin-seulement", "powitanie"))
    assert dental.lead and dental.lead["status"] == "qualified", dental.transcript
    assert agency.lead and agency.lead["status"] == "partial", agency.transcript
    assert greeting.lead is None, greeting.transcript
    left_at = http("GET", tracker_url(played.urls["rasa"], agency.sender))[1]["slots"]["requested_slot"]
    assert left_at == "authority"

    page = _signed_in(browser, base)
    page.goto(f"{base}/reps/leads/{dental.lead['id']}")
    page.select_option("#decide select[name=rep]", REP)
    page.locator("#decide button[value=accept]").click()
    page.wait_for_load_state()
    page.goto(f"{base}/reps")
    page.locator("#funnel-link").click()
    page.wait_for_load_state()
    assert page.inner_text("h1") == "Funnel"

    assert _bars(page, "stages") == {label: str(n) for label, n in STAGES.items()}
    reached = sum(
        any(e.get("name") == "requested_slot" and e.get("value") == "authority" for e in tracker["events"])
        for tracker in (http("GET", tracker_url(played.urls["rasa"], r.sender))[1] for r in played.results.values())
    )
    assert _bars(page, "questions")["Role in the decision"] == f"1 of {reached}"
    assert _bars(page, "needs") == {"too many phone calls": "1", "slow response times": "1"}
    assert list(_bars(page, "concerns").values()) == ["1"]
    assert page.inner_text("#handoff-count") == "1"
    median = page.inner_text("#handoff-median")
    assert re.fullmatch(r"\d+ min", median) and page.inner_text("#handoff-p90") == median
    groups = page.locator("#groups tbody tr")
    assert groups.count() == 1  # one week
    assert groups.first.locator("td").all_inner_texts()[1:] == [str(n) for n in STAGES.values()]

    with page.expect_download() as download:
        page.locator("#csv-stages").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows == [["Stage", "Conversations"]] + [[label, str(n)] for label, n in STAGES.items()]
    with page.expect_download() as download:
        page.locator("#csv-handoff").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows[1][0] == "Median" and f"{rows[1][1]} min" == median

    page.select_option("select[name=language]", "fr")
    page.select_option("select[name=by]", "channel")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    assert _bars(page, "stages")["Conversations"] == "1" and _bars(page, "stages")["Partly qualified"] == "1"
    assert page.locator("#groups tbody tr td").first.inner_text() == "API"


@pytest.mark.parametrize("width", (1280, 375))
@pytest.mark.parametrize("language", ("en", "fr", "pl"))
def test_the_funnel_is_readable_in_each_language_and_width(played, browser, language, width):
    page = _signed_in(browser, played.urls["leads"], language, width)
    page.goto(f"{played.urls['leads']}/reps/funnel")
    assert page.evaluate(NO_SCROLL), "the page scrolls sideways"
    title = {"en": "Funnel", "fr": "Entonnoir de conversion", "pl": "Lejek sprzedażowy"}[language]
    assert page.inner_text("h1") == title
    shown = page.inner_text("body")
    assert not re.search(r"\b(handed_off|partial|phone_calls|slow_response|requested_slot|None|null)\b", shown)
    font = page.evaluate(
        "() => Math.min(...[...document.querySelectorAll('svg.chart text')].map(t => t.getBoundingClientRect().height))"
    )
    assert font >= 10, f"chart text only {font:.1f} px high"
    _screenshot(page, f"{language}-{width}")
