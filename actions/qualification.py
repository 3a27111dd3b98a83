"""The qualification concept: which questions remain, the summary, the lead record."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from actions import catalog
from actions.conversation import STATED_INFORMATION
from actions.people import describe
from actions.resources import lexicon

#: The question whose latest answer was not understood (asked differently next time, then left).
MISSED_SLOT = "question_missed"
#: A question left without an answer: filled, so that the form moves on, but not a fact.
SKIPPED = ""

LEAD_FIELDS = (
    "need",
    "need_category",
    "interest_level",
    "interest_signals",
    "authority",
    "decision_maker",
    "allies",
    "blockers",
    "stakeholders",
    "benefits",
    "current_vendor",
    "timeline",
    "budget",
    "consent",
    "contact_name",
    "contact_email",
    "company",
    "job_title",
    "contact_phone",
)


def required_slots(slots: Dict[str, Any]) -> List[str]:
    """The questions of the qualification, in order, given what is known.

    The decision maker is asked for only when the visitor does not decide;
    where the visitor stands only when nothing they said showed it; contact
    details only when the visitor agreed to be contacted.
    """
    order = ["need", "authority"]
    if slots.get("authority") == "none":
        order.append("decision_maker")
    order += ["allies", "blockers", "benefits", "current_vendor"]
    if interest_unknown(slots) or slots.get("interest_stage") is not None:
        order.append("interest_stage")
    order.append("consent")
    if slots.get("consent"):
        order += ["contact_name", "contact_email", "company", "contact_phone"]
    order.append("summary_confirmed")
    return order


def interest_unknown(slots: Dict[str, Any]) -> bool:
    """Whether the interest level is still unknown or at its lowest without the visitor having said so."""
    level = slots.get("interest_level")
    if level is None:
        return True
    return level == "information" and STATED_INFORMATION not in (slots.get("interest_signals") or [])


def referral_slots(slots: Dict[str, Any]) -> List[str]:
    """The referral questions: whom the customer refers, then who the customer is (for the credit)."""
    identified = bool(slots.get("contact_email") and slots.get("contact_name")) or bool(slots.get("company"))
    return ["referrals"] if identified or slots.get("referrals") == [] else ["referrals", "referrer"]


#: Every question each form may ask, in order: its ``required_slots`` in ``domain.yml``.
FORM_QUESTIONS: Dict[str, List[str]] = {
    "qualification_form": required_slots({"authority": "none", "consent": True}),
    "referral_form": referral_slots({}),
}


def _text(value: Any) -> Optional[str]:
    """A text slot as the lead stores it: a question left unanswered is no value."""
    return value if isinstance(value, str) and value.strip() else None


def _join(items: List[str], language: Optional[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    word = {"fr": " et ", "pl": " i "}.get(language or "en", " and ")
    return ", ".join(items[:-1]) + word + items[-1]


def summary_text(slots: Dict[str, Any], language: Optional[str]) -> str:
    """What the assistant understood, one line per point, in the visitor's language."""
    lex = lexicon()
    label = lambda key: lex.label("summary", key, language)  # noqa: E731
    colon = " :" if language == "fr" else ":"  # French puts a space before the colon
    none = label("none")
    lines = []

    def line(key: str, value: str) -> None:
        lines.append(f"• {label(key)}{colon} {value}")

    category = catalog.category_label(slots.get("need_category"), language)
    line("need", (slots.get("need") or none) + (f" ({category})" if category else ""))
    if slots.get("interest_level"):
        line("stage", lex.label("interest", slots["interest_level"], language))
    role = lex.label("authority", slots.get("authority") or "unknown", language)
    decider = slots.get("decision_maker")
    if decider and decider != "unknown" and slots.get("authority") != "decision_maker":
        role += f"; {decider} — {label('decides')}"
    line("role", role)
    allies = [describe(p) for p in slots.get("allies") or []]
    line("allies", _join(allies, language) or label("none_people"))
    blockers = [
        describe(p) + (f" — {p['concern']}" if p.get("concern") else "") if describe(p) else (p.get("concern") or "")
        for p in slots.get("blockers") or []
    ]
    line("blockers", "; ".join(b for b in blockers if b) or label("none_blockers"))
    benefits = [catalog.benefit_label(b, language) for b in slots.get("benefits") or []]
    line("priorities", _join(benefits, language) or none)
    vendor = slots.get("current_vendor")
    line("vendor", label("none_vendor") if vendor == "none" else (vendor or none))
    if slots.get("consent"):
        line(
            "contact",
            ", ".join(
                x
                for x in (
                    slots.get("contact_name"),
                    slots.get("contact_email"),
                    slots.get("company"),
                    slots.get("contact_phone"),
                )
                if x
            ),
        )
    else:
        line("contact", label("no_contact"))
    return "\n".join(lines)


def lead_record(slots: Dict[str, Any], conversation_id: str, channel: Optional[str]) -> Dict[str, Any]:
    """The lead in the shape of the contract shared with reps and CRMs."""
    stakeholders = list(slots.get("stakeholders") or [])
    authority = slots.get("authority") or "unknown"
    return {
        "conversation_id": conversation_id,
        "channel": channel or "rest",
        "language": slots.get("language") or "en",
        "contact": {
            "name": _text(slots.get("contact_name")),
            "email": _text(slots.get("contact_email")),
            "phone": _text(slots.get("contact_phone")),
            "company": _text(slots.get("company")),
            "job_title": _text(slots.get("job_title")),
        },
        "need": {"summary": _text(slots.get("need")), "category": slots.get("need_category")},
        "interest": {"level": slots.get("interest_level"), "signals": list(slots.get("interest_signals") or [])},
        "authority": authority,
        "stakeholders": stakeholders,
        "benefits": list(slots.get("benefits") or []),
        "current_vendor": None if slots.get("current_vendor") == "none" else _text(slots.get("current_vendor")),
        "timeline": slots.get("timeline"),
        "budget": slots.get("budget"),
        "consent": bool(slots.get("consent")),
        "confirmed": bool(slots.get("summary_confirmed")),
    }
