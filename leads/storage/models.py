"""The lead record and what hangs off it, as database tables."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A fresh opaque id."""
    return uuid.uuid4().hex


class Lead(Base):
    """One conversation's result: the contract shared with reps and CRMs."""

    __tablename__ = "leads"
    id = Column(String(32), primary_key=True, default=new_id)
    conversation_id = Column(String(128), unique=True, nullable=False)
    channel = Column(String(16), nullable=False, default="rest")
    language = Column(String(2), nullable=False, default="en")
    contact_name = Column(String(200))
    contact_email = Column(String(320), index=True)
    contact_phone = Column(String(64))
    company = Column(String(200))
    job_title = Column(String(200))
    need_summary = Column(Text)
    need_category = Column(String(64))
    interest_level = Column(String(16))
    interest_signals = Column(JSON, nullable=False, default=list)
    authority = Column(String(16), nullable=False, default="unknown")
    benefits = Column(JSON, nullable=False, default=list)
    current_vendor = Column(String(200))
    timeline = Column(String(200))
    budget_amount = Column(Integer)
    budget_currency = Column(String(3))
    referred_by = Column(String(32), ForeignKey("leads.id", ondelete="SET NULL"))
    consent = Column(Boolean, nullable=False, default=False)
    confirmed = Column(Boolean, nullable=False, default=False)
    finished = Column(Boolean, nullable=False, default=False)
    disqualify = Column(String(32))
    score = Column(Integer, nullable=False, default=0)
    status = Column(String(16), nullable=False, default="partial", index=True)
    reasons = Column(JSON, nullable=False, default=list)
    risks = Column(JSON, nullable=False, default=list)
    transcript = Column(JSON, nullable=False, default=list)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)

    stakeholders = relationship(
        "Stakeholder", cascade="all, delete-orphan", order_by="Stakeholder.position", passive_deletes=True
    )
    handoff = relationship("Handoff", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
    deliveries = relationship("Delivery", cascade="all, delete-orphan", passive_deletes=True)
    notes = relationship("Note", cascade="all, delete-orphan", order_by="Note.id", passive_deletes=True)
    steps = relationship("HandoffStep", cascade="all, delete-orphan", order_by="HandoffStep.id", passive_deletes=True)


class Stakeholder(Base):
    """Someone in the buying center: decision maker, ally or saboteur."""

    __tablename__ = "stakeholders"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(200))
    role = Column(String(200))
    stance = Column(String(16), nullable=False, default="unknown")
    concern = Column(Text)


class Handoff(Base):
    """Which rep (or the team queue) got the lead, and what they did with it."""

    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, unique=True)
    rep_id = Column(String(64))
    rep_name = Column(String(200))
    status = Column(String(16), nullable=False, default="pending")
    notified_at = Column(DateTime(timezone=True))
    accepted_at = Column(DateTime(timezone=True))
    accepted_by = Column(String(200))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    #: How many times the lead was offered to someone else after the first offer (the escalation's claim).
    offer_round = Column(Integer, nullable=False, default=0, server_default="0")
    #: When the current owner was offered the lead (the acceptance time counts from it; none before escalation).
    offered_at = Column(DateTime(timezone=True))


class HandoffStep(Base):
    """One step of a hand-off: offered, queued, expired, passed, re-offered, accepted, or a late accept."""

    __tablename__ = "handoff_steps"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    rep_id = Column(String(64))
    rep_name = Column(String(200))
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class LiveSession(Base):
    """A rep talking live with a web visitor through the Slack thread of the lead's card."""

    __tablename__ = "live_sessions"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False)
    rep_name = Column(String(200), nullable=False)
    slack_user = Column(String(64), nullable=False)
    channel = Column(String(64), nullable=False)
    thread_ts = Column(String(64), nullable=False)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    ended_at = Column(DateTime(timezone=True))
    __table_args__ = (Index("ix_live_sessions_thread", "channel", "thread_ts"),)


class Note(Base):
    """A rep's note on a lead, kept with who wrote it and when."""

    __tablename__ = "lead_notes"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Delivery(Base):
    """One notification to send (Slack, Teams, CRM); kept until delivered."""

    __tablename__ = "deliveries"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    target = Column(String(16), nullable=False)
    url = Column(Text, nullable=False)
    body = Column(Text, nullable=False)
    headers = Column(JSON, nullable=False, default=dict)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    last_status_code = Column(Integer)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    attempt_log = relationship("Attempt", cascade="all, delete-orphan", order_by="Attempt.id", passive_deletes=True)


class Attempt(Base):
    """Every try at a delivery, successful or not."""

    __tablename__ = "delivery_attempts"
    id = Column(Integer, primary_key=True, autoincrement=True)
    delivery_id = Column(Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    ok = Column(Boolean, nullable=False)
    status_code = Column(Integer)
    error = Column(Text)


class Referral(Base):
    """Someone an existing customer pointed us to."""

    __tablename__ = "referrals"
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(200))
    email = Column(String(320), index=True)
    company = Column(String(200))
    note = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Erasure(Base):
    """A tombstone: the salted hash of an erased e-mail, phone or conversation (never the value itself)."""

    __tablename__ = "erasures"
    digest = Column(String(64), primary_key=True)
    kind = Column(String(16), nullable=False)
    erased_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CrmRecord(Base):
    """The objects one CRM holds for a lead (its own ids), so that later changes update them."""

    __tablename__ = "crm_records"
    __table_args__ = (UniqueConstraint("lead_id", "crm", name="uq_crm_records_lead_crm"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    lead_id = Column(String(32), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    crm = Column(String(16), nullable=False)
    object_ids = Column(JSON, nullable=False, default=dict)
    #: A digest of what was last sent: an unchanged lead is not sent again.
    digest = Column(String(64))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
