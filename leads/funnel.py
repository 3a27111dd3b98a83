"""The manager's funnel: what the assistant's conversations became, read from the lead database.

Pure functions over the database: the leads (with their hand-offs and buying
centers) and Rasa's ``events`` table, which ``make run`` keeps in the same
database (the SQL tracker store). The stages, each counted once per conversation:

- **conversations**: a conversation with at least one visitor message (or a lead);
- **engaged**: the visitor answered at least one qualification question (the
  lead holds a need, an interest, a role, a stakeholder, a benefit, a vendor or
  a contact detail);
- **partial**: some but not all of the three facts a qualification requires
  (need, interest, role in the decision);
- **qualified**: the lead's status is ``qualified`` (``leads/scoring.py``);
- **handed off**: the lead has a hand-off (to a rep or the team queue);
- **accepted**: a rep accepted it.

Where visitors leave is read from the events with :mod:`common.progress`, as
the statistics consumer reads them: the question still open when the
conversation went silent.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect, select
from sqlalchemy.orm import Session, selectinload

from common.progress import Progress, contract_channel
from leads.facts import short_concern
from leads.storage.models import Lead

STAGES = ("conversations", "engaged", "partial", "qualified", "handed_off", "accepted")
DIMENSIONS = ("week", "channel", "language", "rep")
#: How many needs, benefits and concerns the page lists.
TOP = 10

#: Rasa's SQL tracker store table, as far as the funnel reads it.
_events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("data", Text),
)


@dataclass(frozen=True)
class Conversation:
    """One conversation as the funnel counts it."""

    id: str
    week: str
    channel: str
    language: Optional[str]
    rep: Optional[str]
    stages: Tuple[str, ...]
    open_question: Optional[str] = None
    reached: Tuple[str, ...] = ()
    category: Optional[str] = None
    benefits: Tuple[str, ...] = ()
    concerns: Tuple[str, ...] = ()
    handoff_minutes: Optional[int] = None

    def value(self, dimension: str) -> Optional[str]:
        """The conversation's week, channel, language or rep."""
        return getattr(self, dimension)


@dataclass
class Figures:
    """Every figure of the funnel page, for one selection of conversations."""

    stages: Dict[str, int]
    groups: List[Tuple[Optional[str], Dict[str, int]]]
    questions: List[Tuple[str, int, int]]
    handoff: Dict[str, Optional[int]]
    needs: List[Tuple[str, int]]
    benefits: List[Tuple[str, int]]
    concerns: List[Tuple[str, int]]
    dimension: str = "week"
    options: Dict[str, List[str]] = field(default_factory=dict)


