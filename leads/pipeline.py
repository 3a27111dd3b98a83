"""The lead pipeline as the action server uses it: write a lead, hand it off, keep retrying.

Plain functions over lead records (the contract's shape): no Rasa types here.
Writes go through the outbox, so that a lead is never lost while the database
is unreachable; a background thread retries waiting writes, hand-offs and
notifications every ``LEADS_RETRY_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from functools import lru_cache
from typing import Any, Dict, List, Optional

from sqlalchemy import select

from common import settings
from leads.crm import sync as crm_sync
from leads.delivery import deliver_pending, enqueue_handoff, last_assignments
from leads.routing import Route, load_config, pick_rep
from leads.storage.db import session_scope
from leads.storage.models import Handoff, Lead
from leads.storage.outbox import UNAVAILABLE, LeadWriter
from leads.storage.repository import find_by_conversation, lead_to_contract

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def writer() -> LeadWriter:
    """The process's lead writer; starts the periodic retry of outbox and deliveries."""
    created = LeadWriter()
    threading.Thread(target=_retry_forever, args=(created,), name="lead-retries", daemon=True).start()
    return created


def _retry_forever(lead_writer: LeadWriter) -> None:
    stop = threading.Event()
    while not stop.wait(settings.retry_seconds()):
        try:
            lead_writer.try_flush()
            hand_off_waiting(lead_writer.url)
            crm_updates_waiting(lead_writer.url)
            deliver_pending(lead_writer.url)
        except UNAVAILABLE as error:
            logger.warning("Retry postponed: %s", type(error).__name__)
        except Exception:  # the retry loop must survive anything
            logger.exception("Retry failed")


def hand_off_waiting(url: Optional[str] = None) -> int:
    """Hand off qualified leads that reached the database late (through the outbox)."""
    config = load_config()
    with session_scope(url) as session:
        waiting = list(
            session.execute(
                select(Lead).outerjoin(Handoff).where(Lead.status == "qualified", Handoff.id.is_(None))
            ).scalars()
        )
        for lead in waiting:
            route = pick_rep(lead_to_contract(lead), None, last_assignments(session), config)
            enqueue_handoff(session, lead, route, config)
        return len(waiting)


def crm_updates_waiting(url: Optional[str] = None) -> int:
    """Queue CRM updates of handed-off leads that changed since their CRMs last had them."""
    with session_scope(url) as session:
        return crm_sync.queue_stale(session)


def save(
    record: Dict[str, Any], transcript: List[Dict[str, Any]], referrals: Optional[List[Dict[str, Any]]] = None
) -> Optional[str]:
    """Write a lead now; its id, or ``None`` when it waits in the outbox (it is not lost).

    A lead handed off already is sent again to the CRMs (in the background).
    """
    lead_id = writer().save(record, transcript, referrals=referrals)
    if lead_id:
        try:
            with session_scope(writer().url) as session:
                queued = crm_sync.queue_if_handed_off(session, lead_id)
        except Exception as error:  # the lead is saved; the retry job queues what this missed
            logger.warning("CRM update of lead %s postponed: %s", lead_id, type(error).__name__)
            queued = 0
        if queued:
            threading.Thread(target=_deliver_quietly, args=(lead_id,), daemon=True).start()
    return lead_id


def hand_off(conversation_id: str, now: Optional[datetime] = None, force: bool = False) -> Optional[Route]:
    """Route the conversation's lead to a rep and notify them in the background.

    Only a qualified lead is handed off, unless ``force`` (the visitor asked for a
    person). A lead assigned earlier keeps its rep. ``None`` when there is no lead.
    """
    config = load_config()
    with session_scope(writer().url) as session:
        lead = find_by_conversation(session, conversation_id)
        if lead is None or (lead.status != "qualified" and not force):
            return None
        route = pick_rep(lead_to_contract(lead), now, last_assignments(session), config)
        handoff = enqueue_handoff(session, lead, route, config)
        if handoff.rep_id != (route.rep or {}).get("id"):  # assigned earlier (or by the retry job)
            chosen = next((r for r in config.get("reps") or [] if r.get("id") == handoff.rep_id), None)
            route = Route(chosen, chosen is None, "Already assigned.", route.in_hours)
        lead_key = lead.id
    threading.Thread(target=_deliver_quietly, args=(lead_key,), daemon=True).start()
    return route


def _deliver_quietly(lead_id: str) -> None:
    try:
        deliver_pending(writer().url, lead_id=lead_id)
    except Exception:
        logger.exception("Delivery of lead %s postponed", lead_id)
