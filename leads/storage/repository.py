"""Reading and writing leads in the shape of the contract (QUALIFICATION.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from leads.scoring import score
from leads.storage.db import insert
from leads.storage.models import Handoff, HandoffStep, Lead, Note, Referral, Stakeholder, new_id, utcnow
from leads.storage.validation import merge

CHANNELS = ("web", "slack", "teams", "rest")
#: A stakeholder's stored columns, besides its lead.
STAKEHOLDER_COLUMNS = ("position", "name", "role", "stance", "concern")


def _iso(moment: Optional[datetime]) -> Optional[str]:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _text(value: Any, limit: int) -> Optional[str]:
    if value is None or value == "":
        return None
    return str(value).replace("\x00", "")[:limit]


def _amount(value: Any) -> Optional[int]:
    """A budget amount the database can hold (a whole number below 2^31), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(round(value)) if 0 <= value < 2**31 else None


def _clean_json(value: Any) -> Any:
    """JSON without NUL characters (PostgreSQL refuses them in text)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    return value


def _row(record: Dict[str, Any], transcript: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
    contact = record.get("contact") or {}
    need = record.get("need") or {}
    interest = record.get("interest") or {}
    budget = record.get("budget") if isinstance(record.get("budget"), dict) else {}
    points, status, reasons, risks = score(record)
    channel = record.get("channel") if record.get("channel") in CHANNELS else "rest"
    row = {
        "conversation_id": str(record["conversation_id"])[:128],
        "channel": channel,
        "language": record.get("language") if record.get("language") in ("en", "fr", "pl") else "en",
        "contact_name": _text(contact.get("name"), 200),
        "contact_email": _text(contact.get("email"), 320),
        "contact_phone": _text(contact.get("phone"), 64),
        "company": _text(contact.get("company"), 200),
        "job_title": _text(contact.get("job_title"), 200),
        "need_summary": _text(need.get("summary"), 4000),
        "need_category": _text(need.get("category"), 64),
        "interest_level": _text(interest.get("level"), 16),
        "interest_signals": _clean_json(list(interest.get("signals") or [])),
        "authority": record.get("authority") or "unknown",
        "benefits": list(record.get("benefits") or []),
        "current_vendor": _text(record.get("current_vendor"), 200),
        "timeline": _text(record.get("timeline"), 200),
        "budget_amount": _amount(budget.get("amount")),
        "budget_currency": _text(budget.get("currency"), 3),
        "consent": bool(record.get("consent")),
        "confirmed": bool(record.get("confirmed")),
        "finished": bool(record.get("finished", True)),
        "disqualify": _text(record.get("disqualify"), 32),
        "score": points,
        "status": status,
        "reasons": reasons,
        "risks": risks,
        "updated_at": utcnow(),
    }
    if transcript is not None:
        row["transcript"] = _clean_json(list(transcript))
    return row


def save_lead(
    session: Session,
    record: Dict[str, Any],
    transcript: Optional[List[Dict[str, Any]]] = None,
    referred_by: Optional[str] = None,
) -> Lead:
    """Insert or update the lead of ``record['conversation_id']``: one lead per conversation.

    An update merges: what is stored stays when the new record has nothing for
    it (e.g. after a restart lost the conversation's memory). It changes only
    the columns and stakeholders that differ (a conversation's lead is written
    at every turn, mostly with one new fact and a longer transcript).
    """
    stored = session.execute(
        _query().where(Lead.conversation_id == str(record["conversation_id"])[:128])
    ).scalar_one_or_none()
    if stored is None:
        return _insert_lead(session, record, transcript, referred_by)
    record = merge(lead_to_contract(stored), record)
    row = _row(record, transcript or None)  # an empty transcript never replaces a stored one
    referred_by = referred_by or (None if stored.referred_by else _referrer_of(session, row))
    if referred_by:
        row["referred_by"] = referred_by
    for column, value in row.items():
        if getattr(stored, column) != value:
            setattr(stored, column, value)
    people = _stakeholders(record)
    if [_person(s) for s in stored.stakeholders] != [_person(s) for s in people]:
        session.execute(delete(Stakeholder).where(Stakeholder.lead_id == stored.id))
        session.expire(stored, ["stakeholders"])
        session.add_all(Stakeholder(lead_id=stored.id, **s) for s in people)
    session.flush()
    return stored


def _insert_lead(
    session: Session, record: Dict[str, Any], transcript: Optional[List[Dict[str, Any]]], referred_by: Optional[str]
) -> Lead:
    """The first write of a conversation's lead (an update if another writer inserted it meanwhile)."""
    row = _row(record, transcript)
    referred_by = referred_by or _referrer_of(session, row)
    if referred_by:
        row["referred_by"] = referred_by
    values = {**row, "id": new_id(), "created_at": utcnow(), "transcript": row.get("transcript", [])}
    statement = insert(session, Lead).values(**values)
    statement = statement.on_conflict_do_update(index_elements=["conversation_id"], set_=row)
    session.execute(statement)
    lead = session.execute(
        select(Lead).where(Lead.conversation_id == row["conversation_id"]).execution_options(populate_existing=True)
    ).scalar_one()
    session.execute(delete(Stakeholder).where(Stakeholder.lead_id == lead.id))
    session.add_all(Stakeholder(lead_id=lead.id, **s) for s in _stakeholders(record))
    session.flush()
    session.refresh(lead)
    return lead


def _stakeholders(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The record's stakeholders as the columns they are stored in (position, name, role, stance, concern)."""
    return [
        {
            "position": position,
            "name": _text(person.get("name"), 200),
            "role": _text(person.get("role"), 200),
            "stance": person.get("stance") or "unknown",
            "concern": _text(person.get("concern"), 2000),
        }
        for position, person in enumerate(record.get("stakeholders") or [])
    ]


def _person(person: Any) -> tuple:
    """A stakeholder (stored row or columns) as a comparable tuple."""
    if isinstance(person, dict):
        return tuple(person[key] for key in STAKEHOLDER_COLUMNS)
    return tuple(getattr(person, key) for key in STAKEHOLDER_COLUMNS)


def _referrer_of(session: Session, row: Dict[str, Any]) -> Optional[str]:
    """The lead of the customer who referred this person (same e-mail, or same name and company), if any."""
    email, name, company = row.get("contact_email"), row.get("contact_name"), row.get("company")
    conditions = []
    if email:
        conditions.append(func.lower(Referral.email) == email.lower())
    if name and company:
        conditions.append(
            (func.lower(Referral.name) == name.lower()) & (func.lower(Referral.company) == company.lower())
        )
    if not conditions:
        return None
    query = select(Referral.lead_id).join(Lead, Lead.id == Referral.lead_id)
    query = query.where(Lead.conversation_id != row["conversation_id"]).order_by(Referral.id)
    for condition in conditions:
        found = session.execute(query.where(condition).limit(1)).scalar_one_or_none()
        if found:
            return found
    return None


def _referrer_summary(lead: Lead) -> Optional[Dict[str, Any]]:
    """Who referred this lead: the referring customer's lead id, name, e-mail and company."""
    if not lead.referred_by:
        return None
    session = object_session(lead)
    referrer = session.get(Lead, lead.referred_by) if session is not None else None
    if referrer is None:
        return {"id": lead.referred_by, "name": None, "email": None, "company": None}
    return {
        "id": referrer.id,
        "name": referrer.contact_name,
        "email": referrer.contact_email,
        "company": referrer.company,
    }


def lead_to_contract(lead: Lead) -> Dict[str, Any]:
    """The lead as the contract's JSON."""
    handoff = lead.handoff
    return {
        "id": lead.id,
        "conversation_id": lead.conversation_id,
        "channel": lead.channel,
        "language": lead.language,
        "contact": {
            "name": lead.contact_name,
            "email": lead.contact_email,
            "phone": lead.contact_phone,
            "company": lead.company,
            "job_title": lead.job_title,
        },
        "need": {"summary": lead.need_summary, "category": lead.need_category},
        "interest": {"level": lead.interest_level, "signals": list(lead.interest_signals or [])},
        "authority": lead.authority,
        "stakeholders": [
            {"name": s.name, "role": s.role, "stance": s.stance, "concern": s.concern} for s in lead.stakeholders
        ],
        "benefits": list(lead.benefits or []),
        "current_vendor": lead.current_vendor,
        "timeline": lead.timeline,
        "budget": (
            {"amount": lead.budget_amount, "currency": lead.budget_currency} if lead.budget_amount is not None else None
        ),
        "referred_by": lead.referred_by,
        "referrer": _referrer_summary(lead),
        "consent": lead.consent,
        "score": lead.score,
        "status": lead.status,
        "reasons": list(lead.reasons or []),
        "risks": list(lead.risks or []),
        "handoff": (
            {
                "rep": handoff.rep_name,
                "status": handoff.status,
                "notified_at": _iso(handoff.notified_at),
                "accepted_at": _iso(handoff.accepted_at),
            }
            if handoff
            else None
        ),
        "created_at": _iso(lead.created_at),
        "updated_at": _iso(lead.updated_at),
    }


def _first_owner(lead: Lead) -> Optional[str]:
    """The rep id of the first offer (``None``: the team queue), whose promise the visitor was given."""
    first = next((step for step in lead.steps if step.kind in ("offered", "queued")), None)
    return first.rep_id if first is not None else (lead.handoff.rep_id if lead.handoff else None)


def lead_for_reps(lead: Lead) -> Dict[str, Any]:
    """The contract, with what the rep page shows besides: who holds the lead since when, who decided."""
    contract = lead_to_contract(lead)
    if lead.handoff is not None and contract["handoff"] is not None:
        contract["handoff"].update(
            rep_id=lead.handoff.rep_id,
            assigned_at=_iso(lead.handoff.created_at),
            accepted_by=lead.handoff.accepted_by,
            promised_by=_first_owner(lead),
        )
    return contract


def steps_of(session: Session, lead_id: str) -> List[Dict[str, Any]]:
    """The hand-off's history, oldest first: what happened, to or by whom, when."""
    rows = session.execute(
        select(HandoffStep).where(HandoffStep.lead_id == lead_id).order_by(HandoffStep.at, HandoffStep.id)
    ).scalars()
    return [{"kind": step.kind, "rep_id": step.rep_id, "rep": step.rep_name, "at": _iso(step.at)} for step in rows]


def referred_leads(session: Session, lead_id: str) -> List[Dict[str, Any]]:
    """The leads this one referred (their ``referred_by`` names it), newest first."""
    rows = session.execute(_query().where(Lead.referred_by == lead_id).order_by(Lead.created_at.desc())).scalars()
    return [lead_to_contract(row) for row in rows]


def _query():
    return select(Lead).options(selectinload(Lead.stakeholders), selectinload(Lead.handoff), selectinload(Lead.steps))


def get_lead(session: Session, lead_id: str) -> Optional[Lead]:
    """One lead by id."""
    return session.execute(_query().where(Lead.id == lead_id)).scalar_one_or_none()


def find_by_conversation(session: Session, conversation_id: str) -> Optional[Lead]:
    """The lead of one conversation."""
    return session.execute(_query().where(Lead.conversation_id == conversation_id)).scalar_one_or_none()


SORT_ORDERS = {
    "newest": (Lead.updated_at.desc(), Lead.id),
    "oldest": (Lead.updated_at.asc(), Lead.id),
    "score": (Lead.score.desc(), Lead.updated_at.desc(), Lead.id),
    "score_low": (Lead.score.asc(), Lead.updated_at.desc(), Lead.id),
}


@dataclass
class LeadPage:
    """One page of leads, how many match in all, and how many per status (the status filter aside)."""

    leads: List[Lead]
    total: int
    counts: Dict[str, int]
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(
    since: Optional[datetime] = None,
    until: Optional[datetime] = None,
    rep: Optional[str] = None,
    language: Optional[str] = None,
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    q: Optional[str] = None,
) -> List[Any]:
    """The WHERE conditions of every filter but the status."""
    found: List[Any] = []
    if since:
        found.append(Lead.updated_at >= since)
    if until:
        found.append(Lead.updated_at < until)
    if language:
        found.append(Lead.language == language)
    if channel:
        found.append(Lead.channel == channel)
    if conversation_id:
        found.append(Lead.conversation_id == conversation_id)
    if rep:
        found.append(
            Lead.id.in_(
                select(Handoff.lead_id).where(
                    (Handoff.rep_id == rep) | (Handoff.rep_name == rep) | (Handoff.accepted_by == rep)
                )
            )
        )
    if q and q.strip():
        pattern = _like(q.strip())
        found.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Lead.contact_name, Lead.company, Lead.contact_email)
                )
            )
        )
    return found


