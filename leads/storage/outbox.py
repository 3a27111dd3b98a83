"""Leads are never lost: writes that the database refuses wait in a local outbox.

Each pending write is a JSON file (0600), written atomically (temporary file,
fsync, rename) under ``var/outbox/``; a conversation keeps only its latest
pending write. ``flush()`` replays them in order once the database answers.

- Every write is checked first (types, sizes): one that fails goes straight to
  ``var/outbox/rejected/`` with the reason.
- A write the database refuses while it answers other queries (a value it
  cannot store) is tried again a few times, then set aside in ``rejected/``
  with the reason; it never holds back the writes behind it.
- Every process (action server, leads server, command line) takes the same
  file lock, ``var/outbox/.lock``: exclusive to replay or queue, shared for a
  direct write, so no write is deleted or replayed over a newer one.
- Writes about an erased person or conversation are dropped (the tombstones
  of ``erasure``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from contextlib import contextmanager, nullcontext
from functools import cached_property
from pathlib import Path
from typing import Any, ContextManager, Dict, Iterator, List, Optional

from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from common import settings
from common.secret_files import private_folder
from leads.storage.db import engine, migrate, session_scope
from leads.storage.erasure import is_erased
from leads.storage.repository import save_lead, save_referrals
from leads.storage.validation import InvalidLead, check_entry

logger = logging.getLogger(__name__)

#: After a failed connection, writes go straight to the outbox for this long
#: (the periodic retry, or the first write after it, tries the database again).
RETRY_AFTER_SECONDS = 10.0
#: Errors that may mean "the database cannot be reached now": the write waits.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, ConnectionError, OSError)
#: How often a write the reachable database refuses is tried before it is set aside.
MAX_TRIES = 3


class Unreachable(OperationalError):
    """The database does not answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, None, Exception(reason))


