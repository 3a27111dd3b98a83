"""Keeping each CRM's record of a lead up to date: what to queue, how one delivery is sent, what reps see."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from leads.crm import CONNECTORS, enabled, mapping
from leads.crm.http import CrmError
from leads.routing import load_config
from leads.storage.db import insert
from leads.storage.models import CrmRecord, Delivery, Handoff, Lead, utcnow
from leads.storage.repository import lead_to_contract

#: What a CRM delivery sends is read from the lead when it is sent, so its body says only what it is.
BODY = '{"event":"lead.sync"}'


def _unchanged(session: Session, name: str, lead_id: str, contract: Dict[str, Any]) -> bool:
    """Whether the CRM holds this lead as it is now (then its record is marked as checked)."""
    record = session.execute(
        select(CrmRecord).where(CrmRecord.lead_id == lead_id, CrmRecord.crm == name)
    ).scalar_one_or_none()
    if record is None or not record.digest or not record.object_ids:
        return False
    try:
        same = mapping.digest(mapping.payload(name, contract, _lead_url(lead_id))) == record.digest
    except (ValueError, OSError):
        return False
    if same:
        record.updated_at = utcnow()
    return same


def queue(session: Session, lead_id: str) -> int:
    """Queue one update per CRM that is on, unless one is waiting already or the CRM has the lead
    as it is; how many were queued."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return 0
    waiting = set(
        session.execute(
            select(Delivery.target).where(Delivery.lead_id == lead_id, Delivery.status == "pending")
        ).scalars()
    )
    contract = lead_to_contract(lead)
    added = 0
    for name in enabled():
        if name in waiting or _unchanged(session, name, lead_id, contract):
            continue
        session.add(Delivery(lead_id=lead_id, target=name, url=CONNECTORS[name].base_url(), body=BODY, headers={}))
        added += 1
    session.flush()
    return added


def queue_if_handed_off(session: Session, lead_id: str) -> int:
    """After a lead changed: queue its CRM updates when it was handed off already."""
    if session.execute(select(Handoff.id).where(Handoff.lead_id == lead_id)).first() is None:
        return 0
    return queue(session, lead_id)


def queue_stale(session: Session) -> int:
    """Handed-off leads that changed since a CRM last had them (or that it never got): queue them."""
    stale: set = set()
    for name in enabled():
        record = and_(CrmRecord.lead_id == Lead.id, CrmRecord.crm == name)
        waiting = select(Delivery.id).where(
            Delivery.lead_id == Lead.id, Delivery.target == name, Delivery.status.in_(("pending", "sending"))
        )
        stale.update(
            session.execute(
                select(Lead.id)
                .join(Handoff, Handoff.lead_id == Lead.id)
                .outerjoin(CrmRecord, record)
                .where(~waiting.exists(), CrmRecord.id.is_(None) | (CrmRecord.updated_at < Lead.updated_at))
            ).scalars()
        )
    return sum(queue(session, lead_id) for lead_id in sorted(stale))


def _record(session: Session, lead_id: str, crm: str) -> CrmRecord:
    session.execute(
        insert(session, CrmRecord)
        .values(lead_id=lead_id, crm=crm, object_ids={}, created_at=utcnow(), updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["lead_id", "crm"])
    )
    return session.execute(
        select(CrmRecord)
        .where(CrmRecord.lead_id == lead_id, CrmRecord.crm == crm)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _lead_url(lead_id: str) -> Optional[str]:
    base = (load_config().get("transcript_base_url") or "").rstrip("/")
    return f"{base}/reps/leads/{lead_id}" if base else None


def send(session: Session, delivery: Delivery) -> Tuple[bool, Optional[int], Optional[str], Optional[float]]:
    """Send the lead as it is now to one CRM: ``(ok, HTTP status, error, seconds to wait before a retry)``.

    Ids of the objects the CRM made are kept even when a later step fails, so a
    retry updates them instead of making them again. A lead unchanged since the
    last send is not sent again.
    """
    connector = CONNECTORS.get(delivery.target)
    lead = session.get(Lead, delivery.lead_id)
    if connector is None or lead is None:
        return False, None, "no such CRM or lead", None
    if not connector.enabled():
        return False, None, f"{delivery.target} is not configured (its credentials are not set)", None
    try:
        data = mapping.payload(delivery.target, lead_to_contract(lead), _lead_url(lead.id))
    except (ValueError, OSError) as error:
        return False, None, f"CRM mapping: {error}"[:500], None
    record = _record(session, lead.id, delivery.target)
    fingerprint = mapping.digest(data)
    if record.digest == fingerprint and record.object_ids:
        record.updated_at = utcnow()
        return True, None, None, None
    ids: Dict[str, str] = dict(record.object_ids or {})
    try:
        connector.push(data, ids)
    except CrmError as error:
        return False, error.status, str(error)[:500], error.retry_after
    finally:
        record.object_ids = dict(ids)
    record.digest, record.updated_at = fingerprint, utcnow()
    return True, 200, None, None


def _iso(moment: Optional[datetime]) -> Optional[str]:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def states(session: Session, lead_id: str) -> List[Dict[str, Any]]:
    """Each CRM's latest delivery of a lead, for the rep page: state, attempts, last error, when."""
    latest = (
        select(Delivery.target, func.max(Delivery.id).label("id"))
        .where(Delivery.lead_id == lead_id, Delivery.target.in_(list(CONNECTORS)))
        .group_by(Delivery.target)
        .subquery()
    )
    rows = session.execute(select(Delivery).join(latest, Delivery.id == latest.c.id).order_by(Delivery.target))
    found = []
    for delivery in rows.scalars():
        record = session.execute(
            select(CrmRecord).where(CrmRecord.lead_id == lead_id, CrmRecord.crm == delivery.target)
        ).scalar_one_or_none()
        found.append(
            {
                "crm": delivery.target,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "last_error": delivery.last_error if delivery.status != "delivered" else None,
                "delivered_at": _iso(delivery.delivered_at),
                "next_attempt_at": _iso(delivery.next_attempt_at),
                "synced_at": _iso(record.updated_at) if record and record.digest else None,
            }
        )
    return found
