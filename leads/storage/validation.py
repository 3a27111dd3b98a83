"""Checks a lead write before it goes anywhere near the database: types and sizes, or a clear reason.

A write that fails here is refused for good (it goes to ``outbox/rejected/``
with the reason): it can never be mistaken for the database being down, nor
hold back the writes behind it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

MAX_TEXT = 20_000
MAX_ITEMS = 200
MAX_TRANSCRIPT = 2_000
TEXT_FIELDS = ("channel", "language", "authority", "current_vendor", "timeline", "disqualify", "referred_by")
FLAGS = ("consent", "confirmed", "finished", "existing_customer")
CONTACT = ("name", "email", "phone", "company", "job_title")
PERSON = ("name", "role", "stance", "concern", "email", "company", "note")


class InvalidLead(ValueError):
    """A lead write with a value of the wrong type or size."""


def _text(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidLead(f"{where} must be text, not {type(value).__name__}.")
    if len(value) > MAX_TEXT:
        raise InvalidLead(f"{where} is longer than {MAX_TEXT} characters.")


def _mapping(value: Any, where: str, keys: Iterable[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidLead(f"{where} must be an object, not {type(value).__name__}.")
    for key in keys:
        _text(value.get(key), f"{where}.{key}")


def _items(value: Any, where: str, limit: int = MAX_ITEMS) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidLead(f"{where} must be a list, not {type(value).__name__}.")
    if len(value) > limit:
        raise InvalidLead(f"{where} has more than {limit} entries.")
    return value


def check_record(record: Any) -> None:
    """Raise ``InvalidLead`` unless ``record`` has the contract's types and sane sizes."""
    if not isinstance(record, dict):
        raise InvalidLead("The lead must be an object.")
    conversation = record.get("conversation_id")
    if not isinstance(conversation, str) or not conversation.strip() or len(conversation) > 128:
        raise InvalidLead("conversation_id must be text of 1 to 128 characters.")
    for key in TEXT_FIELDS:
        _text(record.get(key), key)
    for key in FLAGS:
        if record.get(key) is not None and not isinstance(record.get(key), bool):
            raise InvalidLead(f"{key} must be true or false.")
    _mapping(record.get("contact"), "contact", CONTACT)
    _mapping(record.get("need"), "need", ("summary", "category"))
    _mapping(record.get("interest"), "interest", ("level",))
    for index, signal in enumerate(_items((record.get("interest") or {}).get("signals"), "interest.signals")):
        _text(signal, f"interest.signals[{index}]")
    for index, benefit in enumerate(_items(record.get("benefits"), "benefits")):
        _text(benefit, f"benefits[{index}]")
    for index, person in enumerate(_items(record.get("stakeholders"), "stakeholders")):
        _mapping(person, f"stakeholders[{index}]", PERSON)
    budget = record.get("budget")
    if budget is not None:
        _mapping(budget, "budget", ("currency",))
        amount = budget.get("amount")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float))):
            raise InvalidLead("budget.amount must be a number.")


def check_entry(
    record: Any, transcript: Optional[List[Any]], referrals: Optional[List[Any]], referred_by: Any = None
) -> None:
    """Check a whole write: the record, its transcript and referrals."""
    check_record(record)
    _text(referred_by, "referred_by")
    for index, line in enumerate(_items(transcript, "transcript", MAX_TRANSCRIPT)):
        _mapping(line, f"transcript[{index}]", ("sender", "text", "at"))
    for index, person in enumerate(_items(referrals, "referrals")):
        _mapping(person, f"referrals[{index}]", PERSON)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value == "unknown"


def merge(stored: Dict[str, Any], record: Dict[str, Any]) -> Dict[str, Any]:
    """``record`` with every empty value taken from ``stored``: a stored value is never replaced by an empty one."""
    merged = dict(record)
    for key, old in stored.items():
        new = record.get(key)
        if isinstance(old, dict) and (isinstance(new, dict) or new is None):
            merged[key] = {**old, **{k: v for k, v in (new or {}).items() if not _empty(v)}} if new else old
        elif isinstance(old, bool):
            merged[key] = bool(new) or old
        elif _empty(new) and not _empty(old):
            merged[key] = old
    return merged
