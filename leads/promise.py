"""What the visitor was promised when the lead was handed off, and by when a rep must act.

The assistant tells a visitor with an e-mail and consent either that the rep
it chose will get in touch today (the rep was in working hours), or, when the
team queue takes the lead, that the team will within one business day. The
deadline is the end of that working day, in the owner's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping, Optional

from leads.labels import format_duration, format_time, parse_time, text, zone
from leads.routing import DAYS

DEFAULT_HOURS = {"days": list(DAYS[:5]), "start": "09:00", "end": "17:00"}
OPEN_STATES = ("pending", "queued", "notified")


@dataclass
class Promise:
    """The promise to the visitor: ``today``, ``one_day`` or ``none``, and its deadline."""

    kind: str
    owner: str
    deadline: Optional[datetime]
    timezone: str


def _working_day(day: date, hours: Mapping[str, Any]) -> bool:
    return DAYS[day.weekday()] in (hours.get("days") or DEFAULT_HOURS["days"])


def _end_of(day: date, hours: Mapping[str, Any], tz: str) -> datetime:
    end = time.fromisoformat(str(hours.get("end") or DEFAULT_HOURS["end"]))
    return datetime.combine(day, end, tzinfo=zone(tz))


def _next_working_day(day: date, hours: Mapping[str, Any]) -> date:
    for step in range(1, 8):
        candidate = day + timedelta(days=step)
        if _working_day(candidate, hours):
            return candidate
    return day + timedelta(days=1)


def promise_for(lead: Mapping[str, Any], owner: Optional[Mapping[str, Any]], queue: bool, assigned_at: Any) -> Promise:
    """The promise made for ``lead`` handed to ``owner`` (a rep, or the team queue when ``queue``)."""
    owner = owner or {}
    name = owner.get("name") or "Sales team"
    tz = owner.get("timezone") or "UTC"
    contact = lead.get("contact") or {}
    start = parse_time(assigned_at)
    if not (lead.get("consent") and contact.get("email")) or start is None:
        return Promise("none", name, None, tz)
    hours = owner.get("working_hours") or DEFAULT_HOURS
    local = start.astimezone(zone(tz))
    today_end = _end_of(local.date(), hours, tz)
    if not queue and _working_day(local.date(), hours) and local < today_end:
        return Promise("today", name, today_end, tz)
    return Promise("one_day", name, _end_of(_next_working_day(local.date(), hours), hours, tz), tz)


def promise_text(promise: Promise, language: Optional[str]) -> str:
    """What was promised, in words."""
    return text("promise", promise.kind, language, rep=promise.owner)


def deadline_text(promise: Promise, language: Optional[str], tz: Optional[str] = None) -> str:
    """``by 30 Nov 18:00``, in ``tz`` (the owner's time zone when not given)."""
    return text("time", "by", language, time=format_time(promise.deadline, language, tz or promise.timezone))


def time_left(promise: Promise, now: datetime, language: Optional[str]) -> str:
    """``3 h 20 min left`` or ``overdue by 45 min``."""
    if promise.deadline is None:
        return ""
    seconds = (promise.deadline - (parse_time(now) or now)).total_seconds()
    key = "left" if seconds >= 0 else "overdue"
    return text("time", key, language, time=format_duration(seconds, language))


def open_promise(lead: Mapping[str, Any], config: Mapping[str, Any]) -> Optional[Promise]:
    """The promise of a lead still waiting for a rep (handed off, neither accepted nor passed), else ``None``.

    ``lead`` carries ``handoff.rep_id`` and ``handoff.assigned_at`` (the rep page's shape).
    The promise is the one the visitor was given at the first offer
    (``handoff.promised_by``); when the lead has moved on since (escalation),
    its deadline stays, and the current owner is named.
    """
    handoff = lead.get("handoff") or {}
    if handoff.get("status") not in OPEN_STATES:
        return None
    rep = _rep(config, handoff.get("rep_id"))
    owner = rep or config.get("team_queue") or {"name": handoff.get("rep") or "Sales team"}
    first_id = handoff.get("promised_by", handoff.get("rep_id"))
    if first_id == handoff.get("rep_id"):
        return promise_for(lead, owner, rep is None, handoff.get("assigned_at"))
    first = _rep(config, first_id)
    promised = promise_for(lead, first or config.get("team_queue") or owner, first is None, handoff.get("assigned_at"))
    return replace(promised, owner=str(owner.get("name") or handoff.get("rep") or "Sales team"))


def _rep(config: Mapping[str, Any], rep_id: Optional[str]) -> Optional[Mapping[str, Any]]:
    return next((r for r in config.get("reps") or [] if isinstance(r, dict) and r.get("id") == rep_id), None)
