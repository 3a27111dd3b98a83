"""The conversation's lead: written as the conversation goes, handed off when qualified."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from sqlalchemy import select

from actions.delivery import deliver_pending, enqueue_handoff, last_assignments
from actions.qualification import lead_record
from actions.routing import Route, load_config, pick_rep
from actions.storage.db import session_scope
from actions.storage.models import Handoff, Lead
from actions.storage.outbox import UNAVAILABLE, LeadWriter
from actions.storage.repository import find_by_conversation, lead_to_contract

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT = 400
RETRY_EVERY_SECONDS = float(os.environ.get("LEADS_RETRY_SECONDS", "30"))


@lru_cache(maxsize=1)
def writer() -> LeadWriter:
    """The process's lead writer; starts the periodic retry of outbox and deliveries."""
    created = LeadWriter()
    threading.Thread(target=_retry_forever, args=(created,), name="lead-retries", daemon=True).start()
    return created


def _retry_forever(lead_writer: LeadWriter) -> None:
    stop = threading.Event()
    while not stop.wait(RETRY_EVERY_SECONDS):
        try:
            lead_writer.try_flush()
            hand_off_waiting(lead_writer.url)
            deliver_pending(lead_writer.url)
        except UNAVAILABLE as error:
            logger.warning("Retry postponed: %s", type(error).__name__)
        except Exception:  # the retry loop must survive anything
            logger.exception("Retry failed")


def hand_off_waiting(url: Optional[str] = None) -> int:
    """Hand off qualified leads that reached the database late (through the outbox)."""
    config = load_config()
    with session_scope(url) as session:
        waiting = list(session.execute(select(Lead).outerjoin(Handoff)
                                       .where(Lead.status == "qualified", Handoff.id.is_(None))).scalars())
        for lead in waiting:
            enqueue_handoff(session, lead, pick_rep(lead_to_contract(lead), None, last_assignments(session), config),
                            config)
        return len(waiting)


def channel_of(tracker: Tracker) -> str:
    """The contract's channel name for the tracker's input channel."""
    name = (tracker.get_latest_input_channel() or "rest").lower()
    return {"socketio": "web", "slack": "slack", "botframework": "teams", "teams": "teams"}.get(name, "rest")


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """What the visitor and the bot said, in order."""
    lines = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("user", "bot") and (event.get("text") or "").strip():
            at = datetime.fromtimestamp(event.get("timestamp") or 0, tz=timezone.utc).isoformat().replace("+00:00", "Z")
            lines.append({"sender": "visitor" if kind == "user" else "bot", "text": event["text"][:4000], "at": at})
    return lines[-MAX_TRANSCRIPT:]


def has_substance(slots: Dict[str, Any]) -> bool:
    """Whether the conversation has yielded anything a rep can use."""
    return any(slots.get(k) for k in ("need", "contact_email", "contact_name", "company", "stakeholders",
                                      "authority", "referrals", "disqualify"))


def record_for(tracker: Tracker, slots: Dict[str, Any], finished: bool) -> Dict[str, Any]:
    """The lead record of this conversation, from the given slot values."""
    record = lead_record(slots, tracker.sender_id, channel_of(tracker))
    record["finished"] = finished
    if slots.get("disqualify"):
        record["disqualify"] = slots["disqualify"]
    return record


def _save_sync(record: Dict[str, Any], lines: List[Dict[str, Any]], referrals: Optional[List[Dict[str, Any]]]) -> Optional[str]:
    return writer().save(record, lines, referrals=referrals)


async def save_progress(tracker: Tracker, slots: Dict[str, Any], finished: bool = False) -> Optional[str]:
    """Write the lead now; ``None`` when it waits in the outbox (it is not lost)."""
    if not has_substance(slots):
        return None
    record = record_for(tracker, slots, finished)
    referrals = slots.get("referrals") if slots.get("existing_customer") else None
    try:
        return await asyncio.get_running_loop().run_in_executor(None, _save_sync, record, transcript(tracker), referrals)
    except Exception:  # the visitor's conversation goes on whatever happens to storage
        logger.exception("Could not record lead %s", tracker.sender_id)
        return None


def _hand_off_sync(conversation_id: str, now: Optional[datetime], force: bool) -> Tuple[Optional[Route], Dict[str, Any]]:
    config = load_config()
    with session_scope(writer().url) as session:
        lead = find_by_conversation(session, conversation_id)
        if lead is None or (lead.status != "qualified" and not force):
            return None, config
        route = pick_rep(lead_to_contract(lead), now, last_assignments(session), config)
        handoff = enqueue_handoff(session, lead, route, config)
        if handoff.rep_id != (route.rep or {}).get("id"):  # assigned earlier (or by the retry job)
            chosen = next((r for r in config.get("reps") or [] if r.get("id") == handoff.rep_id), None)
            route = Route(chosen, chosen is None, "Already assigned.", route.in_hours)
        lead_key = lead.id
    threading.Thread(target=_deliver_quietly, args=(lead_key,), daemon=True).start()
    return route, config


def _deliver_quietly(lead_id: str) -> None:
    try:
        deliver_pending(writer().url, lead_id=lead_id)
    except Exception:
        logger.exception("Delivery of lead %s postponed", lead_id)


async def hand_off(tracker: Tracker, force: bool = False, now: Optional[datetime] = None) -> Optional[Route]:
    """Route a qualified lead (or any lead when ``force``) to a rep and notify them at once."""
    try:
        route, _ = await asyncio.get_running_loop().run_in_executor(None, _hand_off_sync, tracker.sender_id, now, force)
        return route
    except UNAVAILABLE:
        logger.warning("Hand-off of %s postponed: database unavailable", tracker.sender_id)
        return None
    except Exception:
        logger.exception("Hand-off of %s failed", tracker.sender_id)
        return None
