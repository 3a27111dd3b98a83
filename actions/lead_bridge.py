"""From a conversation to the lead pipeline: the lead record, its transcript, the hand-off.

The action server's only door to ``leads``: storage work runs in a thread so
that the conversation never waits on the database, and never fails because of it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.qualification import lead_record
from common.progress import contract_channel
from leads import pipeline, transcripts
from leads.routing import Route
from leads.storage.outbox import UNAVAILABLE

logger = logging.getLogger(__name__)


def channel_of(tracker: Tracker) -> str:
    """The contract's channel name for the tracker's input channel."""
    return contract_channel(tracker.get_latest_input_channel())


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """What the visitor, the bot and (in a live hand-off) the rep said, in order."""
    return transcripts.lines(tracker.events)


def has_substance(slots: Dict[str, Any]) -> bool:
    """Whether the conversation has yielded anything a rep can use."""
    keys = ("need", "contact_email", "contact_name", "company", "stakeholders", "authority", "referrals", "disqualify")
    return any(slots.get(k) for k in keys)


def record_for(tracker: Tracker, slots: Dict[str, Any], finished: bool) -> Dict[str, Any]:
    """The lead record of this conversation, from the given slot values."""
    record = lead_record(slots, tracker.sender_id, channel_of(tracker))
    record["finished"] = finished
    if slots.get("disqualify"):
        record["disqualify"] = slots["disqualify"]
    return record


async def save_progress(tracker: Tracker, slots: Dict[str, Any], finished: bool = False) -> Optional[str]:
    """Write the lead now; ``None`` when it waits in the outbox (it is not lost)."""
    if not has_substance(slots):
        return None
    record = record_for(tracker, slots, finished)
    referrals = slots.get("referrals") if slots.get("existing_customer") else None
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, pipeline.save, record, transcript(tracker), referrals)
    except Exception:  # the visitor's conversation goes on whatever happens to storage
        logger.exception("Could not record lead %s", tracker.sender_id)
        return None


async def hand_off(tracker: Tracker, force: bool = False, now: Optional[datetime] = None) -> Optional[Route]:
    """Route a qualified lead (or any lead when ``force``) to a rep and notify them at once."""
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, pipeline.hand_off, tracker.sender_id, now, force)
    except UNAVAILABLE:
        logger.warning("Hand-off of %s postponed: database unavailable", tracker.sender_id)
        return None
    except Exception:
        logger.exception("Hand-off of %s failed", tracker.sender_id)
        return None
