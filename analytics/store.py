"""The statistics' tables, and recording one event exactly once.

Every event is identified by the SHA-256 of its canonical JSON (sender,
timestamp, type and content: Rasa never publishes two different events with
the same), so a message delivered twice (after a broker restart, or a consumer
that stopped before acknowledging) is counted once. An event and what it
changes are written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, create_engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from common import progress, settings

metadata = MetaData()

#: Every event counted, by its key.
events = Table(
    "analytics_events",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type", String(64), nullable=False),
    Column("timestamp", Float),
    Column("received_at", DateTime(timezone=True), server_default=func.now()),
)
#: One row per conversation: where it came from, its language, the question it is at (``None``: none open).
conversations = Table(
    "analytics_conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("channel", String(64)),
    Column("language", String(8)),
    Column("question", String(64)),
    Column("last_event", Float),
)
#: The questions (the form's ``requested_slot``) each conversation reached.
reached = Table(
    "analytics_questions_reached",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("question", String(64), primary_key=True),
)


def database_url() -> str:
    """``ANALYTICS_DATABASE_URL``, ``DATABASE_URL``, or ``var/analytics.db`` (SQLite)."""
    url = settings.analytics_database_url()
    if url:
        return url
    path: Path = settings.var_dir() / "analytics.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@lru_cache(maxsize=8)
def engine(url: Optional[str] = None) -> Engine:
    """The statistics' database, its tables created if missing."""
    created = create_engine(url or database_url(), future=True, pool_pre_ping=True)
    metadata.create_all(created)
    return created


def event_key(event: Dict[str, Any]) -> str:
    """The event's identity: the SHA-256 of its canonical JSON."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _insert(connection: Connection, table: Table):
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _text(value: Any, limit: int) -> Optional[str]:
    return str(value)[:limit] if value not in (None, "") else None


def record(connection: Connection, event: Dict[str, Any]) -> bool:
    """Count ``event`` and apply it to its conversation; ``False`` when it was counted before."""
    sender = _text(event.get("sender_id"), 255)
    kind = _text(event.get("event"), 64)
    if not sender or not kind:
        raise ValueError("not a Rasa event: no sender_id or event type")
    timestamp = event.get("timestamp") if isinstance(event.get("timestamp"), (int, float)) else None
    new = connection.execute(
        _insert(connection, events)
        .values(key=event_key(event), sender_id=sender, type=kind, timestamp=timestamp)
        .on_conflict_do_nothing()
    ).rowcount
    if not new:
        return False
    connection.execute(_insert(connection, conversations).values(sender_id=sender).on_conflict_do_nothing())
    changes: Dict[str, Any] = {"last_event": timestamp, **progress.changes(event)}
    if changes.get("question"):
        connection.execute(
            _insert(connection, reached).values(sender_id=sender, question=changes["question"]).on_conflict_do_nothing()
        )
    connection.execute(conversations.update().where(conversations.c.sender_id == sender).values(**changes))
    return True


def record_message(engine_: Engine, body: bytes) -> bool:
    """Decode one broker message and record it in its own transaction."""
    event = json.loads(body.decode("utf-8"))
    if not isinstance(event, dict):
        raise ValueError("not a Rasa event: not a JSON object")
    with engine_.begin() as connection:
        return record(connection, event)


@dataclass(frozen=True)
class QuestionFigures:
    """How many conversations reached a question, and how many were left there, for one language and channel."""

    question: str
    language: str
    channel: str
    reached: int
    left: int


def question_statistics(engine_: Engine) -> List[QuestionFigures]:
    """Per question, language and channel: conversations that reached it, and those still waiting on it."""
    language = func.coalesce(conversations.c.language, "?").label("language")
    channel = func.coalesce(conversations.c.channel, "?").label("channel")
    with engine_.connect() as connection:
        reached_rows = connection.execute(
            select(reached.c.question, language, channel, func.count())
            .select_from(reached.join(conversations, reached.c.sender_id == conversations.c.sender_id))
            .group_by(reached.c.question, language, channel)
        ).all()
        left_rows = connection.execute(
            select(conversations.c.question, language, channel, func.count())
            .where(conversations.c.question.isnot(None))
            .group_by(conversations.c.question, language, channel)
        ).all()
    left = {(q, lang, ch): n for q, lang, ch, n in left_rows}
    return sorted(
        (QuestionFigures(q, lang, ch, n, left.get((q, lang, ch), 0)) for q, lang, ch, n in reached_rows),
        key=lambda row: (row.question, row.language, row.channel),
    )


def totals(engine_: Engine) -> Dict[str, Any]:
    """Events and conversations counted, by event type, language and channel."""
    with engine_.connect() as connection:
        by_type = dict(connection.execute(select(events.c.type, func.count()).group_by(events.c.type)).all())
        by_language = dict(
            connection.execute(
                select(func.coalesce(conversations.c.language, "?"), func.count()).group_by(
                    func.coalesce(conversations.c.language, "?")
                )
            ).all()
        )
        by_channel = dict(
            connection.execute(
                select(func.coalesce(conversations.c.channel, "?"), func.count()).group_by(
                    func.coalesce(conversations.c.channel, "?")
                )
            ).all()
        )
    return {
        "events": sum(by_type.values()),
        "events_by_type": by_type,
        "conversations": sum(by_language.values()),
        "conversations_by_language": by_language,
        "conversations_by_channel": by_channel,
    }


def events_of(engine_: Engine, sender_id: str) -> int:
    """How many events of one conversation were counted."""
    with engine_.connect() as connection:
        return connection.execute(select(func.count()).where(events.c.sender_id == sender_id)).scalar_one()
