"""The SQL tracker store that reads only new events, against Rasa's own store on the same SQLite file."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import IncrementalSQLTrackerStore, IncrementalTracker
from common import scaling
from common.endpoints import TRACKER_STORE_TYPE, tracker_store

ROOT = Path(__file__).resolve().parents[2]
FORM = "qualification_form"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _random_events(rng: random.Random, count: int) -> List[Event]:
    """A conversation with forms, interruptions, rejections, undos and restarts."""
    events: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for _ in range(count):
        roll = rng.random()
        if roll < 0.30:
            events += [UserUttered("hi", {"name": rng.choice(["inform", "affirm", "ask_pricing"])})]
        elif roll < 0.50:
            events += [ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "need")]
        elif roll < 0.60:
            events += [ActionExecuted(FORM), ActiveLoop(None), SlotSet("requested_slot", None)]
        elif roll < 0.68:
            events += [ActionExecutionRejected(FORM)]
        elif roll < 0.80:
            events += [ActionExecuted(rng.choice(["utter_answer", "action_extract_facts", "utter_greet"]))]
        elif roll < 0.88:
            events += [ActionExecuted("action_listen")]
        elif roll < 0.92:
            events += [UserUtteranceReverted()]
        elif roll < 0.96:
            events += [ActionReverted()]
        elif roll < 0.98:
            events += [ActiveLoop("referral_form"), ActionExecuted("referral_form")]
        else:
            events += [Restarted()]
    return events


@pytest.mark.parametrize("seed", range(12))
def test_applied_events_are_rasas_whenever_they_are_asked_for(seed: int, domain: Domain) -> None:
    rng = random.Random(seed)
    events = _random_events(rng, 120)
    growing = IncrementalTracker("c", domain.slots)
    asked = 0
    for event in events:
        growing.update(event)
        if rng.random() < 0.4:  # asked at random moments, as the policies do
            expected = DialogueStateTracker.from_events("c", list(growing.events), domain.slots).applied_events()
            assert [id(e) for e in growing.applied_events()] == [id(e) for e in expected]
            asked += 1
    assert asked > 10
    assert growing.applied_events() == DialogueStateTracker.from_events("c", events, domain.slots).applied_events()


def test_only_the_events_added_since_are_gone_through(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _random_events(random.Random(5), 60)
    tracker = IncrementalTracker("c", domain.slots)
    for event in events:
        tracker.update(event)
    tracker.applied_events()
    stepped: List[Event] = []
    original = IncrementalTracker._apply

    def counting(self, event, applied, loops):
        stepped.append(event)
        return original(self, event, applied, loops)

    monkeypatch.setattr(IncrementalTracker, "_apply", counting)
    added = [UserUttered("more", {"name": "inform"}), ActionExecuted("utter_answer"), ActionExecuted("action_listen")]
    for event in added:
        tracker.update(event)
    assert (
        tracker.applied_events() == DialogueStateTracker.from_events("c", events + added, domain.slots).applied_events()
    )
    assert stepped == added


def test_applied_events_follow_a_shortened_history(domain: Domain) -> None:
    events = _random_events(random.Random(99), 80)
    limited = IncrementalTracker("c", domain.slots, max_event_history=25)
    for event in events:
        limited.update(event)
        assert (
            limited.applied_events()
            == DialogueStateTracker.from_events("c", list(limited.events), domain.slots).applied_events()
        )


# -- the store -------------------------------------------------------------------------------------
def _stores(tmp_path: Path, domain: Domain, **kwargs) -> tuple:
    database = str(tmp_path / "conversations.db")
    ours = IncrementalSQLTrackerStore(domain=domain, dialect="sqlite", db=database, **kwargs)
    rasas = SQLTrackerStore(domain=domain, dialect="sqlite", db=database)
    return ours, rasas


def _as_dicts(tracker: DialogueStateTracker) -> list:
    return [event.as_dict() for event in tracker.events]


def _turn(tracker: DialogueStateTracker, text: str) -> None:
    for event in (
        UserUttered(text, {"name": "inform", "confidence": 0.9}),
        ActionExecuted(FORM),
        SlotSet("need", text),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)


def test_reads_what_rasas_store_reads_turn_after_turn(tmp_path: Path, domain: Domain) -> None:
    async def scenario() -> None:
        ours, rasas = _stores(tmp_path, domain)
        tracker = await ours.get_or_create_tracker("visitor-1")
        assert isinstance(tracker, IncrementalTracker)
        for number in range(6):
            tracker = await ours.retrieve("visitor-1") or tracker
            _turn(tracker, f"message {number}")
            await ours.save(tracker)
            mine, theirs = await ours.retrieve("visitor-1"), await rasas.retrieve("visitor-1")
            assert _as_dicts(mine) == _as_dicts(theirs)
            assert mine.current_slot_values() == theirs.current_slot_values()
            assert mine.get_slot("need") == f"message {number}"
        earlier, later = await ours.retrieve("visitor-1"), await ours.retrieve("visitor-1")
        assert all(a is b for a, b in zip(earlier.events, later.events))  # remembered, not read again
        assert all(a is not b for a, b in zip((await rasas.retrieve("visitor-1")).events, later.events))
        assert await ours.retrieve("nobody") is None

    asyncio.run(scenario())


def test_writes_the_rows_rasas_store_writes(tmp_path: Path, domain: Domain) -> None:
    """The same trackers saved turn after turn (twice), across a new session: the rows Rasa's store writes."""

    async def scenario() -> None:
        (tmp_path / "ours").mkdir()
        (tmp_path / "rasas").mkdir()
        ours, _ = _stores(tmp_path / "ours", domain)
        _, rasas = _stores(tmp_path / "rasas", domain)

        def rows(store: SQLTrackerStore) -> list:
            with store.engine.connect() as connection:
                query = "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
                return [tuple(row) for row in connection.execute(sa.text(query))]

        tracker = await ours.get_or_create_tracker("visitor")
        for number in range(4):
            if number == 2:
                assert len(rows(ours)) == len(tracker.events)  # saved twice, written once
                for event in (
                    ActionExecuted("action_session_start"),
                    SessionStarted(),
                    ActionExecuted("action_listen"),
                ):
                    tracker.update(event)
            _turn(tracker, f"message {number} with ünïcode 🙂 and 'quotes'")
            for _ in range(2):
                await ours.save(tracker)
                await rasas.save(tracker)
            assert rows(ours) == rows(rasas)

    asyncio.run(scenario())


