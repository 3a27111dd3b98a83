"""What a CRM receives: the lead's fields by name, and the mapping file that places them."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

from common import settings
from leads import describe
from leads.facts import lead_title

#: How long a summary may be, whatever a CRM's field allows.
SUMMARY_MAX = 20000


@lru_cache(maxsize=4)
def _load(path: str, stamp: float) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def load(path: Optional[Path] = None) -> Dict[str, Any]:
    """The mapping file (``CRM_MAPPING_FILE`` or ``config/crm.yml``); read again when it changes."""
    path = Path(path or settings.crm_file())
    return _load(str(path), path.stat().st_mtime)


def _names(name: Optional[str]) -> tuple:
    parts = (name or "").split()
    if len(parts) < 2:
        return None, parts[0] if parts else None
    return " ".join(parts[:-1]), parts[-1]


def fields(lead: Mapping[str, Any], language: str, lead_url: Optional[str] = None) -> Dict[str, Any]:
    """Every field a mapping may name, from the lead contract (``None`` when the lead has nothing)."""
    contact = lead.get("contact") or {}
    need = lead.get("need") or {}
    budget = lead.get("budget") or {}
    first, last = _names(contact.get("name"))
    note = describe.note(lead, language)
    return {
        "id": lead.get("id"),
        "url": lead_url,
        "title": lead_title(lead, language),
        "name": contact.get("name"),
        "first_name": first,
        "last_name": last,
        "email": contact.get("email"),
        "phone": contact.get("phone"),
        "company": contact.get("company"),
        "job_title": contact.get("job_title"),
        "need_summary": need.get("summary"),
        "need_category": need.get("category"),
        "interest_level": (lead.get("interest") or {}).get("level"),
        "authority": lead.get("authority"),
        "benefits": ", ".join(lead.get("benefits") or []) or None,
        "current_vendor": lead.get("current_vendor"),
        "timeline": lead.get("timeline"),
        "budget_amount": budget.get("amount"),
        "budget_currency": budget.get("currency"),
        "score": lead.get("score"),
        "status": lead.get("status"),
        "language": lead.get("language"),
        "channel": lead.get("channel"),
        "rep": (lead.get("handoff") or {}).get("rep"),
        "summary": f"{note['title']}\n{note['text']}"[:SUMMARY_MAX],
    }


def _value(rule: Any, known: Mapping[str, Any]) -> Any:
    if isinstance(rule, str):
        rule = {"from": rule}
    if not isinstance(rule, dict):
        raise ValueError(f"a mapping entry must be a field name or a table, not {rule!r}")
    if "value" in rule:
        return rule["value"]
    if rule.get("from") not in known:
        raise ValueError(f"the mapping names an unknown field: {rule.get('from')!r}")
    value = known[rule["from"]]
    if value is None or value == "":
        value = rule.get("default")
    if isinstance(value, str) and rule.get("max"):
        value = value[: int(rule["max"])]
    return value


def section(rules: Optional[Mapping[str, Any]], known: Mapping[str, Any]) -> Dict[str, Any]:
    """One object's properties: each rule applied, empty ones left out."""
    found = {}
    for name, rule in (rules or {}).items():
        value = _value(rule, known)
        if value is not None and value != "":
            found[str(name)] = value
    return found


def payload(crm: str, lead: Mapping[str, Any], lead_url: Optional[str] = None) -> Dict[str, Any]:
    """What one CRM receives about a lead: each object's properties, and the summary."""
    config = load()
    language = config.get("language") or "en"
    known = fields(lead, language, lead_url)
    rules = config.get(crm) or {}
    objects = {name: section(rules.get(name), known) for name in rules if name != "note"}
    return {"objects": objects, "summary": known["summary"], "email": known["email"], "budget": lead.get("budget")}


def digest(data: Mapping[str, Any]) -> str:
    """A fingerprint of a payload: an unchanged lead is not sent again."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
