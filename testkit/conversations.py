"""Whole prospect conversations: play them over the REST channel, check the lead field by field.

Each conversation (``tests/integration/conversations/data/{lang}.yml``) is what
a visitor writes, turn by turn, and the lead a rep should receive. The real
servers run (Rasa, actions, leads API on SQLite); the lead is read back from
the leads API and compared with the expectation one field at a time. Used by
the integration tests (which fail below a share of fields right) and by the
benchmark (which reports it per language).
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

import yaml

from testkit.servers import (
    PREFIXES,
    ROOT,
    action_server,
    endpoints_file,
    free_port,
    health,
    http,
    leads_server,
    rasa_server,
    rasa_status,
    running,
    secrets_env,
    tracker_url,
)

DATA = ROOT / "tests" / "integration" / "conversations" / "data"
API_TOKEN = "conversations-token"
#: Conversations played at once (the servers handle each conversation in order, several in parallel).
WORKERS = 4
#: Environment variables that would send notifications somewhere: off for these runs.
QUIET = ("SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK_URL", "CRM_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


@dataclass
class Result:
    """One conversation played: the checks of its lead, and how often a question came back."""

    name: str
    language: str
    checks: List[Tuple[str, bool, Any, Any]] = field(default_factory=list)
    repeats: int = 0
    loops: int = 0
    transcript: List[str] = field(default_factory=list)
    lead: Optional[Dict[str, Any]] = None

    @property
    def right(self) -> int:
        return sum(1 for check in self.checks if check[1])

    def failures(self) -> List[str]:
        return [f"{name}: expected {want!r}, got {got!r}" for name, ok, want, got in self.checks if not ok]


def qualifying_turns(email: str = "s.collins@northbay-logistics.com") -> List[str]:
    """A prospect who qualifies, a message each: need, authority, buying center, benefit, vendor, contact."""
    return [
        "Hi, I'm Sarah Collins, head of support at Northbay Logistics. We get far too many repetitive "
        "tickets and I'm comparing you with Zendesk.",
        "Yes, I make the final decision.",
        "Our CFO James Carter will want a say.",
        "Our IT team worries about security.",
        "Lower costs",
        "We use Zendesk",
        "yes",
        email,
        "skip",
        "Yes, that's right",
    ]


def load(language: str) -> List[Dict[str, Any]]:
    """The conversations of one language."""
    return yaml.safe_load((DATA / f"{language}.yml").read_text(encoding="utf-8")) or []


@contextmanager
def assistant(
    folder: Path, prefix: str = "conversations", extra_env: Optional[Dict[str, str]] = None
) -> Iterator[Dict[str, str]]:
    """The Rasa server, the action server and the leads server, on loopback, with a fresh SQLite database.

    ``extra_env``: more settings for the three servers (e.g. ``REPS_FILE``).
    """
    actions_port, rasa_port, leads_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in QUIET and not k.startswith(("TEAMS_", "SLACK_REP"))}
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "DATABASE_URL": f"sqlite:///{folder / 'leads.db'}",
            "LEADS_OUTBOX_DIR": str(folder / "outbox"),
            "LEADS_API_TOKEN": API_TOKEN,
            "RASA_URL": f"http://127.0.0.1:{rasa_port}",
            **secrets_env(),
            **(extra_env or {}),
        }
    )
    commands = {
        "actions": action_server(actions_port),
        "leads": leads_server(leads_port),
        "rasa": rasa_server(rasa_port, endpoints_file(folder, actions_port), ROOT / "credentials.yml"),
    }
    checks = {"actions": health(actions_port), "leads": health(leads_port), "rasa": rasa_status(rasa_port)}
    with running(commands, checks, env, folder, prefix):
        yield {"rasa": f"http://127.0.0.1:{rasa_port}", "leads": f"http://127.0.0.1:{leads_port}"}


def _say(rasa: str, sender: str, text: str) -> List[str]:
    status, replies = http("POST", f"{rasa}/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=120)
    if status != 200 or not isinstance(replies, list):
        raise AssertionError(f"REST channel answered {status}: {replies!r}")
    return [r["text"] for r in replies if r.get("text")]


def _open_question(rasa: str, sender: str) -> Optional[str]:
    """The question the assistant waits an answer to (the Rasa HTTP API's tracker)."""
    status, tracker = http("GET", tracker_url(rasa, sender))
    if status != 200 or not isinstance(tracker, dict) or not tracker.get("active_loop", {}).get("name"):
        return None
    return (tracker.get("slots") or {}).get("requested_slot")


def lead_of(leads: str, sender: str) -> Optional[Dict[str, Any]]:
    """The lead of one conversation, from the leads API."""
    request = f"{leads}/api/leads?conversation_id={quote(PREFIXES['rest'] + sender)}"
    status, body = _get(request)
    found = (body or {}).get("leads") if isinstance(body, dict) else body
    if status != 200 or not found:
        return None
    status, lead = _get(f"{leads}/api/leads/{found[0]['id']}")
    return lead if status == 200 else None


def _get(url: str) -> tuple:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def _question(reply: str) -> Optional[str]:
    """The question a reply asks (its last sentence ending with "?"), normalised."""
    found = re.findall(r"[^.!?\n]*\?", reply)
    return normal(found[-1]) if found else None


def play(urls: Dict[str, str], conversation: Dict[str, Any], language: str) -> Result:
    """Play one conversation; count questions asked again (repeats) and asked a third time in a row (loops)."""
    result = Result(conversation["name"], language)
    sender = f"conv-{language}-{conversation['name']}-{uuid.uuid4().hex[:8]}"
    result.sender = sender  # type: ignore[attr-defined]
    previous: Optional[str] = None
    streak = 0
    for turn in conversation["turns"]:
        if isinstance(turn, dict):  # said only when that question is open
            if _open_question(urls["rasa"], sender) != turn["if_asked"]:
                continue
            turn = turn["say"]
        replies = _say(urls["rasa"], sender, turn)
        result.transcript += [f"> {turn}"] + [f"< {r}" for r in replies]
        asked = next((q for q in (_question(r) for r in reversed(replies)) if q), None)
        if asked is not None and asked == previous:
            streak += 1
            result.repeats += 1
            if streak >= 2:
                result.loops += 1
        elif asked is not None:
            streak = 0
        previous = asked or previous
    result.lead = lead_of(urls["leads"], sender)
    return result


def normal(text: Any) -> str:
    """Lower case, no accents, single spaces: how texts are compared."""
    text = unicodedata.normalize("NFKD", str(text or "").lower().replace("ł", "l"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def _contains(got: Any, want: Any) -> bool:
    wants = want if isinstance(want, list) else [want]
    return all(normal(w) in normal(got) for w in wants)


def _stakeholder_matches(person: Dict[str, Any], want: Dict[str, Any]) -> bool:
    if "name" in want and not (person.get("name") and _contains(person["name"], want["name"])):
        return False
    if "role" in want and not _contains(f"{person.get('role') or ''} {person.get('name') or ''}", want["role"]):
        return False
    if "stance" in want and person.get("stance") != want["stance"]:
        return False
    if "concern" in want and not (person.get("concern") and _contains(person["concern"], want["concern"])):
        return False
    return True


def check(expect: Dict[str, Any], lead: Optional[Dict[str, Any]], leads_by_name: Dict[str, Any]) -> List[tuple]:
    """``(field, right?, expected, got)`` for every field the conversation's expectation names."""
    lead = lead or {}
    contact = lead.get("contact") or {}
    need = lead.get("need") or {}
    checks: List[tuple] = []

    def add(name: str, ok: bool, want: Any, got: Any) -> None:
        checks.append((name, bool(ok), want, got))

    if "need" in expect:
        want = expect["need"]
        add("need", need.get("summary") and _contains(need["summary"], want) if want else not need.get("summary"),
            want, need.get("summary"))  # fmt: skip
    if "category" in expect:
        add("need category", need.get("category") == expect["category"], expect["category"], need.get("category"))
    if "interest" in expect:
        level = (lead.get("interest") or {}).get("level")
        add("interest", level == expect["interest"], expect["interest"], level)
    if "authority" in expect:
        add("authority", lead.get("authority") == expect["authority"], expect["authority"], lead.get("authority"))
    if "stakeholders" in expect:
        people = list(lead.get("stakeholders") or [])
        for want in expect["stakeholders"]:
            match = next((p for p in people if _stakeholder_matches(p, want)), None)
            label = want.get("name") or want.get("role")
            for attr in ("name", "role", "stance", "concern"):
                if attr in want:
                    near = match or next(
                        (
                            p
                            for p in people
                            if _stakeholder_matches(p, {k: want[k] for k in ("name", "role") if k in want})
                        ),
                        None,
                    )
                    got = (near or {}).get(attr)
                    ok = near is not None and _stakeholder_matches(near, {attr: want[attr]})
                    add(f"stakeholder {label}: {attr}", ok, want[attr], got)
        add("no stakeholder invented", len(people) <= len(expect["stakeholders"]), len(expect["stakeholders"]),
            [p.get("name") or p.get("role") for p in people])  # fmt: skip
    if "benefits" in expect:
        got = sorted(lead.get("benefits") or [])
        add("benefits", got == sorted(expect["benefits"]), sorted(expect["benefits"]), got)
    if "vendor" in expect:
        want, got = expect["vendor"], lead.get("current_vendor")
        add("vendor", _contains(got, want) if want else not got, want, got)
    for key in ("name", "email", "company", "phone"):
        if key in expect.get("contact", {}):
            want, got = expect["contact"][key], contact.get(key)
            if key == "phone" and want:
                ok = re.sub(r"\D", "", str(got or "")).endswith(re.sub(r"\D", "", str(want))[-9:])
            else:
                ok = normal(got) == normal(want) if want else not got
            add(f"contact {key}", ok, want, got)
    if "referred_by" in expect:
        referrer = leads_by_name.get(expect["referred_by"]) or {}
        add("referred by", bool(referrer) and lead.get("referred_by") == referrer.get("id"), expect["referred_by"],
            lead.get("referred_by"))  # fmt: skip
    if "status" in expect:
        add("status", lead.get("status") == expect["status"], expect["status"], lead.get("status"))
    return checks


def run_language(urls: Dict[str, str], language: str, workers: int = WORKERS) -> List[Result]:
    """Every conversation of one language; those that follow another (``after``) are played after it."""
    conversations = load(language)
    first = [c for c in conversations if not c.get("after")]
    later = [c for c in conversations if c.get("after")]
    results: Dict[str, Result] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for wave in (first, later):
            for result in pool.map(lambda c: play(urls, c, language), wave):
                results[result.name] = result
    leads_by_name = {name: result.lead for name, result in results.items() if result.lead}
    for conversation in conversations:
        result = results[conversation["name"]]
        result.checks = check(conversation["expect"], result.lead, leads_by_name)
    return [results[c["name"]] for c in conversations]


def summary(results: List[Result]) -> Dict[str, Any]:
    """Share of fields right, repeated questions and loops, for a set of results."""
    fields = sum(len(r.checks) for r in results)
    right = sum(r.right for r in results)
    return {
        "conversations": len(results),
        "fields": fields,
        "right": right,
        "share": right / fields if fields else 0.0,
        "repeats": sum(r.repeats for r in results),
        "loops": sum(r.loops for r in results),
    }