class LeadWriter:
    """Saves leads to the database, or to the outbox while it is unreachable."""

    def __init__(self, url: Optional[str] = None, outbox_dir: Optional[Path] = None) -> None:
        self.url = url
        self.outbox = private_folder(Path(outbox_dir or settings.outbox_dir()))
        self.rejected = self.outbox / "rejected"
        self._lock = threading.RLock()
        self._held = threading.local()  # how deeply this thread holds the exclusive lock
        self._migrated = False
        self._migrating = threading.Lock()
        self._down_since: Optional[float] = None

    # -- locking -----------------------------------------------------------
    @contextmanager
    def locked(self, shared: bool = False) -> Iterator[None]:
        """The outbox lock, shared by every process: exclusive to queue or replay, shared to write directly."""
        if getattr(self._held, "depth", 0):  # this thread holds it exclusively already
            yield
            return
        with self._lock if not shared else _nothing():
            descriptor = os.open(self.outbox / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                self._held.depth = 0 if shared else 1
                yield
            finally:
                self._held.depth = 0
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)

    # -- the database ------------------------------------------------------
    def _ensure_schema(self) -> None:
        if self._migrated:
            return
        with self._migrating:  # Alembic cannot migrate from several threads at once
            if not self._migrated:
                migrate(self.url)
                self._migrated = True

    @cached_property
    def _one_at_a_time(self) -> ContextManager[Any]:
        """On SQLite, this process's writes one after another (a lock; worked out at the first write).

        SQLite lets one writer in at a time; the others poll for the lock with
        growing sleeps, and a writer waiting for Python's GIL holds it meanwhile.
        Queueing the process's own writes behind a lock hands over at once
        (docs/benchmarks.md: "Less work per turn, continued"). PostgreSQL
        writes different leads side by side.
        """
        return threading.Lock() if engine(self.url).dialect.name == "sqlite" else nullcontext()

    def _write(self, entry: Dict[str, Any]) -> Optional[str]:
        self._ensure_schema()
        with self._one_at_a_time, session_scope(self.url) as session:
            if is_erased(session, entry["record"]):
                logger.info("Dropped a write about an erased person or conversation.")
                return None
            lead = save_lead(session, entry["record"], entry.get("transcript"), entry.get("referred_by"))
            if entry.get("referrals") is not None:
                save_referrals(session, lead.id, entry["referrals"])
            return lead.id

    def _reachable(self) -> bool:
        """Whether the database answers a trivial query (so a failed write was about the write)."""
        try:
            with engine(self.url).connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def _attempt(self, entry: Dict[str, Any]) -> Optional[str]:
        """Write once; ``Unreachable`` when the database is down, ``InvalidLead`` or the error when it refused."""
        try:
            return self._write(entry)
        except UNAVAILABLE as error:
            if not self._reachable():
                raise Unreachable(f"{type(error).__name__}") from error
            raise InvalidLead(f"{type(error).__name__}: {error}"[:2000]) from error
        except Exception as error:
            raise InvalidLead(f"{type(error).__name__}: {error}"[:2000]) from error

    # -- the outbox files --------------------------------------------------
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

    def _reject(self, path: Optional[Path], entry: Dict[str, Any], reason: str) -> None:
        """Set a write aside, with the reason, so that it blocks nothing and is not lost."""
        record = entry.get("record") if isinstance(entry.get("record"), dict) else {}
        logger.error("Lead %s set aside in %s: %s", str(record.get("conversation_id"))[:128], self.rejected, reason)
        private_folder(self.rejected)
        stem = path.stem if path else hashlib.sha1(json.dumps(entry, default=str).encode()).hexdigest()
        _write_durably(self.rejected / f"{stem}-{int(time.time() * 1000)}.json", {**entry, "error": reason[:2000]})
        if path is not None:
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

    # -- writing -----------------------------------------------------------
    def save(
        self,
        record: Dict[str, Any],
        transcript: Optional[List[Dict[str, Any]]] = None,
        referrals: Optional[List[Dict[str, Any]]] = None,
        referred_by: Optional[str] = None,
    ) -> Optional[str]:
        """Write the lead; returns its id, or ``None`` when it waits in the outbox (or was set aside)."""
        entry = {"record": record, "transcript": transcript, "referrals": referrals, "referred_by": referred_by}
        try:
            check_entry(record, transcript, referrals, referred_by)
        except InvalidLead as error:
            self._reject(None, entry, str(error))
            return None
        if not self._seems_down() and not self.has_pending():  # the usual case: straight to the database
            waiting = None
            with self.locked(shared=True):
                if not self.has_pending():  # else another write was queued meanwhile: the path below keeps the order
                    lead_id, waiting = self._save_now(entry)
                    if waiting is None:
                        return lead_id
            if waiting is not None:
                with self.locked():
                    self._queue(waiting)
                return None
        with self.locked():
            if self._seems_down():  # don't make every visitor wait for a connection timeout
                self._queue(entry)
                return None
            try:
                self.flush()
            except Unreachable:
                self._down_since = time.monotonic()
                self._queue(entry)
                return None
            if self._path(str(record["conversation_id"])).exists():  # an older write of it still waits
                self._queue(entry)
                return None
            lead_id, waiting = self._save_now(entry)
            if waiting is not None:
                self._queue(waiting)
            return lead_id

    def _save_now(self, entry: Dict[str, Any]) -> tuple:
        """``(lead id, None)``, or ``(None, the entry to queue)`` when the write must wait or be retried."""
        try:
            return self._attempt(entry), None
        except Unreachable as error:
            self._down_since = time.monotonic()
            logger.warning(
                "Database unavailable (%s); lead %s kept in the outbox", error, entry["record"].get("conversation_id")
            )
            return None, entry
        except InvalidLead as error:  # tried again by the next flush, then set aside
            logger.warning("The database refused lead %s: %s", entry["record"].get("conversation_id"), error)
            return None, {**entry, "tries": 1, "error": str(error)}

    def flush(self) -> int:
        """Replay queued writes, oldest first; returns how many reached the database.

        Raises ``Unreachable`` (leaving the rest in order) when the database is down.
        """
        written = 0
        with self.locked():
            for path in self.pending():
                entry = self._read(path)
                if entry is None:
                    continue
                try:
                    check_entry(entry.get("record"), entry.get("transcript"), entry.get("referrals"))
                except InvalidLead as error:  # never a question of the database: set aside at once
                    self._reject(path, entry, str(error))
                    continue
                try:
                    self._attempt(entry)
                except Unreachable:
                    raise
                except InvalidLead as error:
                    tries = int(entry.get("tries") or 0) + 1
                    if tries >= MAX_TRIES:
                        self._reject(path, entry, str(error))
                    else:
                        _write_durably(path, {**entry, "tries": tries, "error": str(error)})
                    continue
                path.unlink(missing_ok=True)
                written += 1
        return written

    def try_flush(self) -> int:
        """``flush()`` that reports instead of raising when the database is still down."""
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


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _write_durably(path: Path, entry: Dict[str, Any]) -> None:
    """Write JSON atomically (0600): a temporary file, fsync, rename, fsync of the folder."""
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(entry, handle, ensure_ascii=False, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
