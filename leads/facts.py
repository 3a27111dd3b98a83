"""Short, faithful facts for reps: a blocker's concern, the need, a title for every lead.

The stored texts are the visitor's words, sometimes a whole message; these
functions cut them to what a rep reads first, never adding a word of their own.
The full message stays in the transcript.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from leads.labels import format_time, text

MAX_CONCERN_WORDS = 8
MAX_NEED_CHARS = 160

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|bonjour|bonsoir|salut|coucou|dzień dobry|dzien dobry|"
    r"cześć|czesc|witam|hej)\b[\s,!.:;-]*",
    re.IGNORECASE,
)
#: A sentence that only introduces the visitor or gives their contact details.
_INTRODUCTION = re.compile(
    r"^\s*(i'?m|i am|my name is|this is|je suis|je m'appelle|ici|nazywam się|jestem|mam na imię|"
    r"(you can )?(reach|contact|email|e-mail|write to) me|mon (e-?mail|adresse)|mój (e-?mail|adres)|"
    r"my (e-?mail|address|phone|number))\b",
    re.IGNORECASE,
)
#: Words after which a visitor states what worries a blocker: first the worry itself...
_WORRY_MARKERS = re.compile(
    r"\b(worried about|worries about|worry about|concerned about|concerns? about|afraid of|fears?|sceptical about|"
    r"skeptical about|nervous about|unhappy about|against|says? it'?s|thinks? it'?s|(will|'ll) say( it'?s)?|"
    r"inquiet (pour|de|du|des|sur)|inquiète (pour|de|du|des|sur)|s'inquiète (pour|de|du|des)|peur (de|du|des|que)|"
    r"craint|sceptique (sur|quant à|face à)|réticente? (à|sur)|contre|trouve (ça|que)|dit que|"
    r"martwi się( o)?|obawia się|boi się|obawy (co do|o)|sceptyczn\w* (co do|wobec)|przeciw|uważa, że|mówi, że)\b",
    re.IGNORECASE,
)
#: ...then its cause, when no worry is worded as such.
_CAUSE_MARKERS = re.compile(
    r"\b(because of|due to|because|à cause (de|du|des)|parce qu'|parce que|car|z powodu|bo|ponieważ|gdyż)\b",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(r"^(that|it'?s|its|que|qu'|ce|ça|że|to)\s+", re.IGNORECASE)
_CLAUSES = re.compile(r",\s+|\s+[-–—]\s+")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def _words(value: str, limit: int) -> str:
    parts = value.split()
    return " ".join(parts[:limit]) + ("…" if len(parts) > limit else "")


def _tidy(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" ,;:-–—.!?\"'«»„”")


def short_concern(concern: Optional[str]) -> Optional[str]:
    """What worries a blocker, as a short phrase in the visitor's words.

    "our IT lead Marcus Chen might push back because he's worried about data
    security" gives "data security"; a text that is already short stays as it is.
    """
    if not concern or not concern.strip():
        return None
    value = _tidy(_EMAIL.sub("", concern))
    if len(value.split()) <= 4:
        return value or None
    for markers in (_WORRY_MARKERS, _CAUSE_MARKERS):
        for match in reversed(list(markers.finditer(value))):
            after = re.split(r"[.;!?]|,\s*", _tidy(value[match.end() :]), maxsplit=1)[0]
            cause = _CAUSE_MARKERS.match(after)
            after = after[cause.end() :] if cause else after
            after = _tidy(_LEADING_FILLER.sub("", _tidy(after)))
            if len(after) >= 3:
                return _words(after, MAX_CONCERN_WORDS)
    clauses = [c for c in re.split(r"[,;.]\s*|\s+(?:but|mais|ale)\s+", value) if _tidy(c)]
    return _words(_tidy(clauses[-1]), MAX_CONCERN_WORDS) if clauses else None


def clean_need(summary: Optional[str]) -> Optional[str]:
    """The need without greetings, introductions, e-mail addresses, phone numbers or links."""
    if not summary or not summary.strip():
        return None
    kept = []
    for sentence in _SENTENCES.split(summary.replace("\n", " ")):
        sentence = _GREETING.sub("", sentence).strip()
        if not sentence or _INTRODUCTION.match(sentence):
            continue
        clauses = [c for c in _CLAUSES.split(sentence) if not (_EMAIL.search(c) or _URL.search(c) or _PHONE.search(c))]
        sentence = _tidy(", ".join(clauses))
        if len(sentence.split()) >= 2:
            kept.append(sentence[0].upper() + sentence[1:])
    need = ". ".join(kept)
    if not need:
        return None
    if len(need) > MAX_NEED_CHARS:
        need = need[:MAX_NEED_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return need


def lead_title(
    lead: Mapping[str, Any], language: Optional[str], tz: Optional[str] = None, shown_time: Optional[str] = None
) -> str:
    """Company, else the person's name, else "Visitor · web · FR · 30 Nov 10:42" (``shown_time`` for the time)."""
    contact = lead.get("contact") or {}
    for value in (contact.get("company"), contact.get("name")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return text(
        "page",
        "untitled_visitor",
        language,
        channel=text("channel", lead.get("channel") or "rest", language),
        lang_code=str(lead.get("language") or "en").upper(),
        time=shown_time or format_time(lead.get("created_at"), language, tz),
    )
