"""A conversation's progress, read from Rasa's events: its channel, its language, the question it is at.

One reading for every place that follows conversations: the statistics
consumer applies it to the events RabbitMQ delivers, the leads server's funnel
to the events the SQL tracker store keeps. The question is the form's
``requested_slot``: the one the assistant waits an answer to (``None``: none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

#: Rasa's input channel names, as the lead contract names channels (any other: ``rest``).
CONTRACT_CHANNELS = {"socketio": "web", "slack": "slack", "botframework": "teams", "teams": "teams"}
QUESTION_SLOT = "requested_slot"


def contract_channel(input_channel: Optional[str]) -> str:
    """The contract's channel name for one of Rasa's input channel names."""
    return CONTRACT_CHANNELS.get((input_channel or "rest").lower(), "rest")


def _text(value: Any, limit: int) -> Optional[str]:
    return str(value)[:limit] if value not in (None, "") else None


def changes(event: Mapping[str, Any]) -> Dict[str, Optional[str]]:
    """What one event changes: ``channel`` (a visitor's message), ``language``, or ``question`` (may be ``None``)."""
    kind = event.get("event")
    if kind == "user" and event.get("input_channel"):
        return {"channel": _text(event["input_channel"], 64)}
    if kind == "slot" and event.get("name") == "language" and event.get("value"):
        return {"language": _text(event["value"], 8)}
    if kind == "slot" and event.get("name") == QUESTION_SLOT:
        return {"question": _text(event.get("value"), 64)}
    return {}


@dataclass
class Progress:
    """Where one conversation is: what its events said, in order."""

    channel: Optional[str] = None
    language: Optional[str] = None
    question: Optional[str] = None
    reached: List[str] = field(default_factory=list)
    messages: int = 0
    started: Optional[float] = None

    def apply(self, event: Mapping[str, Any]) -> None:
        """Take one event into account."""
        if event.get("event") == "user":
            self.messages += 1
            stamp = event.get("timestamp")
            if isinstance(stamp, (int, float)) and self.started is None:
                self.started = float(stamp)
        found = changes(event)
        if "channel" in found:
            self.channel = found["channel"]
        if "language" in found:
            self.language = found["language"]
        if "question" in found:
            self.question = found["question"]
            if self.question and self.question not in self.reached:
                self.reached.append(self.question)


def follow(events: Iterable[Mapping[str, Any]]) -> Progress:
    """The progress of a conversation after ``events``."""
    progress = Progress()
    for event in events:
        progress.apply(event)
    return progress
