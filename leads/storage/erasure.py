"""Erasure that sticks: everything about one person, by e-mail or phone, and a tombstone.

``erase()`` removes the person's leads (with their stakeholders, hand-off and
notifications), referrals naming them, buying-center entries naming them in
other leads, the conversations' tracker events (Rasa's ``events`` table, when
the tracker store shares the database), outbox entries (pending and rejected)
and notification payloads that mention them, and redacts other transcripts
and tracker events that mention them. It then records tombstones — salted
hashes of the address and of the erased conversations, never the values — so
that an outbox replay or an ongoing conversation cannot bring them back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Pattern, Set

from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.orm import Session, object_session

from common.tokens import erasure_salt
from leads.scoring import score
from leads.storage.db import engine, insert, session_scope
from leads.storage.models import Delivery, Erasure, Lead, Referral, Stakeholder, utcnow
from leads.storage.repository import lead_to_contract

logger = logging.getLogger(__name__)

REDACTED = "[erased]"
EVENTS_TABLE = "events"


def normalize(kind: str, value: str) -> str:
    """The comparable form: e-mails lower-case, phones their last nine digits, conversations as they are."""
    value = (value or "").strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return re.sub(r"\D", "", value)[-9:]
    return value


def digest(kind: str, value: str, salt: Optional[str] = None) -> str:
    """The tombstone of one value: a salted SHA-256, useless without the installation's salt."""
    material = f"{salt if salt is not None else erasure_salt()}\x00{kind}\x00{normalize(kind, value)}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def kind_of(identifier: str) -> str:
    """``email`` or ``phone``; ``ValueError`` for anything else."""
    identifier = (identifier or "").strip()
    if re.fullmatch(r"[^@\s]+@[^@\s]+", identifier):
        return "email"
    if len(re.sub(r"\D", "", identifier)) >= 6 and re.fullmatch(r"[+\d\s().\-/]+", identifier):
        return "phone"
    raise ValueError("Give an e-mail address or a phone number (at least six digits).")


def is_erased(session: Session, record: Dict[str, Any]) -> bool:
    """Whether the record's conversation, e-mail or phone was erased."""
    contact = record.get("contact") if isinstance(record.get("contact"), dict) else {}
    wanted = [("conversation", str(record.get("conversation_id") or ""))]
    for kind in ("email", "phone"):
        if isinstance(contact.get(kind), str) and normalize(kind, contact[kind]):
            wanted.append((kind, contact[kind]))
    digests = [digest(kind, value) for kind, value in wanted if value]
    found = session.execute(select(func.count()).select_from(Erasure).where(Erasure.digest.in_(digests))).scalar()
    return bool(found)


def _pattern(terms: Iterable[str], phones: Iterable[str]) -> Optional[Pattern[str]]:
    """One case-insensitive pattern for every way the person may appear in text."""
    parts = [re.escape(t) for t in sorted({t for t in terms if t and len(t) >= 3}, key=len, reverse=True)]
    for digits in {p for p in phones if len(p) >= 6}:  # the digits, whatever the separators typed
        parts.append(r"[\s.\-()/]*".join(re.escape(d) for d in digits))
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _redact(value: Any, pattern: Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, pattern) for k, v in value.items()}
    return value


def _mentions(text_value: str, pattern: Optional[Pattern[str]], conversations: Set[str]) -> bool:
    if pattern is not None and pattern.search(text_value):
        return True
    return any(c and c in text_value for c in conversations)


def _matching_leads(session: Session, kind: str, value: str) -> List[Lead]:
    if kind == "email":
        return list(session.execute(select(Lead).where(func.lower(Lead.contact_email) == value)).scalars())
    candidates = session.execute(select(Lead).where(Lead.contact_phone.is_not(None))).scalars()
    return [lead for lead in candidates if normalize("phone", lead.contact_phone or "") == value]


def _events_table(session: Session) -> bool:
    return inspect(session.get_bind()).has_table(EVENTS_TABLE)


def _erase_events(session: Session, conversations: Set[str], pattern: Optional[Pattern[str]]) -> Dict[str, int]:
    """Delete the erased conversations' tracker events; redact other events that mention the person."""
    counts = {"tracker events": 0, "tracker events redacted": 0}
    if not _events_table(session):
        return counts
    for conversation in conversations:
        counts["tracker events"] += session.execute(
            text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :sender"), {"sender": conversation}
        ).rowcount
    if pattern is None:
        return counts
    rows = session.execute(text(f"SELECT id, data FROM {EVENTS_TABLE}")).all()
    for row_id, data in rows:
        if not data:
            continue
        try:
            decoded = json.loads(data)
        except ValueError:
            continue
        plain = json.dumps(decoded, ensure_ascii=False)
        if pattern.search(plain):
            session.execute(
                text(f"UPDATE {EVENTS_TABLE} SET data = :data WHERE id = :id"),
                {"data": json.dumps(_redact(decoded, pattern)), "id": row_id},
            )
            counts["tracker events redacted"] += 1
    return counts


