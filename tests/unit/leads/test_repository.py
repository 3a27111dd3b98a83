"""Leads in SQLite and PostgreSQL: one per conversation, in the contract's shape."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from leads.storage.db import session_scope
from leads.storage.erasure import erase
from leads.storage.models import Lead, Referral, Stakeholder
from leads.storage.repository import (
    find_by_conversation,
    get_lead,
    lead_to_contract,
    list_leads,
    save_lead,
    save_referrals,
)
from tests.samples import lead

CONTRACT_FIELDS = {
    "id",
    "conversation_id",
    "channel",
    "language",
    "contact",
    "need",
    "interest",
    "authority",
    "stakeholders",
    "benefits",
    "current_vendor",
    "timeline",
    "budget",
    "referred_by",
    "consent",
    "score",
    "status",
    "reasons",
    "handoff",
    "created_at",
    "updated_at",
}


def count(url, model=Lead) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_saving_twice_updates_the_same_lead(db_url):
    with session_scope(db_url) as session:
        first = save_lead(session, lead(finished=False, contact={"email": None})).id
    with session_scope(db_url) as session:
        second = save_lead(session, lead(), transcript=[{"sender": "visitor", "text": "hi"}]).id
    assert first == second
    assert count(db_url) == 1
    assert count(db_url, Stakeholder) == 2
    with session_scope(db_url) as session:
        contract = lead_to_contract(get_lead(session, first))
    assert set(contract) >= CONTRACT_FIELDS
    assert contract["contact"]["email"] == "tom@greenleafdental.com"
    assert contract["status"] == "qualified"
    assert contract["stakeholders"][1] == {
        "name": "Ben",
        "role": "IT contractor",
        "stance": "saboteur",
        "concern": "he'll say it's a security risk",
    }
    assert contract["created_at"].endswith("Z") and contract["updated_at"] >= contract["created_at"]


def test_fifty_concurrent_conversations_make_fifty_leads(db_url):
    def save(index: int) -> str:
        with session_scope(db_url) as session:
            return save_lead(session, lead(f"conv-{index}")).id

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(save, range(50)))
    assert len(set(ids)) == 50
    assert count(db_url) == 50


def test_concurrent_messages_of_one_conversation_make_one_lead(db_url):
    def save(index: int) -> str:
        with session_scope(db_url) as session:
            return save_lead(session, lead("same", timeline=f"in {index} weeks")).id

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(save, range(20)))
    assert len(ids) == 1
    assert count(db_url) == 1
    assert count(db_url, Stakeholder) == 2


def test_filters(db_url):
    with session_scope(db_url) as session:
        save_lead(session, lead("a"))
        save_lead(session, lead("b", finished=False))
    with session_scope(db_url) as session:
        assert [l.conversation_id for l in list_leads(session, status="partial")] == ["b"]
        assert [l.conversation_id for l in list_leads(session, conversation_id="a")] == ["a"]
        assert find_by_conversation(session, "a").status == "qualified"
        assert find_by_conversation(session, "nope") is None


def test_erasing_a_person_removes_their_leads_and_referrals(db_url):
    with session_scope(db_url) as session:
        referrer = save_lead(session, lead("customer", contact={"email": "boss@acme.com"}))
        save_referrals(session, referrer.id, [{"name": "Tom Baker", "email": "TOM@greenleafdental.com"}])
        save_lead(session, lead("tom"))
    with session_scope(db_url) as session:
        removed = erase(session, "tom@GreenleafDental.com")
    assert removed["leads"] == 1 and removed["referrals"] == 1
    assert count(db_url) == 1
    assert count(db_url, Referral) == 0


def test_hostile_text_is_stored_as_text(db_url):
    nasty = "'; DROP TABLE leads; -- <script>alert(1)</script> 😀"
    with session_scope(db_url) as session:
        lead_id = save_lead(session, lead("x", need={"summary": nasty, "category": None})).id
    with session_scope(db_url) as session:
        assert get_lead(session, lead_id).need_summary == nasty
    assert count(db_url) == 1


def test_awkward_values_are_stored_not_refused(db_url):
    record = lead(
        "odd",
        need={"summary": "tickets\x00 everywhere", "category": "ticket_overload"},
        budget={"amount": 15000.0, "currency": "EUR"},
    )
    with session_scope(db_url) as session:
        saved = save_lead(session, record, transcript=[{"sender": "visitor", "text": "a\x00b"}])
        contract = lead_to_contract(saved)
        assert saved.transcript == [{"sender": "visitor", "text": "ab"}]
    assert contract["need"]["summary"] == "tickets everywhere"
    assert contract["budget"] == {"amount": 15000, "currency": "EUR"}
    with session_scope(db_url) as session:
        huge = save_lead(session, lead("huge", budget={"amount": 1e15, "currency": "USD"}))
        assert lead_to_contract(huge)["budget"] is None


def test_a_referred_person_who_comes_is_linked_to_the_customer_who_referred_them(db_url):
    with session_scope(db_url) as session:
        customer = save_lead(
            session,
            lead("customer-ref", contact={"name": "Alma Ruiz", "email": "alma@ruiz.example", "company": "Ruiz"}),
        )
        save_referrals(session, customer.id, [{"name": "Ivo Petrov", "email": "Ivo@Petrov.example"}])
        referred = save_lead(session, lead("referred", contact={"name": "Ivo Petrov", "email": "ivo@petrov.example"}))
        assert referred.referred_by == customer.id
        contract = lead_to_contract(get_lead(session, referred.id))
    assert contract["referred_by"] == customer.id
    assert contract["referrer"] == {
        "id": customer.id,
        "name": "Alma Ruiz",
        "email": "alma@ruiz.example",
        "company": "Ruiz",
    }


def test_a_referral_recorded_after_the_person_came_links_them_too(db_url):
    with session_scope(db_url) as session:
        early = save_lead(session, lead("early-bird", contact={"email": "noor@early.example"}))
        customer = save_lead(session, lead("customer-late", contact={"email": "c@customer.example"}))
        save_referrals(session, customer.id, [{"name": "Noor", "email": "noor@early.example"}])
    with session_scope(db_url) as session:
        assert get_lead(session, early.id).referred_by == customer.id
        assert lead_to_contract(get_lead(session, customer.id))["referrer"] is None


def test_an_update_changes_what_differs_and_returns_the_lead_as_stored(db_url):
    with session_scope(db_url) as session:
        save_lead(session, lead(timeline="this quarter"), transcript=[{"sender": "visitor", "text": "hi"}])
    with session_scope(db_url) as session:
        before = [s.id for s in find_by_conversation(session, "c-1").stakeholders]

    talk = [{"sender": "visitor", "text": "hi"}, {"sender": "bot", "text": "Hello!"}]
    with session_scope(db_url) as session:
        saved = save_lead(session, lead(timeline="next month"), transcript=talk)
        assert (saved.timeline, saved.transcript) == ("next month", talk)
        assert [s.id for s in saved.stakeholders] == before  # the same people: their rows stay

    people = lead()["stakeholders"]
    changed = [{**people[0], "concern": "the price"}, people[1], {"name": "Ola", "role": "CFO", "stance": "ally"}]
    with session_scope(db_url) as session:
        saved = save_lead(session, lead(stakeholders=changed), transcript=[])
        assert [(s.position, s.name, s.concern) for s in saved.stakeholders] == [
            (0, people[0]["name"], "the price"),
            (1, "Ben", people[1]["concern"]),
            (2, "Ola", None),
        ]
    with session_scope(db_url) as session:
        again = save_lead(session, lead(stakeholders=[], timeline=None))  # nothing new: what is stored stays
        assert [s.name for s in again.stakeholders] == [people[0]["name"], "Ben", "Ola"]
        assert (again.timeline, again.transcript) == ("next month", talk)
    assert count(db_url, Stakeholder) == 3
