"""Nobody left waiting: a hand-off not accepted in time goes to the next rep who matches, then to the team queue.

A rep has ``handoff.accept_within_minutes`` (reps file; 15 by default) to
accept a lead offered to them. When the time is up, or as soon as they pass,
the lead is offered to the next rep who matches it (routing's order: language,
segment, working hours, round robin), leaving out every rep who already had
it; when none is left (or none is at work), the team queue takes it, and the
queue keeps it. Each step is recorded (``handoff_steps``) and the new owner
gets the card through the usual deliveries.

Several processes may run the clock at once: an escalation is claimed with a
conditional update on the hand-off's ``offer_round``, so only one of them
takes each step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional

from sqlalchemy import or_, select, update

from leads.delivery import REP_TARGETS, deliver_pending, last_assignments, queue_notifications, record_step
from leads.promise import open_promise
from leads.routing import Route, load_config, matching_reps, pick_rep
from leads.storage.db import session_scope
from leads.storage.models import Delivery, Handoff, HandoffStep, Lead, utcnow
from leads.storage.repository import get_lead, lead_for_reps, lead_to_contract

logger = logging.getLogger(__name__)

DEFAULT_MINUTES = 15
#: A hand-off in these states still waits for its rep (``passed``: at once).
WAITING = ("pending", "notified", "passed")


def accept_within(config: Mapping[str, Any]) -> timedelta:
    """How long a rep has to accept a lead offered to them (``handoff.accept_within_minutes``)."""
    minutes = (config.get("handoff") or {}).get("accept_within_minutes", DEFAULT_MINUTES)
    try:
        minutes = float(minutes)
    except (TypeError, ValueError):
        logger.warning("handoff.accept_within_minutes is not a number; %s minutes apply.", DEFAULT_MINUTES)
        minutes = DEFAULT_MINUTES
    return timedelta(minutes=max(minutes, 1.0))


@dataclass
class Due:
    """A hand-off whose rep's time is up (or who passed), as read before the claim."""

    handoff_id: int
    lead_id: str
    offer_round: int
    status: str
    rep_id: str
    rep_name: Optional[str]
    offered_at: datetime


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def due_handoffs(url: Optional[str], now: datetime, config: Mapping[str, Any]) -> List[Due]:
    """Hand-offs offered to a rep who passed, or who has not accepted within the time."""
    cutoff = now - accept_within(config)
    with session_scope(url) as session:
        rows = session.execute(
            select(Handoff)
            .where(
                Handoff.rep_id.is_not(None),
                Handoff.offered_at.is_not(None),  # none: handed off before escalation existed
                Handoff.status.in_(WAITING),
                or_(Handoff.status == "passed", Handoff.offered_at <= cutoff),
            )
            .order_by(Handoff.id)
        ).scalars()
        return [Due(h.id, h.lead_id, h.offer_round, h.status, h.rep_id, h.rep_name, _utc(h.offered_at)) for h in rows]


def tried_reps(session: Any, lead_id: str) -> set:
    """The reps this lead was already offered to."""
    rows = session.execute(select(HandoffStep.rep_id).where(HandoffStep.lead_id == lead_id)).scalars()
    return {rep for rep in rows if rep}


def next_route(session: Any, lead: Lead, now: datetime, config: Dict[str, Any], tried: set) -> Route:
    """The next rep who matches the lead and has not had it, in routing's order; else the team queue."""
    contract = lead_to_contract(lead)
    segment = (contract.get("need") or {}).get("category")
    matching = matching_reps(list(config.get("reps") or []), contract.get("language"), segment)
    left = [rep for rep in matching if rep.get("id") not in tried]
    if not left:
        return Route(None, True, "Every rep who matches has had it: the team queue takes it.", False)
    return pick_rep(contract, now, last_assignments(session), {**config, "reps": left})


def escalate(url: Optional[str], due: Due, now: datetime, config: Dict[str, Any]) -> Optional[Route]:
    """Offer one hand-off to its next owner; ``None`` when another process (or a decision) got there first."""
    with session_scope(url) as session:
        lead = session.get(Lead, due.lead_id)
        if lead is None:
            return None
        route = next_route(session, lead, now, config, tried_reps(session, due.lead_id) | {due.rep_id})
    with session_scope(url) as session:  # the claim comes first in its transaction: one process wins
        claimed = session.execute(
            update(Handoff)
            .where(Handoff.id == due.handoff_id, Handoff.offer_round == due.offer_round, Handoff.status == due.status)
            .values(
                rep_id=(route.rep or {}).get("id"),
                rep_name=route.name,
                status="queued" if route.queue else "pending",
                offer_round=due.offer_round + 1,
                offered_at=now,
                notified_at=None,
                accepted_by=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        if due.status != "passed":
            expired_at = min(now, due.offered_at + accept_within(config))
            record_step(session, due.lead_id, "expired", expired_at, due.rep_name or "", due.rep_id)
        kind = "queued" if route.queue else "reoffered"
        record_step(session, due.lead_id, kind, now, route.name, (route.rep or {}).get("id"))
        session.execute(  # the cards still waiting for the former owner would offer the lead to the wrong rep
            update(Delivery)
            .where(Delivery.lead_id == due.lead_id, Delivery.target.in_(REP_TARGETS), Delivery.status == "pending")
            .values(status="superseded")
            .execution_options(synchronize_session=False)
        )
        lead = get_lead(session, due.lead_id)
        promise = open_promise(lead_for_reps(lead), config)  # what the visitor was told at the first offer
        moved = ("passed" if due.status == "passed" else "expired", due.rep_name or "")
        queue_notifications(session, lead, route, config, now, REP_TARGETS, promise, moved)
    logger.info("Lead %s offered next to %s.", due.lead_id, route.name)
    return route


def escalate_due(
    url: Optional[str] = None, now: Optional[datetime] = None, config: Optional[Dict[str, Any]] = None
) -> List[str]:
    """Take every due escalation step once; the ids of the leads that moved."""
    now = _utc(now or utcnow())
    config = config if config is not None else load_config()
    moved = []
    for due in due_handoffs(url, now, config):
        try:
            if escalate(url, due, now, config) is not None:
                moved.append(due.lead_id)
        except Exception:  # one broken lead must not stop the others
            logger.exception("Escalation of lead %s postponed", due.lead_id)
    return moved


def run_clock(url: Optional[str] = None, now: Optional[datetime] = None) -> List[str]:
    """One tick of the clock: escalate what is due, then send the new owners' cards."""
    moved = escalate_due(url, now)
    for lead_id in moved:
        deliver_pending(url, lead_id=lead_id)
    return moved