def list_leads(
    session: Session,
    status: Optional[str] = None,
    limit: int = 100,
    sort: str = "newest",
    offset: int = 0,
    **filters: Any,
) -> List[Lead]:
    """Leads, newest first unless ``sort`` says otherwise, filtered (see :func:`_conditions`)."""
    query = _query().where(*_conditions(**filters)).order_by(*SORT_ORDERS.get(sort, SORT_ORDERS["newest"]))
    if status:
        query = query.where(Lead.status == status)
    query = query.offset(max(0, offset)).limit(max(1, min(limit, 1000)))
    return list(session.execute(query).scalars())


def search_leads(
    session: Session, status: Optional[str] = None, page: int = 1, per_page: int = 25, sort: str = "newest", **filters
) -> LeadPage:
    """A page of leads for the rep page, with the total and the counts per status."""
    conditions = _conditions(**filters)
    counts = dict(session.execute(select(Lead.status, func.count()).where(*conditions).group_by(Lead.status)).all())
    total = counts.get(status, 0) if status else sum(counts.values())
    per_page = max(1, min(per_page, 200))
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    leads = list_leads(session, status, per_page, sort, (page - 1) * per_page, **filters)
    return LeadPage(leads, total, counts, page, per_page)


def add_note(session: Session, lead_id: str, author: str, text: str) -> Optional[Note]:
    """A rep's note on a lead; ``None`` when there is no such lead."""
    if session.get(Lead, lead_id) is None:
        return None
    note = Note(lead_id=lead_id, author=author[:200], text=text.replace("\x00", "")[:2000], created_at=utcnow())
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, lead_id: str) -> List[Dict[str, Any]]:
    """A lead's notes, oldest first."""
    rows = session.execute(select(Note).where(Note.lead_id == lead_id).order_by(Note.id)).scalars()
    return [{"author": n.author, "text": n.text, "at": _iso(n.created_at)} for n in rows]


def save_referrals(session: Session, lead_id: str, referrals: Iterable[Dict[str, Any]]) -> int:
    """Record the people an existing customer referred (replacing earlier ones of this lead)."""
    session.execute(delete(Referral).where(Referral.lead_id == lead_id))
    count = 0
    for person in referrals:
        session.add(
            Referral(
                lead_id=lead_id,
                name=_text(person.get("name"), 200),
                email=_text(person.get("email"), 320),
                company=_text(person.get("company"), 200),
                note=_text(person.get("note") or person.get("role"), 2000),
            )
        )
        count += 1
    session.flush()
    for person in referrals:
        email = _text(person.get("email"), 320)
        if email:
            session.execute(
                Lead.__table__.update()
                .where(func.lower(Lead.contact_email) == email.lower(), Lead.referred_by.is_(None), Lead.id != lead_id)
                .values(referred_by=lead_id)
            )
    return count
