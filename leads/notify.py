"""The hand-off notification: Slack Block Kit, a Teams Adaptive Card, a signed CRM JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Dict, List, Mapping, Optional

SIGNATURE_HEADER = "X-Lead-Signature"


def _who(person: Mapping[str, Any]) -> str:
    name, role = person.get("name"), person.get("role")
    return f"{name} ({role})" if name and role else (name or role or "someone")


def summary_lines(lead: Mapping[str, Any]) -> List[tuple]:
    """(label, value) pairs every notification shows."""
    contact = lead.get("contact") or {}
    need = lead.get("need") or {}
    interest = lead.get("interest") or {}
    allies = [_who(p) for p in lead.get("stakeholders") or [] if p.get("stance") in ("influencer", "decision_maker")]
    saboteurs = [
        f"{_who(p)}: {p.get('concern') or 'concern not stated'}"
        for p in lead.get("stakeholders") or []
        if p.get("stance") == "saboteur"
    ]
    contact_text = (
        ", ".join(
            str(x)
            for x in (contact.get("name"), contact.get("email"), contact.get("phone"), contact.get("company"))
            if x
        )
        or "no contact details"
    )
    return [
        ("Need", f"{need.get('summary') or '—'}" + (f" ({need['category']})" if need.get("category") else "")),
        (
            "Interest",
            f"{interest.get('level') or '—'}"
            + (f" — {', '.join(interest.get('signals') or [])}" if interest.get("signals") else ""),
        ),
        ("Authority", lead.get("authority") or "unknown"),
        ("Allies", ", ".join(allies) or "none named"),
        ("Saboteurs", "; ".join(saboteurs) or "none named"),
        ("Benefits", ", ".join(lead.get("benefits") or []) or "—"),
        ("Current vendor", lead.get("current_vendor") or "—"),
        ("Contact", contact_text),
        ("Score", f"{lead.get('score')} ({lead.get('status')})"),
    ]


def slack_message(
    lead: Mapping[str, Any], rep: Optional[Mapping[str, Any]], transcript_url: Optional[str]
) -> Dict[str, Any]:
    """A Block Kit message with Accept and Pass buttons."""
    contact = lead.get("contact") or {}
    title = (
        f"New {lead.get('status')} lead: {contact.get('company') or contact.get('name') or lead.get('conversation_id')}"
    )
    mention = f"<@{rep['slack']['user_id']}> " if rep and (rep.get("slack") or {}).get("user_id") else ""
    fields = []
    for label, value in summary_lines(lead):
        prefix = ":warning: " if label == "Saboteurs" and value != "none named" else ""
        fields.append({"type": "mrkdwn", "text": f"*{label}*\n{prefix}{value}"[:1900]})
    blocks: List[Dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{mention}for {rep['name'] if rep else 'the sales team'}"},
        },
    ]
    for start in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    if transcript_url:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{transcript_url}|Read the conversation>"}]}
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "lead_accept",
                    "style": "primary",
                    "value": lead["id"],
                    "text": {"type": "plain_text", "text": "Accept"},
                },
                {
                    "type": "button",
                    "action_id": "lead_pass",
                    "value": lead["id"],
                    "text": {"type": "plain_text", "text": "Pass"},
                },
            ],
        }
    )
    return {"text": title, "blocks": blocks}


def teams_card(
    lead: Mapping[str, Any], rep: Optional[Mapping[str, Any]], transcript_url: Optional[str]
) -> Dict[str, Any]:
    """An incoming-webhook message carrying an Adaptive Card."""
    contact = lead.get("contact") or {}
    who = contact.get("company") or contact.get("name") or lead.get("conversation_id")
    facts = [
        {"title": label, "value": ("⚠ " if label == "Saboteurs" and value != "none named" else "") + value}
        for label, value in summary_lines(lead)
    ]
    body: List[Dict[str, Any]] = [
        {
            "type": "TextBlock",
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "text": f"New {lead.get('status')} lead: {who}",
        },
        {"type": "TextBlock", "wrap": True, "text": f"For {rep['name'] if rep else 'the sales team'}"},
        {"type": "FactSet", "facts": facts},
    ]
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    if transcript_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Read the conversation", "url": transcript_url}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def crm_body(lead: Mapping[str, Any]) -> bytes:
    """The lead as compact JSON, the bytes that are signed."""
    return json.dumps({"event": "lead.handoff", "lead": lead}, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex>`` HMAC of the body, for the ``X-Lead-Signature`` header."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """Check a signature made by :func:`sign` (for CRM receivers and tests)."""
    return hmac.compare_digest(sign(body, secret), signature or "")
