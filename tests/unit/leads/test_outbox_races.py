"""The outbox and the notifications under pressure: a poison write, two processes at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from leads.storage.db import session_scope
from leads.storage.models import Delivery, Lead
from leads.storage.outbox import LeadWriter
from leads.storage.repository import save_lead
from tests.fakes.receiver import Receiver
from tests.samples import lead

ROOT = Path(__file__).resolve().parents[3]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"


def _in_processes(count: int, code: str, env_extra: dict) -> None:
    """Run ``code`` in ``count`` separate Python processes at once; each must succeed."""
    import os

    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE) for _ in range(count)
    ]
    for process in processes:
        _, error = process.communicate(timeout=120)
        assert process.returncode == 0, error.decode()


def test_a_poison_lead_is_set_aside_at_once_and_delays_nothing(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    writer = LeadWriter(db_url, outbox)
    assert writer.save(lead("poison", authority={"role": "boss"}, benefits="all of them")) is None
    assert [writer.save(lead(f"next-{i}")) is not None for i in range(10)] == [True] * 10
    [kept] = (outbox / "rejected").glob("*.json")
    entry = json.loads(kept.read_text())
    assert entry["record"]["conversation_id"] == "poison" and "authority must be text" in entry["error"]
    assert list(outbox.glob("*.json")) == []
    assert oct(kept.stat().st_mode & 0o777) == "0o600"


def test_two_processes_flushing_one_outbox_lose_no_write_and_replay_none_twice(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    down = LeadWriter(UNREACHABLE, outbox)
    for index in range(30):
        down.save(lead(f"c{index}", timeline=f"old {index}"))
    code = (
        "import sys; from leads.storage.outbox import LeadWriter; "
        f"w = LeadWriter({db_url!r}, {str(outbox)!r}); w.flush(); "
        "from tests.samples import lead; "
        "[w.save(lead(f'c{i}', timeline=f'new {i}')) for i in range(0, 30, 3)]"
    )
    _in_processes(2, code, {"ERASURE_SALT": "test"})
    with session_scope(db_url) as session:
        leads = {l.conversation_id: l.timeline for l in session.execute(select(Lead)).scalars()}
    assert len(leads) == 30 and list(outbox.glob("*.json")) == []
    for index in range(30):  # the newer write always wins over the replayed older one
        assert leads[f"c{index}"] == (f"new {index}" if index % 3 == 0 else f"old {index}")


def test_two_processes_delivering_at_once_send_each_notification_once(db_url, tmp_path):
    receiver = Receiver()
    try:
        with session_scope(db_url) as session:
            for index in range(5):
                saved = save_lead(session, lead(f"n{index}"))
                for target in ("slack", "teams", "crm"):
                    body = json.dumps({"lead": saved.id, "target": target})
                    session.add(Delivery(lead_id=saved.id, target=target, url=receiver.url(f"/{target}"), body=body))
        code = f"from leads.delivery import deliver_pending; deliver_pending({db_url!r})"
        _in_processes(3, code, {"ERASURE_SALT": "test"})
        bodies = [r["body"] for r in receiver.requests]
        assert len(bodies) == 15 and len(set(bodies)) == 15
        with session_scope(db_url) as session:
            states = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        assert states == [("delivered", 15)]
    finally:
        receiver.stop()
