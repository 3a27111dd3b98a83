"""Routing, and notifications delivered to a real local HTTP server until they arrive."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from leads import notify
from leads.delivery import accept, deliver_pending, enqueue_handoff, last_assignments, retry_now
from leads.routing import expand, load_config, pick_rep
from leads.storage.db import session_scope
from leads.storage.models import Attempt, Delivery, Handoff, Lead
from leads.storage.repository import lead_to_contract, save_lead
from tests.fakes.receiver import Receiver
from tests.samples import lead

MONDAY_NOON = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)
SUNDAY = datetime(2026, 11, 22, 11, 0, tzinfo=timezone.utc)


def config(receiver: Receiver):
    rep = lambda rid, langs, segments: {  # noqa: E731
        "id": rid,
        "name": rid.title(),
        "languages": langs,
        "segments": segments,
        "timezone": "Europe/Paris",
        "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
        "slack": {"user_id": "U1", "webhook_url": receiver.url("/slack")},
        "teams": {"webhook_url": receiver.url("/teams")},
        "meeting_link": f"https://meet.example/{rid}",
    }
    return {
        "reps": [rep("anna", ["en", "pl"], []), rep("bob", ["en"], []), rep("chloe", ["fr"], ["phone_calls"])],
        "team_queue": {"name": "Sales team", "slack": {"webhook_url": receiver.url("/queue")}},
        "crm": {"webhook_url": receiver.url("/crm"), "secret_env": "TEST_CRM_SECRET"},
        "transcript_base_url": "http://leads.example",
    }


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def test_routing_by_language_and_round_robin(receiver):
    cfg = config(receiver)
    assert pick_rep({"language": "fr", "need": {"category": "phone_calls"}}, MONDAY_NOON, {}, cfg).rep["id"] == "chloe"
    first = pick_rep({"language": "en"}, MONDAY_NOON, {}, cfg).rep["id"]
    second = pick_rep({"language": "en"}, MONDAY_NOON, {first: MONDAY_NOON}, cfg).rep["id"]
    assert {first, second} == {"anna", "bob"}
    assert pick_rep({"language": "pl"}, MONDAY_NOON, {}, cfg).rep["id"] == "anna"
    weekend = pick_rep({"language": "en"}, SUNDAY, {}, cfg)
    assert weekend.queue and weekend.rep is None


def test_environment_variables_fill_urls_and_missing_ones_switch_targets_off(monkeypatch):
    monkeypatch.setenv("HOOK_FOR_TEST", "http://127.0.0.1:9/x")
    monkeypatch.delenv("UNSET_HOOK_FOR_TEST", raising=False)
    assert expand({"a": "${HOOK_FOR_TEST}", "b": "${UNSET_HOOK_FOR_TEST}"}) == {"a": "http://127.0.0.1:9/x", "b": None}


def test_the_reps_file_is_read_again_once_it_changed_and_each_caller_gets_its_own_copy(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("HOOK_FOR_TEST", "http://127.0.0.1:9/x")
    reps = tmp_path / "reps.yml"
    reps.write_text("reps:\n  - id: emma\n    slack: ${HOOK_FOR_TEST}\n")
    first = load_config(str(reps))
    assert first == {"reps": [{"id": "emma", "slack": "http://127.0.0.1:9/x"}]}
    first["reps"].append({"id": "changed by a caller"})
    monkeypatch.setenv("HOOK_FOR_TEST", "http://127.0.0.1:9/y")
    assert load_config(str(reps)) == {"reps": [{"id": "emma", "slack": "http://127.0.0.1:9/y"}]}
    reps.write_text("reps:\n  - id: zofia\n")
    later = os.stat(reps).st_mtime_ns + 1_000_000_000
    os.utime(reps, ns=(later, later))
    assert load_config(str(reps)) == {"reps": [{"id": "zofia"}]}


def _handoff(db_url, cfg, now=MONDAY_NOON, conversation="q1"):
    with session_scope(db_url) as session:
        saved = save_lead(session, lead(conversation))
        route = pick_rep(lead_to_contract(saved), now, last_assignments(session), cfg)
        enqueue_handoff(session, saved, route, cfg)
        enqueue_handoff(session, saved, route, cfg)  # idempotent
        return saved.id


def test_a_qualified_lead_is_delivered_to_slack_teams_and_a_signed_crm(db_url, receiver, monkeypatch):
    monkeypatch.setenv("TEST_CRM_SECRET", "s3cret")
    lead_id = _handoff(db_url, config(receiver))
    assert deliver_pending(db_url) == {"delivered": 3, "failed": 0}
    assert deliver_pending(db_url) == {"delivered": 0, "failed": 0}
    slack = receiver.json("/slack")
    assert len(slack) == 1
    text = json.dumps(slack[0])
    assert ":warning: Ben (IT contractor)" in text and "lead_accept" in text and "Maria Lopez (CEO)" in text
    teams = receiver.json("/teams")[0]
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    crm = next(r for r in receiver.requests if r["path"] == "/crm")
    assert notify.verify(crm["body"], "s3cret", crm["headers"]["X-Lead-Signature"])
    assert json.loads(crm["body"])["lead"]["id"] == lead_id
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff)).scalar_one()
        assert handoff.status == "notified" and handoff.notified_at is not None
        assert handoff.rep_id in ("anna", "bob")


def test_server_errors_then_success_after_a_retry(db_url, receiver):
    cfg = config(receiver)
    cfg["crm"] = {}
    cfg["reps"] = [dict(r, teams={}) for r in cfg["reps"]]
    _handoff(db_url, cfg)
    receiver.fail_next = 1
    assert deliver_pending(db_url) == {"delivered": 0, "failed": 1}
    assert deliver_pending(db_url) == {"delivered": 0, "failed": 0}  # backing off
    assert retry_now(db_url) == 1
    assert deliver_pending(db_url) == {"delivered": 1, "failed": 0}
    with session_scope(db_url) as session:
        attempts = list(session.execute(select(Attempt).order_by(Attempt.id)).scalars())
        assert [(a.ok, a.status_code) for a in attempts] == [(False, 500), (True, 200)]


def test_receiver_down_then_up(db_url, receiver):
    cfg = config(receiver)
    _handoff(db_url, cfg)
    receiver.stop()
    assert deliver_pending(db_url)["failed"] == 3
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert deliver_pending(db_url, now=later)["failed"] == 3
    receiver.start()
    assert deliver_pending(db_url, now=later + timedelta(hours=2)) == {"delivered": 3, "failed": 0}
    with session_scope(db_url) as session:
        assert all(d.status == "delivered" and d.attempts == 3 for d in session.execute(select(Delivery)).scalars())


def test_outside_hours_the_team_queue_is_notified(db_url, receiver):
    _handoff(db_url, config(receiver), now=SUNDAY)
    deliver_pending(db_url)
    assert len(receiver.json("/queue")) == 1 and receiver.json("/slack") == []


def test_a_rep_accepts(db_url, receiver):
    lead_id = _handoff(db_url, config(receiver))
    with session_scope(db_url) as session:
        assert accept(session, lead_id, "Anna").status == "accepted"
    with session_scope(db_url) as session:
        handoff = session.execute(select(Handoff)).scalar_one()
        assert handoff.accepted_by == "Anna" and handoff.accepted_at is not None
        assert accept(session, "missing", "Anna") is None


def test_two_processes_handing_off_the_same_lead_make_one_handoff(db_url, receiver):
    from concurrent.futures import ThreadPoolExecutor

    cfg = config(receiver)
    with session_scope(db_url) as session:
        lead_id = save_lead(session, lead("race")).id

    def hand_off(_: int) -> str:
        with session_scope(db_url) as session:
            saved = session.get(Lead, lead_id)
            route = pick_rep(lead_to_contract(saved), MONDAY_NOON, last_assignments(session), cfg)
            return enqueue_handoff(session, saved, route, cfg).rep_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        reps = set(pool.map(hand_off, range(8)))
    assert len(reps) == 1
    with session_scope(db_url) as session:
        assert len(list(session.execute(select(Handoff)).scalars())) == 1
        assert len(list(session.execute(select(Delivery)).scalars())) == 3