def iso_week(moment: datetime) -> str:
    """``2026-W48``: the ISO week of a moment (UTC)."""
    year, week, _ = moment.astimezone(timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> Optional[datetime]:
    """The Monday (UTC) of an ISO week written ``2026-W48``; ``None`` when it is not one."""
    try:
        return datetime.strptime(f"{week}-1", "%G-W%V-%u").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def _aware(moment: Optional[datetime]) -> Optional[datetime]:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def progress_by_conversation(session: Session) -> Dict[str, Progress]:
    """Each conversation's progress from the tracker store's events (none when the table is not there)."""
    if not inspect(session.get_bind()).has_table("events"):
        return {}
    found: Dict[str, Progress] = {}
    rows = session.execute(
        select(_events.c.sender_id, _events.c.data)
        .where(_events.c.type_name.in_(("user", "slot")))
        .order_by(_events.c.sender_id, _events.c.id)
    )
    for sender, data in rows:
        try:
            event = json.loads(data or "null")
        except ValueError:
            continue
        if isinstance(event, dict) and sender:
            found.setdefault(sender, Progress()).apply(event)
    return found


def _facts_given(lead: Lead) -> bool:
    """Whether the visitor answered at least one qualification question."""
    contact = (lead.contact_name, lead.contact_email, lead.contact_phone, lead.company)
    return bool(
        lead.need_summary
        or lead.interest_level
        or (lead.authority or "unknown") != "unknown"
        or lead.stakeholders
        or lead.benefits
        or lead.current_vendor
        or any(contact)
    )


def required_facts(lead: Lead) -> int:
    """How many of the three facts a qualification requires the lead holds: need, interest, role."""
    return sum(bool(f) for f in (lead.need_summary, lead.interest_level, (lead.authority or "unknown") != "unknown"))


def _minutes(start: Optional[datetime], end: Optional[datetime]) -> Optional[int]:
    start, end = _aware(start), _aware(end)
    if start is None or end is None or end < start:
        return None
    return int((end - start).total_seconds() // 60)


def _stages(lead: Optional[Lead]) -> Tuple[str, ...]:
    stages = ["conversations"]
    if lead is None:
        return tuple(stages)
    if _facts_given(lead):
        stages.append("engaged")
    if 0 < required_facts(lead) < 3:
        stages.append("partial")
    if lead.status == "qualified":
        stages.append("qualified")
    if lead.handoff is not None:
        stages.append("handed_off")
        if lead.handoff.status == "accepted":
            stages.append("accepted")
    return tuple(stages)


def _conversation(key: str, lead: Optional[Lead], progress: Optional[Progress]) -> Conversation:
    starts = [_aware(lead.created_at)] if lead is not None and lead.created_at else []
    if progress is not None and progress.started is not None:
        starts.append(datetime.fromtimestamp(progress.started, timezone.utc))
    started = min(starts) if starts else datetime.now(timezone.utc)
    handoff = lead.handoff if lead is not None else None
    stages = _stages(lead)
    blockers = [p for p in (lead.stakeholders if lead is not None else []) if p.stance == "saboteur"]
    concerns = tuple(c for c in (short_concern(p.concern) for p in blockers) if c)
    return Conversation(
        id=key,
        week=iso_week(started),
        channel=lead.channel if lead is not None else contract_channel(progress.channel if progress else None),
        language=lead.language if lead is not None else (progress.language if progress else None),
        rep=(handoff.rep_name or handoff.accepted_by) if handoff is not None else None,
        stages=stages,
        open_question=progress.question if progress else None,
        reached=tuple(progress.reached) if progress else (),
        category=lead.need_category if lead is not None and "engaged" in stages else None,
        benefits=tuple(str(b) for b in (lead.benefits or []) if b) if lead is not None else (),
        concerns=concerns,
        handoff_minutes=_minutes(handoff.created_at, handoff.accepted_at)
        if handoff is not None and handoff.status == "accepted"
        else None,
    )


def conversations(session: Session) -> List[Conversation]:
    """Every conversation with a visitor message or a lead, oldest week first."""
    progress = {k: p for k, p in progress_by_conversation(session).items() if p.messages}
    leads = {
        lead.conversation_id: lead
        for lead in session.execute(
            select(Lead).options(selectinload(Lead.handoff), selectinload(Lead.stakeholders))
        ).scalars()
    }
    found = [_conversation(key, leads.get(key), progress.get(key)) for key in sorted(set(progress) | set(leads))]
    return sorted(found, key=lambda c: (c.week, c.id))


def nearest_rank(values: Sequence[int], share: float) -> Optional[int]:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _count_stages(selected: Iterable[Conversation]) -> Dict[str, int]:
    counts = {stage: 0 for stage in STAGES}
    for conversation in selected:
        for stage in conversation.stages:
            counts[stage] += 1
    return counts


def _top(counter: Counter) -> List[Tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def select_conversations(all_: Sequence[Conversation], filters: Mapping[str, str]) -> List[Conversation]:
    """The conversations whose week, channel, language and rep are those ``filters`` names (any when absent)."""
    return [c for c in all_ if all(not filters.get(d) or c.value(d) == filters[d] for d in DIMENSIONS)]


def figures(all_: Sequence[Conversation], filters: Optional[Mapping[str, str]] = None, by: str = "week") -> Figures:
    """The funnel's figures for the conversations ``filters`` selects, grouped ``by`` one dimension."""
    filters = filters or {}
    by = by if by in DIMENSIONS else "week"
    selected = select_conversations(all_, filters)
    keys = sorted({c.value(by) for c in selected}, key=lambda k: (k is None, k or ""))
    groups = [(key, _count_stages(c for c in selected if c.value(by) == key)) for key in keys]
    left = Counter(c.open_question for c in selected if c.open_question)
    reached = Counter(q for c in selected for q in c.reached)
    questions = sorted(((q, left.get(q, 0), n) for q, n in reached.items()), key=lambda row: (-row[1], -row[2], row[0]))
    waits = [c.handoff_minutes for c in selected if c.handoff_minutes is not None]
    concerns: Counter = Counter()
    shown: Dict[str, str] = {}
    for concern in (text for c in selected for text in c.concerns):
        key = " ".join(concern.lower().split())
        shown.setdefault(key, concern)
        concerns[key] += 1
    return Figures(
        stages=_count_stages(selected),
        groups=groups,
        questions=questions,
        handoff={"accepted": len(waits), "median": nearest_rank(waits, 0.5), "p90": nearest_rank(waits, 0.9)},
        needs=_top(Counter(c.category for c in selected if c.category)),
        benefits=_top(Counter(b for c in selected for b in c.benefits)),
        concerns=[(shown[k], n) for k, n in _top(concerns)],
        dimension=by,
        options={d: sorted({c.value(d) for c in all_ if c.value(d)}) for d in DIMENSIONS},
    )
