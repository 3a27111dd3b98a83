"""Hand-off: record who gets the lead, queue its notifications, deliver them until they arrive."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import requests
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from common import settings
from leads import notify
from leads.crm import CONNECTORS as CRM_CONNECTORS
from leads.crm import sync as crm_sync
from leads.crm.http import retry_after
from leads.promise import Promise
from leads.routing import Route
from leads.storage.db import insert, session_scope
from leads.storage.models import Attempt, Delivery, Handoff, HandoffStep, Lead, utcnow
from leads.storage.repository import lead_to_contract

logger = logging.getLogger(__name__)

TIMEOUT = (3, 10)
MAX_BACKOFF = timedelta(hours=1)
REP_TARGETS = ("slack", "teams")
#: How long a process may take to send a delivery it claimed before another may try it.
CLAIM_SECONDS = 60


def last_assignments(session: Session) -> Dict[str, datetime]:
    """When each rep last got a lead (for round robin)."""
    offered = func.max(func.coalesce(Handoff.offered_at, Handoff.created_at))
    rows = session.execute(select(Handoff.rep_id, offered).group_by(Handoff.rep_id))
    return {rep: at if at.tzinfo else at.replace(tzinfo=timezone.utc) for rep, at in rows if rep}


def _targets(route: Route, config: Dict[str, Any]) -> List[tuple]:
    owner = route.rep or config.get("team_queue") or {}
    found = []
    if (owner.get("slack") or {}).get("webhook_url"):
        found.append(("slack", owner["slack"]["webhook_url"]))
    if (owner.get("teams") or {}).get("webhook_url"):
        found.append(("teams", owner["teams"]["webhook_url"]))
    if (config.get("crm") or {}).get("webhook_url"):
        found.append(("crm", config["crm"]["webhook_url"]))
    return found


def enqueue_handoff(
    session: Session, lead: Lead, route: Route, config: Dict[str, Any], now: Optional[datetime] = None
) -> Handoff:
    """Assign the lead (once) and queue one notification per configured target.

    ``now`` is the moment of the hand-off (the promise's deadline counts from it).

    Safe when two processes hand off the same lead at once: the first insert
    wins, and the other gets the existing hand-off without queueing anything.
    """
    at = now or utcnow()
    inserted = session.execute(
        insert(session, Handoff)
        .values(
            lead_id=lead.id,
            rep_id=(route.rep or {}).get("id"),
            rep_name=route.name,
            status="queued" if route.queue else "pending",
            created_at=at,
            offered_at=at,
        )
        .on_conflict_do_nothing(index_elements=["lead_id"])
    ).rowcount
    handoff = session.execute(
        select(Handoff).where(Handoff.lead_id == lead.id).execution_options(populate_existing=True)
    ).scalar_one()
    if not inserted:
        return handoff
    kind = "queued" if route.queue else "offered"
    record_step(session, lead.id, kind, handoff.created_at, route.name, (route.rep or {}).get("id"))
    queue_notifications(session, lead, route, config, handoff.created_at)
    crm_sync.queue(session, lead.id)
    session.flush()
    return handoff


def queue_notifications(
    session: Session,
    lead: Lead,
    route: Route,
    config: Dict[str, Any],
    at: datetime,
    targets: Optional[tuple] = None,
    promise: Optional[Promise] = None,
    moved: Optional[tuple] = None,
) -> int:
    """Queue the cards for the route's owner (and the CRM's note); ``targets`` limits which kinds. How many.

    For a lead offered to someone else first: ``promise`` is what the visitor was
    told, ``moved`` why it comes now (see ``notify.slack_message``).
    """
    session.refresh(lead)
    contract = lead_to_contract(lead)
    base = (config.get("transcript_base_url") or "").rstrip("/")
    transcript_url = f"{base}/reps/leads/{lead.id}" if base else None
    team = config.get("team_queue") or None
    queued = 0
    for target, url in _targets(route, config):
        if targets is not None and target not in targets:
            continue
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if target == "slack":
            message = notify.slack_message(contract, route.rep, transcript_url, team, at, promise, moved)
            body = json.dumps(message, ensure_ascii=False)
        elif target == "teams":
            card = notify.teams_card(contract, route.rep, transcript_url, team, at, promise, moved)
            body = json.dumps(card, ensure_ascii=False)
        else:
            raw = notify.crm_body(contract, notify.crm_note(contract, route.rep, team))
            secret = settings.secret((config.get("crm") or {}).get("secret_env") or "CRM_WEBHOOK_SECRET")
            if secret:
                headers[notify.SIGNATURE_HEADER] = notify.sign(raw, secret)
            body = raw.decode("utf-8")
        session.add(Delivery(lead_id=lead.id, target=target, url=url, body=body, headers=headers))
        queued += 1
    session.flush()
    return queued


def record_step(
    session: Session, lead_id: str, kind: str, at: datetime, name: str, rep_id: Optional[str] = None
) -> None:
    """One step of the hand-off's history: what happened, to or by whom (``name``; ``rep_id`` when a rep), when."""
    session.add(HandoffStep(lead_id=lead_id, kind=kind, rep_id=rep_id, rep_name=(name or "")[:200], at=at))


def _send(session: Session, delivery: Delivery) -> tuple:
    """``(ok, HTTP status, error, seconds the receiver asked to wait)`` of one try."""
    if delivery.target in CRM_CONNECTORS:
        return crm_sync.send(session, delivery)
    try:
        response = requests.post(
            delivery.url, data=delivery.body.encode("utf-8"), headers=delivery.headers, timeout=TIMEOUT
        )
        ok = 200 <= response.status_code < 300
        wait = retry_after(response.headers.get("Retry-After")) if response.status_code in (429, 503) else None
        return ok, response.status_code, None if ok else response.text[:500], wait
    except requests.RequestException as error:
        return False, None, f"{type(error).__name__}: {error}"[:500], None


