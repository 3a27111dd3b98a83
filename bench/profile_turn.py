"""Where the time of one turn goes: NLU, the action server, database writes, policies and the rest.

For each message of a scripted conversation: the NLU alone is timed with
``POST /model/parse`` (same text, no effect on the conversation), then the
message goes through the REST channel while the timed action server
(``bench.timed_actions``) records its ``/webhook`` calls and lead writes.
Policies and the rest (tracker store, locks, HTTP) are what remains.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bench.metrics import percentile
from testkit.servers import http

PARTS = ("nlu_ms", "actions_ms", "db_ms", "policies_rest_ms")


def _timings_since(path: Path, offset: int) -> tuple:
    """Timing lines appended to ``path`` after byte ``offset``, and the new offset."""
    if not path.exists():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        chunk = handle.read()
    lines = [json.loads(line) for line in chunk.decode("utf-8").splitlines() if line.strip()]
    return lines, offset + len(chunk)


def predictions_in_last_turn(events: Sequence[Dict[str, Any]]) -> int:
    """How many actions the policies predicted after the last user message (``action_listen`` included)."""
    count = 0
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "action":
            count += 1
    return count


def breakdown(
    total_ms: float,
    nlu_ms: float,
    timings: Sequence[Dict[str, Any]],
    predict_ms: Optional[float] = None,
    predictions: int = 0,
) -> Dict[str, Any]:
    """Split one turn's time: NLU, action server without its writes, writes, and the remainder.

    With the time of one ``/predict`` call and the number of actions predicted in
    the turn, the remainder is further split into an estimate of the policies'
    share (predictions × one prediction) and the rest.
    """
    webhooks = [t for t in timings if t["kind"] == "webhook"]
    webhook_ms = 1000 * sum(t["seconds"] for t in webhooks)
    db_ms = 1000 * sum(t["seconds"] for t in timings if t["kind"] == "db_save")
    remainder = max(0.0, total_ms - nlu_ms - webhook_ms)
    policies = predict_ms * predictions if predict_ms is not None and predictions else None
    return {
        "total_ms": total_ms,
        "nlu_ms": nlu_ms,
        "actions_ms": max(0.0, webhook_ms - db_ms),
        "db_ms": db_ms,
        "policies_rest_ms": remainder,
        "policies_estimate_ms": policies,
        "predictions": predictions,
        "predict_ms": predict_ms,
        "action_calls": [t.get("action") for t in webhooks],
        "action_request_bytes": sum(t.get("request_bytes") or 0 for t in webhooks),
        "db_writes": sum(1 for t in timings if t["kind"] == "db_save"),
    }


def profile_conversation(rasa_url: str, timings_file: Path, script: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Play one script turn by turn and break each turn's time down."""
    sender = f"profile-{script['name']}-{uuid.uuid4().hex[:8]}"
    offset = timings_file.stat().st_size if timings_file.exists() else 0
    turns = []
    for index, text in enumerate(script["messages"]):
        clock = time.perf_counter()
        status, parsed = http("POST", f"{rasa_url}/model/parse", {"text": text})
        nlu_ms = 1000 * (time.perf_counter() - clock)
        if status != 200:
            raise RuntimeError(f"/model/parse answered {status}: {parsed}")
        predict_ms = None
        if index:  # the conversation exists: a prediction leaves it as it is
            clock = time.perf_counter()
            status, _ = http("POST", f"{rasa_url}/conversations/rest_{sender}/predict")
            predict_ms = 1000 * (time.perf_counter() - clock) if status == 200 else None
        _, offset = _timings_since(timings_file, offset)
        clock = time.perf_counter()
        status, replies = http("POST", f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        total_ms = 1000 * (time.perf_counter() - clock)
        if status != 200:
            raise RuntimeError(f"the REST channel answered {status}: {replies}")
        time.sleep(0.05)  # let the action server finish appending its last timing line
        timings, offset = _timings_since(timings_file, offset)
        status, tracker = http("GET", f"{rasa_url}/conversations/rest_{sender}/tracker")
        predictions = predictions_in_last_turn(tracker.get("events") or []) if status == 200 else 0
        turns.append(
            {
                "language": script["name"],
                "position": index + 1,
                "text": text,
                "intent": (parsed.get("intent") or {}).get("name"),
                **breakdown(total_ms, nlu_ms, timings, predict_ms, predictions),
            }
        )
    return turns


def summary(turns: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Mean and median of each part over the turns, and each part's share of the mean total."""
    if not turns:
        return {}
    result: Dict[str, Any] = {"turns": len(turns)}
    for part in ("total_ms",) + PARTS:
        values = [t[part] for t in turns]
        result[part] = {"mean": sum(values) / len(values), "p50": percentile(values, 50)}
    total = result["total_ms"]["mean"] or 1.0
    result["share"] = {part: result[part]["mean"] / total for part in PARTS}
    estimated = [t for t in turns if t.get("policies_estimate_ms") is not None]
    if estimated:
        result["policies_estimate"] = {
            "turns": len(estimated),
            "predictions_mean": sum(t["predictions"] for t in estimated) / len(estimated),
            "predict_ms_mean": sum(t["predict_ms"] for t in estimated) / len(estimated),
            "policies_ms_mean": sum(t["policies_estimate_ms"] for t in estimated) / len(estimated),
            "remainder_ms_mean": sum(t["policies_rest_ms"] for t in estimated) / len(estimated),
        }
    positions: Dict[int, List[Dict[str, Any]]] = {}
    for turn in turns:
        positions.setdefault(turn["position"], []).append(turn)
    result["policies_rest_by_position"] = {
        str(p): sum(t["policies_rest_ms"] for t in v) / len(v) for p, v in sorted(positions.items())
    }
    result["work_by_position"] = {str(p): work_per_turn(v) for p, v in sorted(positions.items())}
    calls = [t for t in turns if t["action_calls"]]
    if calls:
        result["action_request_kb_mean"] = (
            sum(t["action_request_bytes"] for t in calls) / sum(len(t["action_calls"]) for t in calls) / 1024
        )
        result["action_calls_per_turn"] = sum(len(t["action_calls"]) for t in turns) / len(turns)
    return result


def work_per_turn(turns: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """What turns did, on average: action server calls, kB sent per call, predictions, lead writes.

    Counts and sizes, unlike times, do not depend on what else the machine is doing.
    """
    calls = sum(len(t["action_calls"]) for t in turns)
    return {
        "turns": len(turns),
        "action_calls": calls / len(turns),
        "kb_per_call": sum(t["action_request_bytes"] for t in turns) / calls / 1024 if calls else 0.0,
        "kb_per_turn": sum(t["action_request_bytes"] for t in turns) / len(turns) / 1024,
        "predictions": sum(t["predictions"] for t in turns) / len(turns),
        "db_writes": sum(t["db_writes"] for t in turns) / len(turns),
    }


def example_turn(turns: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """The turn shown in detail: the slowest one that wrote to the database, else the slowest."""
    writing = [t for t in turns if t["db_writes"]]
    return max(writing or turns, key=lambda t: t["total_ms"]) if turns else {}
