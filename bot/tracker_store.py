"""Rasa's SQL tracker store, reading only what is new in a conversation.

Rasa's ``SQLTrackerStore`` reads every event of a conversation on every
message, turns each row back into an event (looking its class up among all
event classes each time) and replays them; its trackers then work out the
events that still apply (``applied_events``) from the first event again at
every prediction, two or three times per prediction. All of that grows with
the conversation. Here:

- each Rasa process remembers the events it has read of the conversations it
  served last (``TRACKER_CACHE_CONVERSATIONS``, 64 by default) and reads only
  the rows added since; rows of the conversation removed (an erasure) or a new
  session make it read the conversation again in full, so several processes
  can share the database as before;
- the trackers it returns remember the applied events they worked out and only
  add the events that came after;
- reads and writes run in a thread of the store's own, so that the server goes on with
  other conversations while the database writes (Rasa's store holds up the
  whole server meanwhile), and SQLite connections are pooled rather than opened
  for every read and write;
- rows are read and written with SQLAlchemy Core statements, not as ORM
  objects (a sixth of the server's time per message went to the ORM).

Same table, same rows, same semantics as Rasa's store (the latest session's
events, by timestamp, in order of their ids):

    tracker_store:
      type: bot.tracker_store.IncrementalSQLTrackerStore
      dialect: sqlite      # and every other key of Rasa's ``type: SQL`` tracker store
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Set, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import QueuePool

from common import settings


class IncrementalTracker(DialogueStateTracker):
    """A tracker that works out its applied events once per event rather than once per call."""

    _applied_seen: int = 0  # events already gone through
    _applied_first: Optional[Event] = None  # the first and last of them, to notice a changed history
    _applied_last: Optional[Event] = None
    _applied_loops: frozenset = frozenset()
    _applied: Optional[List[Event]] = None

    def applied_events(self) -> List[Event]:
        """All events that still apply (see ``DialogueStateTracker.applied_events``), the same list.

        Rasa's method decides per event with the names of every loop of the
        conversation: while no new loop name comes up, the decisions taken for
        earlier events stay as they were, so only the events added since the last
        call are gone through.
        """
        events = list(self.events)
        loops = frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)
        if not self._can_continue(events, loops):
            self._applied, self._applied_seen = [], 0
        applied = self._applied if self._applied is not None else []
        for event in events[self._applied_seen :]:
            applied = self._apply(event, applied, loops)
        self._applied = applied
        self._applied_seen = len(events)
        self._applied_first = events[0] if events else None
        self._applied_last = events[-1] if events else None
        self._applied_loops = loops
        return list(applied)

    def _can_continue(self, events: List[Event], loops: frozenset) -> bool:
        """Whether the events gone through are still the start of the history, under the same loops."""
        seen = self._applied_seen
        return (
            self._applied is not None
            and 0 < seen <= len(events)
            and events[0] is self._applied_first
            and events[seen - 1] is self._applied_last
            and loops == self._applied_loops
        )

    def _apply(self, event: Event, applied: List[Event], loop_names: Set[Text]) -> List[Event]:
        """One step of Rasa's ``applied_events``: the applied events after ``event``."""
        if isinstance(event, (Restarted, SessionStarted)):
            return []
        if isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
        return applied


@dataclass
class _Read:
    """What a process has read of one conversation's latest session."""

    last_id: int  # the highest row id read
    rows_up_to_last: int  # rows of the conversation (every session) with an id up to ``last_id``
    session_start: Optional[float]  # timestamp of the latest session start, if any
    events: List[Event] = field(default_factory=list)


class IncrementalSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that reads each conversation's new rows only, and returns ``IncrementalTracker``s."""

    def __init__(self, *args: Any, cache_conversations: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        size = cache_conversations if cache_conversations is not None else settings.tracker_cache_conversations()
        self._cache_size = max(0, int(size))
        self._read: "OrderedDict[Text, _Read]" = OrderedDict()  # used by the store's thread only
        # One thread of its own: the database work of one message is a few milliseconds, and every
        # thread more costs the process memory (an allocation arena of its own).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-store")
        self._pool_sqlite_connections()

    def _pool_sqlite_connections(self) -> None:
        """A pool of connections to an SQLite file, usable from the store's thread."""
        url = self.engine.url
        if self.engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
            return
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def init_tracker(self, sender_id: Text) -> DialogueStateTracker:
        """A new conversation's tracker (an ``IncrementalTracker``)."""
        return IncrementalTracker(sender_id, self.domain.slots, max_event_history=self.max_event_history)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The tracker of the conversation's latest session, reading only rows not read before."""
        if self.domain is None:
            return await super().retrieve(sender_id)
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._retrieve_latest, sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Add the tracker's new events to the table (as Rasa's store does), in the store's thread."""
        await self.stream_events(tracker)
        await asyncio.get_running_loop().run_in_executor(self._worker, self._save_new_events, tracker)

    def _retrieve_latest(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        read = self._read.pop(sender_id, None)
        with self.session_scope() as session:
            read = self._read_on(session, sender_id, read) if read else None
            read = read or self._read_all(session, sender_id)
        if read is None:
            return None
        if self._cache_size:
            self._read[sender_id] = read
            while len(self._read) > self._cache_size:
                self._read.popitem(last=False)
        return IncrementalTracker.from_events(
            sender_id, read.events, self.domain.slots, max_event_history=self.max_event_history
        )

    def _save_new_events(self, tracker: DialogueStateTracker) -> None:
        """Insert the events the latest session does not hold yet (those after as many as it holds, as Rasa's store)."""
        table = self._events
        with self.session_scope() as session:
            stored = session.execute(
                sa.select(sa.func.count()).select_from(table).where(self._latest_session(tracker.sender_id))
            ).scalar()
            rows = []
            for event in itertools.islice(tracker.events, stored, None):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(table.insert(), rows)
            session.commit()

    @property
    def _events(self) -> sa.Table:
        """Rasa's ``events`` table (read and written with SQLAlchemy Core: no ORM objects per row)."""
        return self.SQLEvent.__table__

    def _latest_session(self, sender_id: Text) -> Any:
        """The condition on the rows of the conversation's latest session (Rasa's ``_event_query``)."""
        table = self._events
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sender_id, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        return sa.and_(
            table.c.sender_id == sender_id, sa.or_(table.c.timestamp >= session_start, session_start.is_(None))
        )

    def _rows(self, session: Any, condition: Any) -> List[Any]:
        """The rows (id, type, timestamp, data) that meet ``condition``, in the order of their ids."""
        table = self._events
        query = sa.select(table.c.id, table.c.type_name, table.c.timestamp, table.c.data).where(condition)
        return session.execute(query.order_by(table.c.id)).all()

    def _read_all(self, session: Any, sender_id: Text) -> Optional[_Read]:
        """Everything of the latest session, as Rasa's store reads it."""
        rows = self._rows(session, self._latest_session(sender_id))
        if not rows:
            return None
        last_id = max(row.id for row in rows)
        starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
        return _Read(
            last_id=last_id,
            rows_up_to_last=self._rows_up_to(session, sender_id, last_id),
            session_start=max(starts) if starts else None,
            events=deserialise_events(_event_dicts(row.data for row in rows)),
        )

    def _read_on(self, session: Any, sender_id: Text, read: _Read) -> Optional[_Read]:
        """``read`` with the rows added since, or None when it must be read again in full."""
        if self._rows_up_to(session, sender_id, read.last_id) != read.rows_up_to_last:
            return None  # rows were removed (erased conversation)
        table = self._events
        rows = self._rows(session, sa.and_(table.c.sender_id == sender_id, table.c.id > read.last_id))
        if not rows:
            return read
        if any(row.type_name == SessionStarted.type_name for row in rows):
            return None  # a new session: Rasa's own query decides where it starts
        fresh = _event_dicts(
            row.data
            for row in rows
            if read.session_start is None or (row.timestamp is not None and row.timestamp >= read.session_start)
        )
        return _Read(
            last_id=rows[-1].id,
            rows_up_to_last=read.rows_up_to_last + len(rows),
            session_start=read.session_start,
            events=read.events + deserialise_events(fresh),
        )

    def _rows_up_to(self, session: Any, sender_id: Text, last_id: int) -> int:
        table = self._events
        query = (
            sa.select(sa.func.count()).select_from(table).where(table.c.sender_id == sender_id, table.c.id <= last_id)
        )
        return int(session.execute(query).scalar() or 0)


#: Strings up to this length in the stored events (keys, names, ids) are shared between events.
SHARED_STRING_LENGTH = 64


def _shared_strings(value: dict) -> dict:
    return {
        sys.intern(key): sys.intern(item) if isinstance(item, str) and len(item) <= SHARED_STRING_LENGTH else item
        for key, item in value.items()
    }


def _event_dicts(rows: Iterable[Text]) -> List[dict]:
    """The events stored as JSON rows, as dicts whose keys and short strings are shared between events.

    The events a process keeps read repeat the same keys, slot, intent and
    action names and model ids over and over; one copy of each takes about a
    third less memory per conversation kept.
    """
    return json.loads("[" + ",".join(rows) + "]", object_hook=_shared_strings)