def next_try(attempts: int, wait: Optional[float] = None) -> timedelta:
    """How long a failed delivery waits: what the receiver asked for (429 ``Retry-After``), else
    exponential backoff; never more than ``MAX_BACKOFF``."""
    if wait is not None:
        return min(timedelta(seconds=max(wait, 0.5)), MAX_BACKOFF)
    return min(timedelta(seconds=5 * 2**attempts), MAX_BACKOFF)


def _claim(url: Optional[str], delivery_id: int, now: datetime) -> bool:
    """Take one due delivery for this process, with a conditional update: only one process wins it.

    The claim is a lease: a process that dies while sending leaves the delivery
    due again after ``CLAIM_SECONDS``. A delivery waits while another one to the
    same target about the same lead is being sent (two updates of one CRM record
    never cross).
    """
    other = aliased(Delivery)
    busy = select(other.id).where(
        other.lead_id == Delivery.lead_id,
        other.target == Delivery.target,
        other.id != Delivery.id,
        other.status == "sending",
        other.next_attempt_at > now,
    )
    with session_scope(url) as session:
        claimed = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status.in_(("pending", "sending")),
                Delivery.next_attempt_at <= now,
                ~busy.exists(),
            )
            .values(status="sending", next_attempt_at=utcnow() + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        ).rowcount
    return claimed == 1


def deliver_pending(
    url: Optional[str] = None, now: Optional[datetime] = None, lead_id: Optional[str] = None
) -> Dict[str, int]:
    """Try every due delivery once; failures stay queued with exponential backoff.

    Each delivery is claimed before it is sent, so that two processes (the
    action server's retries and ``python -m leads retry``) never send it twice.
    """
    now = now or utcnow()
    with session_scope(url) as session:
        query = select(Delivery.id).where(Delivery.status.in_(("pending", "sending")), Delivery.next_attempt_at <= now)
        if lead_id:
            query = query.where(Delivery.lead_id == lead_id)
        due = list(session.execute(query.order_by(Delivery.id)).scalars())
    counts = {"delivered": 0, "failed": 0}
    for delivery_id in due:
        if not _claim(url, delivery_id, now):
            continue  # another process has it
        with session_scope(url) as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None or delivery.status != "sending":
                continue
            ok, status_code, error, wait = _send(session, delivery)
            delivery.attempts += 1
            delivery.last_status_code, delivery.last_error = status_code, error
            session.add(Attempt(delivery_id=delivery.id, ok=ok, status_code=status_code, error=error, at=utcnow()))
            if ok:
                delivery.status, delivery.delivered_at = "delivered", utcnow()
                handoff = session.execute(
                    select(Handoff).where(Handoff.lead_id == delivery.lead_id)
                ).scalar_one_or_none()
                if handoff and delivery.target in REP_TARGETS and handoff.notified_at is None:
                    handoff.notified_at = utcnow()
                    if handoff.status in ("pending", "queued"):
                        handoff.status = "notified"
                counts["delivered"] += 1
            else:
                delivery.status = "pending"
                delivery.next_attempt_at = utcnow() + next_try(delivery.attempts, wait)
                counts["failed"] += 1
                logger.warning(
                    "Delivery %s to %s failed (%s); will retry", delivery.id, delivery.target, error or status_code
                )
    return counts


def retry_now(url: Optional[str] = None) -> int:
    """Make every pending delivery due now; returns how many."""
    with session_scope(url) as session:
        pending = list(session.execute(select(Delivery).where(Delivery.status == "pending")).scalars())
        for delivery in pending:
            delivery.next_attempt_at = utcnow()
        return len(pending)


def accept(
    session: Session, lead_id: str, by: str, passed: bool = False, now: Optional[datetime] = None
) -> Optional[Handoff]:
    """A rep takes (or passes on) a lead; each decision is a step of the hand-off's history.

    The first Accept wins: once someone has accepted the lead, another rep's
    Accept or Pass changes nothing (it is recorded as a late step, and
    :func:`taken_by_other` tells the caller). The check is a conditional
    update, so two reps clicking at once cannot both win. Once the lead was
    offered to someone else (escalation), only its current owner's Pass moves
    it on; a former owner's is recorded and changes nothing.
    """
    by, now = by[:200], now or utcnow()
    handoff = session.execute(select(Handoff).where(Handoff.lead_id == lead_id)).scalar_one_or_none()
    if handoff is None:
        lead = session.get(Lead, lead_id)
        if lead is None:
            return None
        handoff = Handoff(lead_id=lead_id, status="pending", created_at=now, offered_at=now)
        session.add(handoff)
        session.flush()
    if passed and handoff.offer_round and handoff.status in ("pending", "notified") and handoff.rep_name != by:
        record_step(session, lead_id, "late_pass", now, by)  # a former owner's Pass: the lead has moved on
        session.flush()
        return handoff
    values: Dict[str, Any] = {"status": "passed" if passed else "accepted", "accepted_by": by}
    if not passed:
        values.update(accepted_at=now, rep_name=handoff.rep_name or by)
    decided = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, or_(Handoff.status != "accepted", Handoff.accepted_by == by))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    record_step(session, lead_id, ("passed" if passed else "accepted") if decided else "late", now, by)
    session.flush()
    return handoff


def taken_by_other(handoff: Optional[Handoff], by: str) -> Optional[str]:
    """Who accepted the lead when it was not ``by`` (their Accept or Pass came too late), else ``None``."""
    if handoff is None or handoff.status != "accepted" or handoff.accepted_by == by[:200]:
        return None
    return handoff.accepted_by
