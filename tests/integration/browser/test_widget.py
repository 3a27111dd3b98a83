"""The chat widget on the demo page, in headless Chromium, against the real servers.

A visitor holds a whole qualification through the widget's UI: typing and
clicking Send, clicking quick replies, reloading the page half-way, going
through a network outage. After each turn the widget must show exactly what the
conversation's tracker (read over the Rasa HTTP API, with the session id the
widget keeps in localStorage) says was said.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from bot.language import detect_language
from tests.integration.browser.conftest import ARTIFACTS, browser_missing

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")

TURN_TIMEOUT = 30
XSS = "<img src=x onerror=alert(1)>"
GREETINGS = {
    "en": "Hi! What brings you here today?",
    "fr": "Bonjour ! Qu'est-ce qui vous amène aujourd'hui ?",
    "pl": "Dzień dobry! W czym możemy pomóc?",
}
LAUNCHERS = {"en": "Chat with us", "fr": "Discuter avec nous", "pl": "Czat z nami"}

SHOWN = """() => Array.from(document.querySelectorAll('.relay-msg')).map(
    b => [b.classList.contains('visitor') ? 'visitor' : 'bot', b.textContent])"""
SESSION_ID = """() => {
    const key = Object.keys(localStorage).find(k => k.startsWith('relay-chat:'));
    return key ? JSON.parse(localStorage.getItem(key)).sessionId : null; }"""


def said(tracker: Dict[str, Any]) -> List[Tuple[str, str]]:
    """What was said in the tracker's latest session, bot texts cut into bubbles at blank lines."""
    entries: List[Tuple[str, str]] = []
    for event in tracker["events"]:
        if event["event"] == "session_started":
            entries = []
        elif event["event"] == "user" and event.get("text"):
            entries.append(("visitor", event["text"]))
        elif event["event"] == "bot" and event.get("text"):
            entries += [("bot", part) for part in event["text"].strip().split("\n\n")]
    return entries


