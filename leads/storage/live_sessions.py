"""Live hand-off sessions: which rep talks to which web visitor, in which Slack thread."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import select

from leads.storage.db import session_scope
from leads.storage.models import Lead, LiveSession, utcnow


def open_session(url: Optional[str], lead_id: str, rep: str, user: str, thread: tuple) -> Optional[Dict[str, Any]]:
    """Record a new live session for a web lead; ``None`` when the lead is not a web one or one is open."""
    with session_scope(url) as session:
        lead = session.get(Lead, lead_id)
        if lead is None or lead.channel != "web":
            return None
        running = session.execute(
            select(LiveSession).where(LiveSession.lead_id == lead_id, LiveSession.ended_at.is_(None))
        ).scalar_one_or_none()
        if running is not None:
            return None
        session.add(
            LiveSession(
                lead_id=lead_id,
                conversation_id=lead.conversation_id,
                rep_name=rep[:200],
                slack_user=user[:64],
                channel=thread[0],
                thread_ts=thread[1],
                started_at=utcnow(),
            )
        )
        return {"conversation_id": lead.conversation_id, "language": lead.language}


def drop_open(url: Optional[str], lead_id: str) -> None:
    """Forget a session that could not start."""
    with session_scope(url) as session:
        for row in session.execute(
            select(LiveSession).where(LiveSession.lead_id == lead_id, LiveSession.ended_at.is_(None))
        ).scalars():
            session.delete(row)


def _row(row: LiveSession) -> Dict[str, Any]:
    return {
        "lead_id": row.lead_id,
        "conversation_id": row.conversation_id,
        "rep_name": row.rep_name,
        "slack_user": row.slack_user,
    }


def open_in_thread(url: Optional[str], channel: str, thread_ts: str) -> Optional[Dict[str, Any]]:
    """The session under way in this Slack thread, if any."""
    with session_scope(url) as session:
        row = session.execute(
            select(LiveSession).where(
                LiveSession.channel == channel, LiveSession.thread_ts == thread_ts, LiveSession.ended_at.is_(None)
            )
        ).scalar_one_or_none()
        return _row(row) if row else None


def open_of_lead(url: Optional[str], lead_id: str) -> Optional[Dict[str, Any]]:
    """The session under way for this lead, if any."""
    with session_scope(url) as session:
        row = session.execute(
            select(LiveSession).where(LiveSession.lead_id == lead_id, LiveSession.ended_at.is_(None))
        ).scalar_one_or_none()
        return _row(row) if row else None


def close(url: Optional[str], lead_id: str) -> None:
    """End the lead's session (the rep handed the conversation back)."""
    with session_scope(url) as session:
        for row in session.execute(
            select(LiveSession).where(LiveSession.lead_id == lead_id, LiveSession.ended_at.is_(None))
        ).scalars():
            row.ended_at = utcnow()


def store_transcript(url: Optional[str], conversation_id: str, lines: List[Dict[str, Any]]) -> None:
    """Replace the lead's transcript with the conversation's (never with an empty one)."""
    with session_scope(url) as session:
        lead = session.execute(select(Lead).where(Lead.conversation_id == conversation_id)).scalar_one_or_none()
        if lead is not None and lines:
            lead.transcript = lines
