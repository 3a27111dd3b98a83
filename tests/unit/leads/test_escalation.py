"""Nobody left waiting: expiry, pass, late accept and two clocks at once, on SQLite and PostgreSQL.

The clock is injected (``now``): no test waits on the wall clock. Cards go to
a real local HTTP server, one path per rep, so each test sees who got one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from leads.delivery import accept, deliver_pending, enqueue_handoff, last_assignments, taken_by_other
from leads.escalation import accept_within, escalate_due
from leads.promise import open_promise
from leads.routing import pick_rep
from leads.slack_rep import RepDecision, outcome_message
from leads.storage.db import session_scope
from leads.storage.models import Delivery, Handoff, HandoffStep
from leads.storage.repository import get_lead, lead_for_reps, lead_to_contract, save_lead, steps_of
from tests.fakes.receiver import Receiver
from tests.samples import lead
from tests.unit.leads.test_outbox_races import _in_processes

#: Monday 23 November 2026, 12:00 in Paris: every rep is at work.
MONDAY_NOON = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)
#: The same Monday, 17:50 in Paris: ten minutes before everyone's day ends.
MONDAY_CLOSING = datetime(2026, 11, 23, 16, 50, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def config(receiver: Receiver, minutes: int = 15) -> dict:
    def rep(rid: str, languages: list, segments: list) -> dict:
        return {
            "id": rid,
            "name": rid.title(),
            "language": languages[0],
            "languages": languages,
            "segments": segments,
            "timezone": "Europe/Paris",
            "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
            "slack": {"user_id": f"U{rid.upper()}", "webhook_url": receiver.url(f"/slack/{rid}")},
            "teams": {"webhook_url": receiver.url(f"/teams/{rid}")},
        }

    return {
        "reps": [rep("anna", ["en", "pl"], []), rep("bob", ["en"], []), rep("chloe", ["fr"], ["phone_calls"])],
        "team_queue": {
            "name": "Sales team",
            "timezone": "Europe/Paris",
            "slack": {"webhook_url": receiver.url("/slack/queue")},
            "teams": {"webhook_url": receiver.url("/teams/queue")},
        },
        "crm": {"webhook_url": receiver.url("/crm")},
        "handoff": {"accept_within_minutes": minutes},
    }


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def hand_off(db_url: str, cfg: dict, now: datetime, conversation: str = "esc-1") -> str:
    """Save a qualified English lead and hand it off as the pipeline does; its cards are delivered."""
    with session_scope(db_url) as session:
        saved = save_lead(session, lead(conversation))
        route = pick_rep(lead_to_contract(saved), now, last_assignments(session), cfg)
        enqueue_handoff(session, saved, route, cfg, now=now)
        lead_id = saved.id
    assert deliver_pending(db_url)["failed"] == 0
    return lead_id


def state(db_url: str, lead_id: str) -> tuple:
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff).where(Handoff.lead_id == lead_id)).scalar_one()
        return handoff.rep_id, handoff.status, handoff.offer_round


def steps(db_url: str, lead_id: str) -> list:
    with session_scope(db_url) as session:
        return [(s["kind"], s["rep"]) for s in steps_of(session, lead_id)]


def cards_for(receiver: Receiver, who: str) -> int:
    """How many Slack cards reached ``who``'s webhook (each also gets a Teams card: checked to match)."""
    slack, teams = receiver.json(f"/slack/{who}"), receiver.json(f"/teams/{who}")
    assert len(slack) == len(teams)
    return len(slack)


