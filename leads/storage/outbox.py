"""Leads are never lost: writes that the database refuses wait in a local outbox.

Each pending write is a JSON file, written atomically (temporary file, fsync,
rename) under ``var/outbox/``; a conversation keeps only its latest pending
write. ``flush()`` replays them in order once the database answers again.

A write the database refuses for a reason other than being unreachable (a
value it cannot store) would block every later write if it stayed in line:
it moves to ``var/outbox/rejected/`` instead, kept for a person to look at.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from common import settings
from leads.storage.db import migrate, session_scope
from leads.storage.repository import save_lead, save_referrals

logger = logging.getLogger(__name__)

#: After a failed connection, writes go straight to the outbox for this long
#: (the periodic retry, or the first write after it, tries the database again).
RETRY_AFTER_SECONDS = 10.0
#: Errors that mean "the database cannot be reached now": the write waits.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, ConnectionError, OSError)


class LeadWriter:
    """Saves leads to the database, or to the outbox while it is unreachable."""

    def __init__(self, url: Optional[str] = None, outbox_dir: Optional[Path] = None) -> None:
        self.url = url
        self.outbox = Path(outbox_dir or settings.outbox_dir())
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.rejected = self.outbox / "rejected"
        self._lock = threading.Lock()
        self._migrated = False
        self._down_since: Optional[float] = None

    def _ensure_schema(self) -> None:
        if not self._migrated:
            migrate(self.url)
            self._migrated = True

    def _write(self, entry: Dict[str, Any]) -> str:
        self._ensure_schema()
        with session_scope(self.url) as session:
            lead = save_lead(session, entry["record"], entry.get("transcript"), entry.get("referred_by"))
            if entry.get("referrals") is not None:
                save_referrals(session, lead.id, entry["referrals"])
            return lead.id

    def _path(self, conversation_id: str) -> Path:
        digest = hashlib.sha1(conversation_id.encode("utf-8")).hexdigest()
        return self.outbox / f"{digest}.json"

    def _queue(self, entry: Dict[str, Any]) -> None:
        entry = {**entry, "queued_at": time.time()}
        path = self._path(str(entry["record"]["conversation_id"]))
        existing = self._read(path)
        if existing:
            entry["queued_at"] = existing.get("queued_at", entry["queued_at"])
        _write_durably(path, entry)

    def _reject(self, path: Path, entry: Dict[str, Any], error: Exception) -> None:
        """Set a write the database refuses aside, so that it blocks nothing and is not lost."""
        logger.error(
            "The database refused lead %s (%s); kept in %s",
            entry["record"].get("conversation_id"),
            type(error).__name__,
            self.rejected,
        )
        self.rejected.mkdir(exist_ok=True)
        _write_durably(
            self.rejected / f"{path.stem}-{int(time.time() * 1000)}.json",
            {**entry, "error": f"{type(error).__name__}: {error}"[:2000]},
        )
        path.unlink(missing_ok=True)

    @staticmethod
    def _read(path: Path) -> Optional[Dict[str, Any]]:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def has_pending(self) -> bool:
        """Whether any write waits in the outbox (one directory read, no file parsed)."""
        with os.scandir(self.outbox) as entries:
            return any(entry.name.endswith(".json") for entry in entries)

    def pending(self) -> List[Path]:
        """Queued writes, oldest first."""
        entries = [(self._read(p) or {}, p) for p in self.outbox.glob("*.json")]
        return [p for entry, p in sorted(entries, key=lambda e: e[0].get("queued_at", 0))]

    def save(
        self,
        record: Dict[str, Any],
        transcript: Optional[List[Dict[str, Any]]] = None,
        referrals: Optional[List[Dict[str, Any]]] = None,
        referred_by: Optional[str] = None,
    ) -> Optional[str]:
        """Write the lead; returns its id, or ``None`` when it waits in the outbox."""
        entry = {"record": record, "transcript": transcript, "referrals": referrals, "referred_by": referred_by}
        if not self._seems_down() and not self.has_pending():  # the usual case: straight to the database
            try:
                return self._write(entry)
            except UNAVAILABLE:
                self._down_since = time.monotonic()  # queued below, in order with anything queued meanwhile
            except Exception as error:  # refused for good: set aside, never dropped
                self._reject(self._path(str(record["conversation_id"])), entry, error)
                return None
        with self._lock:
            try:
                if self._seems_down():  # don't make every visitor wait for a connection timeout
                    raise OperationalError("database recently unreachable", None, Exception("outage"))
                self.flush()
                if self._path(str(record["conversation_id"])).exists():
                    raise OperationalError("outbox not empty", None, Exception("pending writes"))
                return self._write(entry)
            except UNAVAILABLE as error:
                if not self._seems_down():
                    self._down_since = time.monotonic()
                logger.warning(
                    "Database unavailable (%s); lead %s kept in the outbox",
                    type(error).__name__,
                    record.get("conversation_id"),
                )
                self._queue(entry)
                return None
            except Exception as error:  # refused for good: set aside, never dropped
                self._reject(self._path(str(record["conversation_id"])), entry, error)
                return None

    def flush(self) -> int:
        """Replay queued writes; returns how many reached the database."""
        written = 0
        for path in self.pending():
            entry = self._read(path)
            if entry is None:
                continue
            try:
                self._write(entry)
            except UNAVAILABLE:
                raise
            except Exception as error:
                self._reject(path, entry, error)
                continue
            path.unlink(missing_ok=True)
            written += 1
        return written

    def try_flush(self) -> int:
        """``flush()`` that reports instead of raising when the database is still down."""
        with self._lock:
            try:
                written = self.flush()
            except UNAVAILABLE:
                self._down_since = time.monotonic()
                return 0
            self._down_since = None
            return written

    def _seems_down(self) -> bool:
        """Whether the database failed less than ``RETRY_AFTER_SECONDS`` ago."""
        return self._down_since is not None and time.monotonic() - self._down_since < RETRY_AFTER_SECONDS


def _write_durably(path: Path, entry: Dict[str, Any]) -> None:
    """Write JSON atomically: a temporary file, fsync, rename, fsync of the folder."""
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(entry, handle, ensure_ascii=False, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
