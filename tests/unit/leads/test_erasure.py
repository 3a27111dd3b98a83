"""Erasure by e-mail or phone: every copy goes, and tombstones keep the person from coming back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from leads.storage.db import engine, session_scope
from leads.storage.erasure import REDACTED, digest, erase, erase_everywhere, kind_of
from leads.storage.models import Delivery, Erasure, Lead, Referral, Stakeholder
from leads.storage.outbox import LeadWriter
from leads.storage.repository import save_lead, save_referrals
from tests.samples import lead

EMAIL = "zofia.wrzosek@kwiatpol.example"
PHONE = "+48 601 222 333"
NAME = "Zofia Wrzosek"


def _person(conversation: str = "conv-zofia", **contact):
    details = {"name": NAME, "email": EMAIL, "phone": PHONE, "company": "Kwiatpol", "job_title": "CFO"}
    details.update(contact)
    return lead(conversation, contact=details)


def _events_table(url: str) -> None:
    """Rasa's own tracker-store table, as the SQL tracker store creates it in the lead database."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.SQLEvent.__table__.create(engine(url), checkfirst=True)


def _add_event(url: str, sender: str, data: dict) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    table = SQLTrackerStore.SQLEvent.__table__
    with engine(url).begin() as connection:
        connection.execute(table.insert().values(sender_id=sender, type_name="user", data=json.dumps(data)))


def _seed(url: str, outbox: Path) -> None:
    _events_table(url)
    with session_scope(url) as session:
        save_lead(session, _person(), transcript=[{"sender": "visitor", "text": f"I'm {NAME}, {EMAIL}"}])
        other = save_lead(
            session,
            lead(
                "conv-colleague",
                stakeholders=[{"name": NAME, "role": "CFO", "stance": "saboteur", "concern": "cost"}],
            ),
            transcript=[{"sender": "visitor", "text": f"Our CFO {NAME} ({EMAIL}, tel. 601-222-333) will object"}],
        )
        save_referrals(session, other.id, [{"name": NAME, "email": EMAIL.upper(), "company": "Kwiatpol"}])
        session.add(Delivery(lead_id=other.id, target="crm", url="http://x", body=f"referral {EMAIL}", headers={}))
    _add_event(url, "conv-zofia", {"event": "user", "text": f"my e-mail is {EMAIL}"})
    _add_event(url, "conv-colleague", {"event": "user", "text": f"ask {NAME} at {EMAIL}"})
    _add_event(url, "conv-colleague", {"event": "user", "text": "nothing personal"})
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / "rejected").mkdir(exist_ok=True)
    (outbox / "pending-zofia.json").write_text(json.dumps({"record": _person()}))
    (outbox / "rejected" / "zofia.json").write_text(json.dumps({"record": _person("conv-2"), "error": "x"}))
    (outbox / "someone-else.json").write_text(json.dumps({"record": lead("conv-other")}))


def test_erasing_by_email_removes_every_copy(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    _seed(db_url, outbox)
    with session_scope(db_url) as session:
        counts = erase(session, EMAIL.upper(), outbox)
    assert counts["leads"] == 1 and counts["referrals"] == 1 and counts["stakeholders"] == 1
    assert counts["transcripts redacted"] == 1 and counts["notifications"] == 1
    assert counts["tracker events"] == 1 and counts["tracker events redacted"] == 1
    assert counts["outbox entries"] == 2
    assert [p.name for p in outbox.glob("*.json")] == ["someone-else.json"]
    with session_scope(db_url) as session:
        assert session.execute(select(Lead.conversation_id)).scalars().all() == ["conv-colleague"]
        assert session.execute(select(func.count()).select_from(Referral)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Stakeholder)).scalar() == 0
        [colleague] = session.execute(select(Lead)).scalars().all()
        said = colleague.transcript[0]["text"]
        assert NAME not in json.dumps(colleague.risks)
        assert EMAIL not in said and NAME not in said and "601" not in said and REDACTED in said
        rows = session.execute(text("SELECT sender_id, data FROM events")).all()
        assert [r[0] for r in rows] == ["conv-colleague", "conv-colleague"]
        assert all(EMAIL not in r[1] and NAME not in r[1] for r in rows)
        kinds = set(session.execute(select(Erasure.kind)).scalars())
        assert kinds == {"email", "phone", "conversation"}
        stored = set(session.execute(select(Erasure.digest)).scalars())
    assert digest("email", EMAIL) in stored and all(EMAIL not in d for d in stored)


def test_a_replay_or_an_ongoing_conversation_does_not_bring_the_person_back(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    writer = LeadWriter(db_url, outbox)
    assert writer.save(_person()) is not None
    with session_scope(db_url) as session:
        erase(session, EMAIL, outbox)
    assert writer.save(_person()) is None  # a replay of the same write
    assert writer.save(lead("conv-zofia", contact={"name": None, "email": None})) is None  # the conversation goes on
    assert writer.save(_person("another-conversation")) is None  # a new conversation with the same address
    assert writer.save(lead("conv-someone")) is not None  # anyone else is stored as usual
    with session_scope(db_url) as session:
        assert session.execute(select(Lead.conversation_id)).scalars().all() == ["conv-someone"]


def test_erasing_by_phone_finds_leads_with_only_a_phone(db_url, tmp_path):
    with session_scope(db_url) as session:
        save_lead(session, _person(email=None, phone="601222333"))
    with session_scope(db_url) as session:
        assert erase(session, "+48 601-222-333", tmp_path)["leads"] == 1
        assert session.execute(select(func.count()).select_from(Lead)).scalar() == 0


def test_no_copy_stays_in_the_sqlite_file(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'leads.db'}"
    from leads.storage.db import migrate

    migrate(url)
    outbox = tmp_path / "outbox"
    _seed(url, outbox)
    erase_everywhere(EMAIL, url, outbox)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert EMAIL.encode() not in content and NAME.encode() not in content, path


def test_only_an_email_or_a_phone_can_be_erased():
    assert kind_of("a@b.example") == "email" and kind_of("+48 601 222 333") == "phone"
    for wrong in ("Zofia", "12", "", "'; DROP TABLE leads; --"):
        with pytest.raises(ValueError):
            kind_of(wrong)
