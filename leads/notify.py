"""The hand-off notification: Slack Block Kit, a Teams Adaptive Card, a signed CRM JSON.

Cards are in the language of whoever they are for (the rep's entry in the reps
file, or the team queue's), with dates in their time zone. They say who should
act, what the visitor was promised and by when, then the three facts that
matter first (need, role in the decision, who may push back), then the rest.

Whatever the visitor typed is made inert: in Slack, ``&``, ``<`` and ``>`` are
escaped (no ``<!channel>``, no ``<url|label>``), mentions and links are broken;
in Teams it goes into ``TextRun`` elements, which Teams never reads as Markdown.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

from common.slack_text import inert, slack_escape
from leads import describe
from leads.facts import lead_title
from leads.labels import colon, parse_time, rep_language, text
from leads.promise import Promise, deadline_text, promise_for, promise_text, time_left

SIGNATURE_HEADER = "X-Lead-Signature"


def _owner(rep: Optional[Mapping[str, Any]], team: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
    return rep or team or {"name": "Sales team"}


def card_promise(
    lead: Mapping[str, Any],
    rep: Optional[Mapping[str, Any]],
    team: Optional[Mapping[str, Any]],
    now: Optional[datetime] = None,
) -> Promise:
    """The promise made to the visitor when the lead is handed off ``now``."""
    return promise_for(lead, _owner(rep, team), rep is None, parse_time(now) or datetime.now(timezone.utc))


def _promise_sentence(promise: Promise, language: str, now: datetime) -> str:
    if promise.kind == "none":
        return text("card", "no_promise", language)
    return text(
        "card",
        "promise",
        language,
        promise=promise_text(promise, language),
        deadline=deadline_text(promise, language),
        left=time_left(promise, now, language),
    )


def _heading(lead: Mapping[str, Any], language: str, tz: Optional[str]) -> str:
    return text(
        "card",
        "title",
        language,
        status=text("status", lead.get("status"), language),
        title=lead_title(lead, language, tz),
    )


def _setting(
    rep: Optional[Mapping[str, Any]], team: Optional[Mapping[str, Any]], now: Optional[datetime]
) -> Tuple[datetime, str, Optional[str]]:
    """When the card is written, and the language and time zone of whoever should act on it."""
    owner = _owner(rep, team)
    return parse_time(now) or datetime.now(timezone.utc), rep_language(owner), owner.get("timezone")


def _for_whom(rep: Optional[Mapping[str, Any]], language: str) -> str:
    return text("card", "for_rep", language, rep=rep["name"]) if rep else text("card", "for_team", language)


def _moved(moved: Tuple[str, str], language: str) -> str:
    """``Offered next: Anna passed on it.``"""
    kind, former = moved
    return text("card", f"moved_{kind}", language, rep=former)


def slack_message(
    lead: Mapping[str, Any],
    rep: Optional[Mapping[str, Any]],
    transcript_url: Optional[str],
    team: Optional[Mapping[str, Any]] = None,
    now: Optional[datetime] = None,
    promise: Optional[Promise] = None,
    moved: Optional[Tuple[str, str]] = None,
) -> Dict[str, Any]:
    """A Block Kit message with Accept and Pass buttons, for ``rep`` (or the team queue ``team``).

    ``promise``: the one the visitor was given, when the lead was offered to someone else first;
    ``moved``: why it comes now (``("expired" or "passed", the former owner's name)``).
    """
    now, language, tz = _setting(rep, team, now)
    title = _heading(lead, language, tz)
    user_id = ((rep or {}).get("slack") or {}).get("user_id")
    mention = f"<@{slack_escape(user_id)}> " if user_id else ""
    promise = promise or card_promise(lead, rep, team, now)

    warn = bool(describe.blockers(lead, language))
    blocker_label = text("field", "blockers", language)

    def fields(lines: List[describe.Line]) -> List[Dict[str, Any]]:
        out = []
        for label, value in lines:
            prefix = ":warning: " if warn and label == blocker_label else ""
            out.append({"type": "mrkdwn", "text": f"*{label}*\n{prefix}{slack_escape(value)}"[:1900]})
        return out

    blocks: List[Dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": inert(title)[:150], "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{mention}*{_for_whom(rep, language)}*"}},
        *(
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(_moved(moved, language))}]}]
            if moved
            else []
        ),
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f":alarm_clock: {_promise_sentence(promise, language, now)}"},
        },
        {"type": "section", "fields": fields(describe.key_facts(lead, language))},
        {"type": "divider"},
        {"type": "section", "fields": fields(describe.other_facts(lead, language))},
    ]
    if transcript_url:
        link = f"<{transcript_url}|{text('card', 'transcript', language)}>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "lead_accept",
                    "style": "primary",
                    "value": lead["id"],
                    "text": {"type": "plain_text", "text": text("card", "accept", language)},
                },
                {
                    "type": "button",
                    "action_id": "lead_pass",
                    "value": lead["id"],
                    "text": {"type": "plain_text", "text": text("card", "pass", language)},
                },
            ],
        }
    )
    return {"text": slack_escape(title), "blocks": blocks}


def _runs(*parts: Any) -> Dict[str, Any]:
    """A RichTextBlock of TextRuns: ``(text, bold)`` pairs, never read as Markdown."""
    inlines = [
        {"type": "TextRun", "text": inert(value), **({"weight": "Bolder"} if bold else {})} for value, bold in parts
    ]
    return {"type": "RichTextBlock", "inlines": inlines}


def teams_card(
    lead: Mapping[str, Any],
    rep: Optional[Mapping[str, Any]],
    transcript_url: Optional[str],
    team: Optional[Mapping[str, Any]] = None,
    now: Optional[datetime] = None,
    promise: Optional[Promise] = None,
    moved: Optional[Tuple[str, str]] = None,
) -> Dict[str, Any]:
    """An incoming-webhook message carrying an Adaptive Card, for ``rep`` (or the team queue ``team``).

    ``promise``: the one the visitor was given, when the lead was offered to someone else first;
    ``moved``: why it comes now (``("expired" or "passed", the former owner's name)``).
    """
    now, language, tz = _setting(rep, team, now)
    promise = promise or card_promise(lead, rep, team, now)
    title = _runs((_heading(lead, language, tz), True))
    title["inlines"][0]["size"] = "Large"
    body: List[Dict[str, Any]] = [
        title,
        _runs((_for_whom(rep, language), True)),
        *([_runs((_moved(moved, language), False))] if moved else []),
        _runs(("⏰ " + _promise_sentence(promise, language, now), False)),
    ]
    blocker_label = text("field", "blockers", language)
    for label, value in describe.key_facts(lead, language):
        warn = "⚠ " if label == blocker_label and describe.blockers(lead, language) else ""
        body.append(_runs((f"{label}{colon(language)}", True), (warn + value, False)))
    others = [
        _runs((f"{label}{colon(language)}", True), (value, False))
        for label, value in describe.other_facts(lead, language)
    ]
    body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": others})
    card: Dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "lang": language,
        "body": body,
    }
    if transcript_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": text("card", "transcript", language), "url": transcript_url}
        ]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def crm_body(lead: Mapping[str, Any], note: Optional[Mapping[str, Any]] = None) -> bytes:
    """The lead as compact JSON (the contract, codes included) with a note in words; the bytes that are signed."""
    payload: Dict[str, Any] = {"event": "lead.handoff", "lead": lead}
    if note is not None:
        payload["note"] = note
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def crm_note(
    lead: Mapping[str, Any], rep: Optional[Mapping[str, Any]], team: Optional[Mapping[str, Any]] = None
) -> Dict[str, Any]:
    """The CRM note in the owner's language: title, the lead's title and the summary, plain text."""
    owner = _owner(rep, team)
    language = rep_language(owner)
    note = describe.note(lead, language)
    return {**note, "lead_title": lead_title(lead, language, owner.get("timezone")), "for": owner.get("name")}


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex>`` HMAC of the body, for the ``X-Lead-Signature`` header."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """Check a signature made by :func:`sign` (for CRM receivers and tests)."""
    return hmac.compare_digest(sign(body, secret), signature or "")