class Visitor:
    """A person on the demo page, using the widget."""

    def __init__(self, page, assistant, greeting: str = GREETINGS["en"]) -> None:
        self.page, self.assistant, self.greeting = page, assistant, greeting
        self.dialogs: List[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    @property
    def session_id(self) -> str:
        session_id = self.page.evaluate(SESSION_ID)
        assert session_id, "the widget keeps no session id in localStorage"
        return session_id

    def tracker(self) -> Dict[str, Any]:
        return self.assistant.tracker(self.session_id, "web")

    @property
    def slots(self) -> Dict[str, Any]:
        return self.tracker()["slots"]

    def shown(self) -> List[Tuple[str, str]]:
        return [tuple(entry) for entry in self.page.evaluate(SHOWN)]

    def _user_turns(self) -> int:
        events = self.tracker().get("events") or []
        return sum(1 for event in events if event["event"] == "user")

    def _turn(self, act) -> List[str]:
        """Does ``act``, waits until the assistant has answered and the widget shows it all."""
        before = self._user_turns()
        shown_before = len(self.shown())
        act()
        deadline = time.time() + TURN_TIMEOUT
        while True:
            tracker = self.assistant.tracker(self.session_id, "web")
            events = tracker.get("events") or []
            users = sum(1 for event in events if event["event"] == "user")
            if users > before and events[-1]["event"] == "action" and events[-1]["name"] == "action_listen":
                break
            assert time.time() < deadline, f"no answer within {TURN_TIMEOUT}s"
            time.sleep(0.2)
        expected = [["bot", self.greeting]] + [list(entry) for entry in said(tracker)]
        self.page.wait_for_function(
            f"expected => JSON.stringify(({SHOWN})()) === JSON.stringify(expected)",
            arg=expected,
            timeout=TURN_TIMEOUT * 1000,
        )
        return [text for who, text in self.shown()[shown_before:] if who == "bot"]

    def say(self, text: str) -> List[str]:
        def act() -> None:
            self.page.fill(".relay-form input", text)
            self.page.click(".relay-send")

        return self._turn(act)

    def click(self, title: str) -> List[str]:
        button = self.page.locator(".relay-buttons").get_by_role("button", name=title, exact=True)
        return self._turn(button.click)

    def wait(self, act) -> List[str]:
        """Does ``act`` (something other than typing) and waits for the answer to a message sent meanwhile."""
        return self._turn(act)

    def buttons(self) -> List[str]:
        return self.page.locator(".relay-buttons button").all_text_contents()


def open_demo(context, site, assistant, language: str = "en") -> Visitor:
    page = context.new_page()
    page.goto(f"{site.url}/webhooks/socketio/demo")
    visitor = Visitor(page, assistant, GREETINGS[language])
    page.click(".relay-launcher")
    return visitor


def test_a_full_qualification_through_the_widget(open_browser, site, assistant):
    visitor = open_demo(open_browser("en-GB"), site, assistant)
    page = visitor.page
    assert page.locator(".relay-launcher").count() == 1
    assert visitor.shown() == [("bot", GREETINGS["en"])]

    # A visitor's text with HTML in it is shown as text, and so is the bot's summary that repeats it.
    need = f"Our support team drowns in repetitive tickets every day {XSS}"
    visitor.say(need)
    assert visitor.shown()[1] == ("visitor", need)
    assert visitor.slots["requested_slot"] == "authority"
    replies = visitor.say(XSS)
    assert replies, "no answer to a message made of HTML"
    assert ("visitor", XSS) in visitor.shown()
    assert visitor.slots["requested_slot"] == "authority"
    visitor.say("Yes, I'm the one who signs.")
    visitor.say("Nobody else.")
    replies = visitor.say("Our IT lead might worry about the cost.")
    assert visitor.buttons() == [
        "Less work for the team",
        "Lower costs",
        "Better support than today",
        "Getting more done",
    ], replies

    # A reload half-way: the same session, the same history, the same pending question.
    session_id, before, slots = visitor.session_id, visitor.shown(), visitor.slots
    page.reload()
    page.wait_for_function(f"n => ({SHOWN})().length === n", arg=len(before))
    assert visitor.session_id == session_id
    assert visitor.shown() == before
    assert page.locator(".relay-panel").is_visible(), "the open chat closed on reload"
    assert visitor.buttons()[1] == "Lower costs"
    replies = visitor.click("Lower costs")
    assert any("35%" in reply for reply in replies), replies
    after = visitor.slots
    assert after["requested_slot"] == "current_vendor", replies
    assert after["benefits"] == ["upfront_savings"]
    for kept in ("need", "authority", "blockers", "language"):
        assert after[kept] == slots[kept], kept
    assert XSS in after["need"] and after["authority"] == "decision_maker"

    # A network outage: the widget says so, keeps the visitor's message, and sends it once back.
    site.stop()
    page.wait_for_function("document.querySelector('.relay-status').textContent === 'Reconnecting…'")
    page.fill(".relay-form input", "We use Zendesk.")
    page.click(".relay-send")
    assert visitor.shown()[-1] == ("visitor", "We use Zendesk.")
    time.sleep(1)
    visitor.wait(site.start)
    assert visitor.slots["current_vendor"] == "Zendesk"
    assert visitor.buttons() == ["Yes, please", "No, thanks"]
    assert page.locator(".relay-status").text_content() == ""

    visitor.click("Yes, please")
    visitor.say("Anna Smith")
    visitor.say("anna.smith@northwind-clinics.com")
    visitor.say("Northwind Clinics")
    replies = visitor.say("skip")
    summary = "\n".join(replies)
    assert XSS in summary and "Northwind Clinics" in summary, replies
    assert visitor.buttons() == ["Yes, that's right", "Something to change"]
    replies = visitor.click("Yes, that's right")
    slots = visitor.slots
    assert slots["summary_confirmed"] is True and slots["lead_submitted"] is True, replies
    assert slots["consent"] is True and slots["contact_email"] == "anna.smith@northwind-clinics.com"
    assert slots["contact_name"] == "Anna Smith" and slots["company"] == "Northwind Clinics"
    assert any("anna.smith@northwind-clinics.com" in reply for reply in replies), replies

    # Nothing typed or said ran as HTML.
    assert page.locator(".relay-chat img, .relay-chat script").count() == 0
    assert visitor.dialogs == []
    for link in page.locator(".relay-msg a").all():
        assert link.get_attribute("href").startswith(("https://", "http://"))
    assert all(detect_language(text) in ("en", None) for who, text in visitor.shown() if who == "bot")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "widget.png"
    shot.unlink(missing_ok=True)
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("locale,language", [("fr-FR", "fr"), ("pl-PL", "pl")])
def test_the_browser_language_decides_from_the_first_reply(open_browser, site, assistant, locale, language):
    visitor = open_demo(open_browser(locale), site, assistant, language)
    assert visitor.page.locator(".relay-chat").get_attribute("lang") == language
    assert visitor.shown() == [("bot", GREETINGS[language])]
    # "Hallo" is in none of the three languages: only the locale the widget sends can decide.
    replies = visitor.say("Hallo")
    assert replies and all(detect_language(text) == language for text in replies), replies
    tracker = visitor.tracker()
    assert tracker["slots"]["language"] == language
    user = next(event for event in tracker["events"] if event["event"] == "user")
    assert user["metadata"]["locale"] == locale
    assert user["input_channel"] == "socketio"
    visitor.page.click(".relay-close")
    assert visitor.page.locator(".relay-launcher").text_content() == LAUNCHERS[language]


def test_where_the_visitor_stands_comes_with_buttons_in_the_widget(open_browser, site, assistant):
    visitor = open_demo(open_browser("fr-FR"), site, assistant, "fr")
    for text in (
        "Bonjour, nos deux conseillères répondent toute la journée aux mêmes questions sur les livraisons.",
        "C'est moi qui décide.",
        "Personne.",
        "Personne, non.",
        "Rien de particulier.",
    ):
        visitor.say(text)
    assert visitor.slots["requested_slot"] == "current_vendor", visitor.shown()
    replies = visitor.say("Aucun, on répond à la main.")
    assert visitor.slots["requested_slot"] == "interest_stage", replies
    assert visitor.buttons() == [
        "Je me renseigne, simplement",
        "Je regarde ce que ça nous apporterait",
        "Je compare avec notre solution actuelle",
        "On peut parler tarif et date de démarrage",
    ], replies
    replies = visitor.click("Je regarde ce que ça nous apporterait")
    slots = visitor.slots
    assert slots["interest_level"] == "benefits" and slots["requested_slot"] == "consent", replies
    assert visitor.buttons() == ["Oui, volontiers", "Non merci"]


CUSTOMER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Sklep</title>
<script src="{server}/webhooks/socketio/widget.js" data-server="{server}" data-language="pl"
        data-title="Obsługa klienta" data-title-fr="Service client" data-color="#aa3300" data-text-color="#000"
        data-greeting="Hello from the shop" data-greeting-pl="Dzień dobry! Jak możemy pomóc?" data-open="true"></script>
</head><body><h1>Cennik</h1></body></html>"""


@pytest.fixture
def customer_site(site) -> Iterator[str]:
    """A customer's website: a real local HTTP server with the widget's tag in its page's <head>."""
    page = CUSTOMER_PAGE.format(server=site.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_port}"  # another origin than the assistant's 127.0.0.1
    finally:
        server.shutdown()
        server.server_close()


def test_the_settings_of_the_script_tag_on_another_website(open_browser, customer_site, assistant):
    """The tag in another website's <head>, every setting used."""
    page = open_browser("en-US").new_page()
    page.goto(f"{customer_site}/cennik")
    visitor = Visitor(page, assistant, "Dzień dobry! Jak możemy pomóc?")
    page.wait_for_selector(".relay-panel", state="visible")  # data-open
    assert page.locator(".relay-head strong").text_content() == "Obsługa klienta"
    head = page.locator(".relay-head")
    assert head.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(170, 51, 0)"
    assert head.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    assert page.locator(".relay-form input").get_attribute("placeholder") == "Napisz wiadomość…"
    assert page.locator(".relay-send").text_content() == "Wyślij"
    assert visitor.shown() == [("bot", "Dzień dobry! Jak możemy pomóc?")]
    replies = visitor.say("Hallo")  # data-language wins over the browser's English
    assert replies and all(detect_language(text) == "pl" for text in replies), replies
    user = next(event for event in visitor.tracker()["events"] if event["event"] == "user")
    assert user["metadata"]["locale"] == "pl" and user["metadata"]["page"] == "/cennik"