def test_unaccepted_goes_to_the_next_rep_then_to_the_team_queue(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    assert state(db_url, lead_id) == ("anna", "notified", 0)  # routing's order: the first rep who matches
    assert cards_for(receiver, "anna") == 1 and len(receiver.json("/crm")) == 1

    assert escalate_due(db_url, MONDAY_NOON + 14 * MINUTE, cfg) == []  # still within Anna's time
    assert escalate_due(db_url, MONDAY_NOON + 15 * MINUTE, cfg) == [lead_id]
    assert state(db_url, lead_id) == ("bob", "pending", 1)
    assert deliver_pending(db_url)["failed"] == 0
    assert state(db_url, lead_id) == ("bob", "notified", 1)
    assert cards_for(receiver, "bob") == 1
    card = json.dumps(receiver.json("/slack/bob")[0], ensure_ascii=False)
    assert "<@UBOB>" in card and "lead_accept" in card and lead_id in card  # Bob's own card, with the buttons
    assert "Offered next: Anna did not accept it in time." in card
    teams = json.dumps(receiver.json("/teams/bob")[0], ensure_ascii=False)
    assert "Offered next: Anna did not accept it in time." in teams

    assert escalate_due(db_url, MONDAY_NOON + 29 * MINUTE, cfg) == []  # Bob's time counts from his offer
    assert escalate_due(db_url, MONDAY_NOON + 31 * MINUTE, cfg) == [lead_id]  # Chloé speaks no English
    assert state(db_url, lead_id) == (None, "queued", 2)
    deliver_pending(db_url)
    assert cards_for(receiver, "queue") == 1 and len(receiver.json("/crm")) == 1  # the CRM heard once
    team_card = json.dumps(receiver.json("/slack/queue")[0], ensure_ascii=False)
    assert "Sales team will get in touch today" in team_card and "18:00" in team_card  # the visitor's promise
    assert escalate_due(db_url, MONDAY_NOON + 5 * 60 * MINUTE, cfg) == []  # the queue keeps it

    assert steps(db_url, lead_id) == [
        ("offered", "Anna"),
        ("expired", "Anna"),
        ("reoffered", "Bob"),
        ("expired", "Bob"),
        ("queued", "Sales team"),
    ]
    with session_scope(db_url) as session:
        times = [s["at"] for s in steps_of(session, lead_id)]
    assert times[1].startswith("2026-11-23T11:15") and times[3].startswith("2026-11-23T11:30")


def test_a_pass_goes_to_the_next_rep_at_once(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    with session_scope(db_url) as session:
        accept(session, lead_id, "Anna", passed=True, now=MONDAY_NOON + 2 * MINUTE)
    assert escalate_due(db_url, MONDAY_NOON + 3 * MINUTE, cfg) == [lead_id]
    assert state(db_url, lead_id) == ("bob", "pending", 1)
    deliver_pending(db_url)
    assert cards_for(receiver, "bob") == 1
    assert "Offered next: Anna passed on it." in json.dumps(receiver.json("/slack/bob")[0])
    assert steps(db_url, lead_id) == [("offered", "Anna"), ("passed", "Anna"), ("reoffered", "Bob")]


def test_an_accepted_lead_stays(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    with session_scope(db_url) as session:
        accept(session, lead_id, "Anna", now=MONDAY_NOON + 10 * MINUTE)
    assert escalate_due(db_url, MONDAY_NOON + 60 * MINUTE, cfg) == []
    assert state(db_url, lead_id) == ("anna", "accepted", 0)
    assert steps(db_url, lead_id) == [("offered", "Anna"), ("accepted", "Anna")]


def test_first_accept_wins_and_the_late_one_is_told(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    escalate_due(db_url, MONDAY_NOON + 16 * MINUTE, cfg)
    with session_scope(db_url) as session:
        won = accept(session, lead_id, "Bob", now=MONDAY_NOON + 17 * MINUTE)
        assert taken_by_other(won, "Bob") is None
    with session_scope(db_url) as session:  # Anna answers her old card
        late = accept(session, lead_id, "Anna", now=MONDAY_NOON + 18 * MINUTE)
        assert taken_by_other(late, "Anna") == "Bob"
    with session_scope(db_url) as session:  # a late Pass changes nothing either
        assert taken_by_other(accept(session, lead_id, "Anna", passed=True), "Anna") == "Bob"
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff).where(Handoff.lead_id == lead_id)).scalar_one()
        assert (handoff.status, handoff.accepted_by, handoff.rep_id) == ("accepted", "Bob", "bob")
        assert handoff.accepted_at.replace(tzinfo=timezone.utc) == MONDAY_NOON + 17 * MINUTE
    assert steps(db_url, lead_id)[-3:] == [("accepted", "Bob"), ("late", "Anna"), ("late", "Anna")]
    assert escalate_due(db_url, MONDAY_NOON + 60 * MINUTE, cfg) == []
    for language, words in (
        ("en", "already accepted by Bob"),
        ("fr", "déjà été accepté par Bob"),
        ("pl", "przez: Bob"),
    ):
        choice = RepDecision(lead_id, False, "Anna", "UANNA", None, language)
        message = outcome_message(choice, True, "Bob")
        assert message["response_type"] == "ephemeral" and words in message["text"]


def test_the_former_rep_may_still_accept_before_the_next_one_does(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    escalate_due(db_url, MONDAY_NOON + 16 * MINUTE, cfg)
    with session_scope(db_url) as session:  # first accept wins, whoever's card it was
        assert taken_by_other(accept(session, lead_id, "Anna", now=MONDAY_NOON + 17 * MINUTE), "Anna") is None
    with session_scope(db_url) as session:
        assert taken_by_other(accept(session, lead_id, "Bob", now=MONDAY_NOON + 18 * MINUTE), "Bob") == "Anna"
    assert state(db_url, lead_id)[1] == "accepted"


def test_a_former_owners_pass_does_not_take_the_lead_from_the_next_rep(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    escalate_due(db_url, MONDAY_NOON + 15 * MINUTE, cfg)
    with session_scope(db_url) as session:  # Anna passes on her old card while Bob has it
        accept(session, lead_id, "Anna", passed=True, now=MONDAY_NOON + 16 * MINUTE)
    assert state(db_url, lead_id) == ("bob", "pending", 1)
    assert escalate_due(db_url, MONDAY_NOON + 17 * MINUTE, cfg) == []
    with session_scope(db_url) as session:  # Bob's own Pass moves it on
        accept(session, lead_id, "Bob", passed=True, now=MONDAY_NOON + 18 * MINUTE)
    assert escalate_due(db_url, MONDAY_NOON + 19 * MINUTE, cfg) == [lead_id]
    assert state(db_url, lead_id) == (None, "queued", 2)
    assert [kind for kind, _ in steps(db_url, lead_id)] == [
        "offered",
        "expired",
        "reoffered",
        "late_pass",
        "passed",
        "queued",
    ]


def test_no_rep_at_work_sends_it_to_the_queue(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_CLOSING)
    assert escalate_due(db_url, MONDAY_CLOSING + 15 * MINUTE, cfg) == [lead_id]  # 18:05 in Paris: Bob has left
    assert state(db_url, lead_id) == (None, "queued", 1)
    assert steps(db_url, lead_id)[-1] == ("queued", "Sales team")


def test_the_promise_keeps_the_first_offers_deadline(db_url, receiver):
    cfg = config(receiver)
    lead_id = hand_off(db_url, cfg, MONDAY_NOON)
    with session_scope(db_url) as session:
        before = open_promise(lead_for_reps(get_lead(session, lead_id)), cfg)
    escalate_due(db_url, MONDAY_NOON + 16 * MINUTE, cfg)
    escalate_due(db_url, MONDAY_NOON + 32 * MINUTE, cfg)
    with session_scope(db_url) as session:
        after = open_promise(lead_for_reps(get_lead(session, lead_id)), cfg)
    assert (before.kind, before.owner) == ("today", "Anna")
    assert (after.kind, after.deadline, after.owner) == ("today", before.deadline, "Sales team")


def test_a_card_still_failing_for_the_former_rep_is_not_sent_after_the_lead_moved(db_url, receiver):
    cfg = config(receiver)
    receiver.fail_next = 3  # Anna's Slack and Teams cards and the CRM note fail
    with session_scope(db_url) as session:
        saved = save_lead(session, lead("esc-failing"))
        enqueue_handoff(session, saved, pick_rep(lead_to_contract(saved), MONDAY_NOON, {}, cfg), cfg, now=MONDAY_NOON)
        lead_id = saved.id
    assert deliver_pending(db_url) == {"delivered": 0, "failed": 3}
    escalate_due(db_url, MONDAY_NOON + 15 * MINUTE, cfg)
    with session_scope(db_url) as session:
        rows = session.execute(select(Delivery.url, Delivery.status).where(Delivery.lead_id == lead_id)).all()
    statuses = {url.rsplit("/", 2)[-2] + "/" + url.rsplit("/", 1)[-1]: status for url, status in rows}
    assert statuses["slack/anna"] == statuses["teams/anna"] == "superseded"
    assert statuses["slack/bob"] == statuses["teams/bob"] == "pending"
    assert next(status for url, status in rows if url.endswith("/crm")) == "pending"  # the CRM still gets it


def test_two_clocks_at_once_take_each_step_once(db_url, receiver):
    cfg = config(receiver)
    ids = [hand_off(db_url, cfg, MONDAY_NOON + index * timedelta(seconds=1), f"race-{index}") for index in range(6)]
    later = (MONDAY_NOON + 16 * MINUTE).isoformat()
    code = (
        "import json, sys; from datetime import datetime; from leads.escalation import escalate_due; "
        f"escalate_due({db_url!r}, datetime.fromisoformat({later!r}), json.loads(sys.argv[1]))"
    )
    _in_processes(3, code.replace("sys.argv[1]", repr(json.dumps(cfg))), {"ERASURE_SALT": "test"})
    with session_scope(db_url) as session:
        rounds = session.execute(select(Handoff.offer_round).where(Handoff.lead_id.in_(ids))).scalars().all()
        counts = dict(
            session.execute(
                select(HandoffStep.kind, func.count()).where(HandoffStep.lead_id.in_(ids)).group_by(HandoffStep.kind)
            ).all()
        )
        cards = session.execute(
            select(func.count()).where(Delivery.lead_id.in_(ids), Delivery.target == "slack")
        ).scalar_one()
    assert rounds == [1] * 6
    assert counts == {"offered": 6, "expired": 6, "reoffered": 6}
    assert cards == 12  # the first offer's card and one for the next rep, per lead


@pytest.mark.parametrize("value", ["soon", None, -5])
def test_an_unreadable_acceptance_time_falls_back_or_is_bounded(value):
    assert accept_within({"handoff": {"accept_within_minutes": value}}) >= timedelta(minutes=1)
    assert accept_within({}) == timedelta(minutes=15)
    assert accept_within({"handoff": {"accept_within_minutes": "30"}}) == timedelta(minutes=30)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_hand_offs_made_before_the_upgrade_are_left_as_they_were(kind, tmp_path, receiver):
    """Upgrading an existing database must not send every old unanswered lead to someone else at once."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from leads.storage.db import MIGRATIONS, engine, migrate
    from tests.unit.leads.conftest import POSTGRES, _drop_schema, _postgres_schema

    schema = _postgres_schema() if kind == "postgresql" else None
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}" if schema else f"sqlite:///{tmp_path / 'old.db'}"
    try:
        alembic = Config()
        alembic.set_main_option("script_location", str(MIGRATIONS))
        alembic.attributes["engine"] = engine(url)
        command.upgrade(alembic, "0003")
        with engine(url).begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO leads (id, conversation_id, channel, language, interest_signals, authority, benefits,"
                    " consent, confirmed, finished, score, status, reasons, risks, transcript, created_at, updated_at)"
                    " VALUES ('old1', 'old-conversation', 'web', 'en', '[]', 'unknown', '[]', false, false, true, 70,"
                    " 'qualified', '[]', '[]', '[]', :at, :at)"
                ),
                {"at": MONDAY_NOON},
            )
            connection.execute(
                text(
                    "INSERT INTO handoffs (lead_id, rep_id, rep_name, status, created_at) VALUES (:l, :r, :n, :s, :at)"
                ),
                {"l": "old1", "r": "anna", "n": "Anna", "s": "notified", "at": MONDAY_NOON},
            )
        migrate(url)
        assert escalate_due(url, MONDAY_NOON + 3 * 60 * MINUTE, config(receiver)) == []
        with session_scope(url) as session:
            handoff = session.execute(select(Handoff)).scalar_one()
            assert (handoff.rep_id, handoff.status, handoff.offer_round, handoff.offered_at) == (
                "anna",
                "notified",
                0,
                None,
            )
            assert last_assignments(session)["anna"] == MONDAY_NOON  # round robin still counts it
    finally:
        engine(url).dispose()
        if schema:
            _drop_schema(schema)


def test_a_re_offered_card_says_why_in_the_new_owners_language(receiver):
    from leads import notify

    contract = {**lead("esc-words"), "id": "l1", "status": "qualified", "score": 80, "created_at": None}
    chloe = next(r for r in config(receiver)["reps"] if r["id"] == "chloe")
    marek = {**chloe, "id": "marek", "name": "Marek", "language": "pl", "languages": ["pl"]}
    slack = json.dumps(notify.slack_message(contract, chloe, None, None, MONDAY_NOON, None, ("passed", "Anna")))
    assert json.dumps("Proposé ensuite : Anna l'a refusé.")[1:-1] in slack
    teams = json.dumps(notify.teams_card(contract, marek, None, None, MONDAY_NOON, None, ("expired", "Anna")))
    assert json.dumps("Przekazany dalej, bo nie został przyjęty na czas (wcześniej: Anna).")[1:-1] in teams
    hostile = json.dumps(notify.slack_message(contract, chloe, None, None, MONDAY_NOON, None, ("passed", "<!here>")))
    assert "<!here>" not in hostile and "&lt;!" in hostile