#: The leads' columns that may hold what a visitor typed about someone.
TEXT_COLUMNS = ("need_summary", "company", "job_title", "current_vendor", "timeline")
JSON_COLUMNS = ("interest_signals", "reasons", "risks")


def _redact_lead(lead: Lead, pattern: Pattern[str], counts: Dict[str, int]) -> None:
    """Redact another lead's transcript and texts that mention the person; recompute its score."""
    session = object_session(lead)
    session.refresh(lead)
    if pattern.search(json.dumps(lead.transcript or [], ensure_ascii=False)):
        lead.transcript = _redact(list(lead.transcript or []), pattern)
        counts["transcripts redacted"] += 1
    for column in TEXT_COLUMNS:
        value = getattr(lead, column)
        if value and pattern.search(value):
            setattr(lead, column, pattern.sub(REDACTED, value))
    points, status, reasons, risks = score(lead_to_contract(lead))  # without the erased stakeholders
    lead.score, lead.status, lead.reasons, lead.risks = points, status, reasons, risks
    for column in JSON_COLUMNS:
        value = getattr(lead, column)
        if value and pattern.search(json.dumps(value, ensure_ascii=False)):
            setattr(lead, column, _redact(list(value), pattern))


def _erase_files(folder: Path, pattern: Optional[Pattern[str]], conversations: Set[str]) -> int:
    """Delete outbox entries (pending and rejected) about the person."""
    removed = 0
    for path in list(folder.glob("*.json")) + list((folder / "rejected").glob("*.json")):
        try:
            content = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
        except (OSError, ValueError):
            content = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        if _mentions(content, pattern, conversations):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def erase(session: Session, identifier: str, outbox_dir: Optional[Path] = None) -> Dict[str, int]:
    """Erase everything about the person with this e-mail or phone; returns what was removed, by kind."""
    kind = kind_of(identifier)
    value = normalize(kind, identifier)
    leads = _matching_leads(session, kind, value)
    conversations = {lead.conversation_id for lead in leads}
    names = {lead.contact_name for lead in leads if lead.contact_name}
    emails = {value} if kind == "email" else set()
    emails |= {lead.contact_email.lower() for lead in leads if lead.contact_email}
    phones = {value} if kind == "phone" else set()
    phones |= {normalize("phone", lead.contact_phone) for lead in leads if lead.contact_phone}
    referrals = list(
        session.execute(select(Referral).where(func.lower(Referral.email).in_(emails))).scalars() if emails else []
    )
    names |= {r.name for r in referrals if r.name}
    pattern = _pattern(emails | names, phones)
    counts: Dict[str, int] = {"leads": len(leads), "referrals": len(referrals)}
    for referral in referrals:
        session.delete(referral)
    for lead in leads:
        session.delete(lead)
    session.flush()
    lowered = {n.lower() for n in names}
    counts["stakeholders"] = (
        session.execute(
            delete(Stakeholder)
            .where(func.lower(Stakeholder.name).in_(lowered))
            .execution_options(synchronize_session=False)
        ).rowcount
        if lowered
        else 0
    )
    counts["transcripts redacted"] = 0
    counts["notifications"] = 0
    if pattern is not None:
        for lead in session.execute(select(Lead)).scalars():
            _redact_lead(lead, pattern, counts)
        for delivery_id, body in session.execute(select(Delivery.id, Delivery.body)).all():
            if pattern.search(body or ""):
                session.execute(
                    delete(Delivery).where(Delivery.id == delivery_id).execution_options(synchronize_session=False)
                )
                counts["notifications"] += 1
    counts.update(_erase_events(session, conversations, pattern))
    if outbox_dir is not None and outbox_dir.exists():
        counts["outbox entries"] = _erase_files(outbox_dir, pattern, conversations)
    tombstones = [(kind, identifier)] + [("email", e) for e in emails] + [("phone", p) for p in phones]
    tombstones += [("conversation", c) for c in conversations]
    for tomb_kind, tomb_value in tombstones:
        session.execute(
            insert(session, Erasure)
            .values(digest=digest(tomb_kind, tomb_value), kind=tomb_kind, erased_at=utcnow())
            .on_conflict_do_nothing(index_elements=["digest"])
        )
    session.flush()
    return counts


def erase_everywhere(identifier: str, url: Optional[str] = None, outbox_dir: Optional[Path] = None) -> Dict[str, int]:
    """``erase()`` in one transaction, holding the outbox lock (no replay meanwhile), then ``compact()``."""
    from leads.storage.outbox import LeadWriter  # the outbox writes through this module's tombstones

    writer = LeadWriter(url, outbox_dir)
    with writer.locked():
        with session_scope(url) as session:
            counts = erase(session, identifier, writer.outbox)
    compact(engine(url))
    return counts


def compact(session_bind: Any) -> None:
    """On SQLite, push erased pages out of the write-ahead log and free pages (no copy stays on disk)."""
    if session_bind.dialect.name != "sqlite":
        return
    with session_bind.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.exec_driver_sql("VACUUM")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