def test_sees_what_another_process_wrote(tmp_path: Path, domain: Domain) -> None:
    async def scenario() -> None:
        first, _ = _stores(tmp_path, domain)
        second, _ = _stores(tmp_path, domain)
        tracker = await first.get_or_create_tracker("shared")
        _turn(tracker, "from the first")
        await first.save(tracker)
        elsewhere = await second.retrieve("shared")
        _turn(elsewhere, "from the second")
        await second.save(elsewhere)
        again = await first.retrieve("shared")
        assert again.get_slot("need") == "from the second"
        assert _as_dicts(again) == _as_dicts(await second.retrieve("shared"))

    asyncio.run(scenario())


def test_an_erased_conversation_is_not_remembered(tmp_path: Path, domain: Domain) -> None:
    async def scenario() -> None:
        ours, _ = _stores(tmp_path, domain)
        tracker = await ours.get_or_create_tracker("erase-me")
        _turn(tracker, "my e-mail is anna@example.com")
        await ours.save(tracker)
        assert (await ours.retrieve("erase-me")).get_slot("need")
        with ours.engine.begin() as connection:
            connection.execute(sa.delete(SQLTrackerStore.SQLEvent.__table__).where(sa.text("sender_id = 'erase-me'")))
        assert await ours.retrieve("erase-me") is None
        fresh = await ours.get_or_create_tracker("erase-me")
        await ours.save(fresh)
        with ours.engine.connect() as connection:
            texts = connection.execute(sa.text("SELECT data FROM events WHERE sender_id = 'erase-me'")).scalars().all()
        assert not any("anna@example.com" in text for text in texts)

    asyncio.run(scenario())


def test_a_new_session_starts_afresh_as_in_rasas_store(tmp_path: Path, domain: Domain) -> None:
    async def scenario() -> None:
        ours, rasas = _stores(tmp_path, domain)
        tracker = await ours.get_or_create_tracker("returning")
        _turn(tracker, "first visit")
        await ours.save(tracker)
        await ours.retrieve("returning")  # remembered
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        _turn(tracker, "second visit")
        await ours.save(tracker)
        mine, theirs = await ours.retrieve("returning"), await rasas.retrieve("returning")
        assert _as_dicts(mine) == _as_dicts(theirs)
        assert not any(getattr(e, "text", None) == "first visit" for e in mine.events)

    asyncio.run(scenario())


def test_remembers_a_bounded_number_of_conversations(tmp_path: Path, domain: Domain) -> None:
    async def scenario() -> None:
        ours, rasas = _stores(tmp_path, domain, cache_conversations=2)
        remembered: List[str] = []
        for name in ("a", "b", "c", "a", "d", "b"):
            tracker = await ours.get_or_create_tracker(name)
            _turn(tracker, f"hello from {name}")
            await ours.save(tracker)
            assert _as_dicts(await ours.retrieve(name)) == _as_dicts(await rasas.retrieve(name))
            remembered = ([kept for kept in remembered if kept != name] + [name])[-2:]
            assert list(ours._read) == remembered  # the two latest, oldest first

    asyncio.run(scenario())


def test_the_cache_size_comes_from_the_environment(
    tmp_path: Path, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_CACHE_CONVERSATIONS", "0")
    ours, _ = _stores(tmp_path, domain)
    assert ours._cache_size == 0
    monkeypatch.setenv("TRACKER_CACHE_CONVERSATIONS", "lots")
    with pytest.raises(ValueError, match="TRACKER_CACHE_CONVERSATIONS"):
        _stores(tmp_path, domain)


def test_make_run_uses_it() -> None:
    from rasa.shared.utils.common import class_from_module_path

    assert class_from_module_path(TRACKER_STORE_TYPE) is IncrementalSQLTrackerStore
    for url in ("sqlite:///var/leads.db", "postgresql://u@db:5432/leads"):
        assert tracker_store(url)["type"] == TRACKER_STORE_TYPE
    assert scaling.tracker_store("postgresql://u@db:5432/leads")["type"] == TRACKER_STORE_TYPE


def test_stored_events_are_read_as_rasa_reads_them_with_their_short_strings_shared():
    import json

    from bot.tracker_store import _event_dicts

    rows = [
        json.dumps({"event": "action", "name": "action_listen", "metadata": {"model_id": "70c5d996f60c41469f6829"}}),
        json.dumps({"event": "user", "text": "x" * 200, "metadata": {"model_id": "70c5d996f60c41469f6829"}}),
    ]
    read = _event_dicts(rows)
    assert read == [json.loads(row) for row in rows]
    assert read[0]["metadata"]["model_id"] is read[1]["metadata"]["model_id"]
    assert _event_dicts([]) == []
