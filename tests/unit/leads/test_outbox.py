"""A lead written while the database is down waits in the outbox, then arrives once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from leads.storage.db import session_scope
from leads.storage.models import Lead
from leads.storage.outbox import LeadWriter
from tests.samples import lead

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"


def test_database_down_then_back(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    down = LeadWriter(UNREACHABLE, outbox)
    assert down.save(lead("c1", finished=False), transcript=[{"sender": "visitor", "text": "hi"}]) is None
    assert (
        down.save(lead("c1"), transcript=[{"sender": "visitor", "text": "hi"}, {"sender": "bot", "text": "hello"}])
        is None
    )
    assert down.save(lead("c2")) is None
    files = sorted(outbox.glob("*.json"))
    assert len(files) == 2  # one pending write per conversation: the latest
    assert all(json.loads(f.read_text())["record"]["conversation_id"] in ("c1", "c2") for f in files)

    up = LeadWriter(db_url, outbox)
    assert up.flush() == 2
    assert list(outbox.glob("*.json")) == []
    assert up.flush() == 0
    with session_scope(db_url) as session:
        leads = {l.conversation_id: l for l in session.execute(select(Lead)).scalars()}
    assert set(leads) == {"c1", "c2"}
    assert leads["c1"].status == "qualified" and len(leads["c1"].transcript) == 2


def test_save_replays_older_writes_first(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    LeadWriter(UNREACHABLE, outbox).save(lead("old"))
    assert LeadWriter(db_url, outbox).save(lead("new")) is not None
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(Lead)).scalar_one() == 2
    assert list(outbox.glob("*.json")) == []


def test_try_flush_while_still_down_keeps_everything(tmp_path):
    outbox = tmp_path / "outbox"
    writer = LeadWriter(UNREACHABLE, outbox)
    writer.save(lead("c1"))
    assert writer.try_flush() == 0
    assert len(list(outbox.glob("*.json"))) == 1


def test_a_write_the_database_refuses_is_set_aside_and_blocks_nothing(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce column lengths: nothing to refuse")
    outbox = tmp_path / "outbox"
    LeadWriter(UNREACHABLE, outbox).save(lead("refused", authority="x" * 500))  # too long for its column
    LeadWriter(UNREACHABLE, outbox).save(lead("fine"))
    writer = LeadWriter(db_url, outbox)
    assert writer.save(lead("later")) is not None  # the refused write waits for another try, blocking nothing
    with session_scope(db_url) as session:
        assert set(session.execute(select(Lead.conversation_id)).scalars()) == {"fine", "later"}
    assert len(list(outbox.glob("*.json"))) == 1
    assert writer.flush() == 0 and writer.flush() == 0  # the third refusal sets it aside
    [kept] = (outbox / "rejected").glob("*.json")
    entry = json.loads(kept.read_text())
    assert entry["record"]["conversation_id"] == "refused" and "DataError" in entry["error"]
    assert list(outbox.glob("*.json")) == []


def test_after_a_failure_writes_wait_in_the_outbox_until_the_retry(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    writer = LeadWriter(UNREACHABLE, outbox)
    assert writer.save(lead("first")) is None  # fails once: the database counts as down
    writer.url = db_url  # the database is back, but nobody has retried yet
    assert writer.save(lead("second")) is None  # no new connection attempt for every visitor
    assert len(list(outbox.glob("*.json"))) == 2
    assert writer.try_flush() == 2  # the periodic retry writes both, in order
    assert writer.save(lead("third")) is not None  # and writes go straight through again
    with session_scope(db_url) as session:
        assert set(session.execute(select(Lead.conversation_id)).scalars()) == {"first", "second", "third"}


def test_many_threads_writing_at_once_all_reach_the_database(db_url, tmp_path):
    """Sixteen threads, 160 writes of 40 conversations, the first ones at once with the schema not checked yet:
    every lead stored, nothing left waiting or set aside."""
    from concurrent.futures import ThreadPoolExecutor

    writer = LeadWriter(db_url, tmp_path / "outbox")
    talk = [{"sender": "visitor", "text": "hello " * 50}]

    def save(index: int):
        return writer.save(lead(f"busy-{index % 40}", timeline=f"in {index} weeks"), transcript=talk)

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(save, range(160)))
    assert all(ids) and len(set(ids)) == 40
    assert list((tmp_path / "outbox").rglob("*.json")) == []
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(Lead)).scalar_one() == 40
