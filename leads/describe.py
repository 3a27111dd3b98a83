"""A lead in words, for people: the same phrases on the rep page, in the cards, the CRM note and the CSV.

Values are plain text (the visitor's words included): each place that shows
them escapes them for its own format.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from leads.facts import clean_need, short_concern
from leads.labels import colon, format_time, text, words

Line = Tuple[str, str]


def person(entry: Mapping[str, Any], language: Optional[str]) -> str:
    """``Maria Lopez (CEO)``, or whichever of the two is known."""
    name, role = entry.get("name"), entry.get("role")
    return f"{name} ({role})" if name and role else (name or role or text("word", "someone", language))


def need(lead: Mapping[str, Any], language: Optional[str]) -> str:
    """The need in short, with its category in words."""
    data = lead.get("need") or {}
    summary = clean_need(data.get("summary"))
    category = text("category", data.get("category"), language) if data.get("category") else ""
    if summary and category and category.lower() not in summary.lower():
        return f"{summary} ({category})"
    return summary or category or "—"


def authority(lead: Mapping[str, Any], language: Optional[str]) -> str:
    """The visitor's role in the decision, in words."""
    return text("authority", lead.get("authority") or "unknown", language)


def interest(lead: Mapping[str, Any], language: Optional[str]) -> str:
    """The interest stage in words."""
    level = (lead.get("interest") or {}).get("level")
    return text("interest", level, language) if level else "—"


def blockers(lead: Mapping[str, Any], language: Optional[str]) -> List[str]:
    """``Ben (IT contractor): security`` for each possible saboteur."""
    return [
        f"{person(p, language)}{colon(language)}"
        f"{short_concern(p.get('concern')) or text('word', 'concern_unknown', language)}"
        for p in lead.get("stakeholders") or []
        if p.get("stance") == "saboteur"
    ]


def allies(lead: Mapping[str, Any], language: Optional[str]) -> List[str]:
    """Who decides or supports, with their part: ``Maria Lopez (CEO), decides``."""
    return [
        f"{person(p, language)}, {text('stance', p.get('stance'), language)}"
        for p in lead.get("stakeholders") or []
        if p.get("stance") in ("decision_maker", "influencer")
    ]


def contact(lead: Mapping[str, Any], language: Optional[str]) -> str:
    """Name, e-mail, phone, job title and company on one line."""
    data = lead.get("contact") or {}
    parts = [data.get(k) for k in ("name", "job_title", "company", "email", "phone")]
    return ", ".join(str(p) for p in parts if p) or text("word", "no_contact", language)


def handoff(
    lead: Mapping[str, Any], language: Optional[str], tz: Optional[str] = None, shown_time: Optional[str] = None
) -> str:
    """``Sent to Ewa at 30 Nov 10:42, not accepted yet`` (``shown_time`` replaces the formatted time)."""
    data = lead.get("handoff") or {}
    state = data.get("status")
    if not state:
        return text("handoff", "none", language)
    by = data.get("accepted_by") or data.get("rep") or text("word", "someone", language)
    moment = data.get("accepted_at") if state == "accepted" else data.get("notified_at")
    shown = shown_time or format_time(moment, language, tz)
    return text("handoff", state, language, rep=data.get("rep") or "—", by=by, time=shown)


def budget(lead: Mapping[str, Any]) -> str:
    """``5000 EUR`` or a dash."""
    data = lead.get("budget") or {}
    return f"{data['amount']} {data.get('currency') or ''}".strip() if data.get("amount") is not None else "—"


def key_facts(lead: Mapping[str, Any], language: Optional[str]) -> List[Line]:
    """The three facts a rep reads first: need, role in the decision, who may push back."""
    return [
        (text("field", "need", language), need(lead, language)),
        (text("field", "authority", language), authority(lead, language)),
        (
            text("field", "blockers", language),
            "; ".join(blockers(lead, language)) or text("word", "none_named", language),
        ),
    ]


def other_facts(lead: Mapping[str, Any], language: Optional[str]) -> List[Line]:
    """The rest of the summary, after the key facts."""
    signals = ", ".join((lead.get("interest") or {}).get("signals") or [])
    return [
        (text("field", "interest", language), interest(lead, language) + (f" — {signals}" if signals else "")),
        (text("field", "allies", language), "; ".join(allies(lead, language)) or text("word", "none_named", language)),
        (text("field", "benefits", language), words("benefit", lead.get("benefits"), language)),
        (text("field", "vendor", language), lead.get("current_vendor") or "—"),
        (text("field", "contact", language), contact(lead, language)),
        (
            text("field", "score", language),
            f"{lead.get('score')} / 100 · {text('status', lead.get('status'), language)}",
        ),
    ]


def note(lead: Mapping[str, Any], language: Optional[str]) -> Dict[str, Any]:
    """The CRM note: a title and the summary in words, as plain text."""
    lines = key_facts(lead, language) + other_facts(lead, language)
    return {
        "language": language,
        "title": text("card", "crm_note", language),
        "text": "\n".join(f"{label}{colon(language)}{value}" for label, value in lines),
    }
