"""Words instead of codes, in the rep's language: labels, dates and durations for reps.

The texts are in ``config/rep_labels.yml``; need categories and benefits take
their labels from ``config/catalog.yml``, the same the visitor sees.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from common import settings
from common.languages import DEFAULT_LANGUAGE, LANGUAGES, language_of

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "pl": ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"),
}


@lru_cache(maxsize=4)
def _load(folder: str) -> Dict[str, Dict[str, Any]]:
    with open(Path(folder) / "rep_labels.yml", encoding="utf-8") as handle:
        labels = yaml.safe_load(handle) or {}
    with open(Path(folder) / "catalog.yml", encoding="utf-8") as handle:
        catalog = yaml.safe_load(handle) or {}
    labels["category"] = {c["id"]: c.get("label") or {} for c in catalog.get("categories") or [] if c.get("id")}
    labels["benefit"] = {k: (v or {}).get("label") or {} for k, v in (catalog.get("benefits") or {}).items()}
    return labels


def labels() -> Dict[str, Dict[str, Any]]:
    """Every label group, read once per configuration folder."""
    return _load(str(settings.config_dir()))


def text(group: str, key: Optional[str], language: Optional[str], **values: Any) -> str:
    """The label ``group.key`` in ``language`` (English when missing), with ``{placeholders}`` filled.

    An unknown key (a code the configuration does not name) is shown as words:
    underscores become spaces.
    """
    if not key:
        return ""
    entry = (labels().get(group) or {}).get(key)
    if not isinstance(entry, dict):
        return str(key).replace("_", " ")
    template = entry.get(language_of(language)) or entry.get(DEFAULT_LANGUAGE) or str(key)
    return template.format(**values) if values else template


def words(group: str, keys: Any, language: Optional[str], empty: str = "—") -> str:
    """Several codes as a comma-separated list of labels."""
    found = [text(group, k, language) for k in keys or [] if k]
    return ", ".join(found) or empty


def rep_language(rep: Optional[Mapping[str, Any]]) -> str:
    """The language a rep reads: ``language`` in the reps file, else the first of ``languages``."""
    rep = rep or {}
    spoken = rep.get("languages") or []
    return language_of(rep.get("language") or (spoken[0] if spoken else DEFAULT_LANGUAGE))


def browser_language(header: Optional[str], chosen: Optional[str] = None) -> str:
    """The page's language: ``chosen`` (``?lang=``) if supported, else the best of ``Accept-Language``."""
    if chosen in LANGUAGES:
        return str(chosen)
    ranked = []
    for position, part in enumerate((header or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, position, tag.strip().lower()[:2]))
    for _, _, code in sorted(ranked):
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def zone(name: Optional[str]) -> ZoneInfo:
    """A time zone by name; UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_time(value: Any) -> Optional[datetime]:
    """An aware datetime from a datetime or an ISO 8601 string (UTC when naive)."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_time(moment: Any, language: Optional[str], tz: Optional[str] = None) -> str:
    """``30 Nov 10:42`` (``30 nov. 10:42``, ``30 lis 10:42``) in the time zone ``tz``."""
    when = parse_time(moment)
    if when is None:
        return "—"
    local = when.astimezone(zone(tz))
    month = MONTHS[language_of(language)][local.month - 1]
    return f"{local.day} {month} {local:%H:%M}"


def format_duration(seconds: float, language: Optional[str]) -> str:
    """A duration a person reads at a glance: ``45 min``, ``3 h 20 min``, ``2 d 4 h``."""
    minutes = max(0, int(abs(seconds) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return text("time", "one_day" if days == 1 else "days", language, d=days, h=hours)
    if hours:
        return text("time", "hours", language, h=hours, m=mins)
    return text("time", "minutes", language, m=mins)


def colon(language: Optional[str]) -> str:
    """``": "``, or ``" : "`` in French."""
    return "\u00a0: " if language_of(language) == "fr" else ": "
